"""Regenerate ``cases.json`` and ``scope.csv`` from Derive's published PMRM_2 portfolio cases.

Usage::

    python tests/margin/derive_cases/regenerate.py \
        PATH/v2-core/test/risk-managers/unit-tests/PMRM_2/portfolio_cases

The 139 ``test_*.json`` files of derivexyz/v2-core (added in PR #362, 57cdd00b; unchanged at
7736900d) are read by ``TestPMRM_2_PortfolioCasesNEW.t.sol``. This keeps, for each case, only the
inputs that test reads and the results it checks (plus ``PortfolioMTM``), under the original file
name, and sorts every case into a scope for pmargin:

* ``held``: pmargin's book and market express every input; every figure is compared.
* ``collateral_mapped``: the case holds collateral other than its market's own coin (stable
  coins, wrapped or liquid-staking tokens, another coin), which a pmargin book cannot hold (its
  cash is USD at par, its coins are the underlyings'). Risk-cancelling collateral is held as the
  market's coin of the same value (its P&L in PMRM_2 is value × spot move, the same); the
  haircut term of the other collateral (value × haircut, additive in PMRM_2) is taken out of the
  expected margins.
* ``no_initial``: an oracle confidence is below the threshold, so the initial margin includes
  PMRM_2's confidence contingency, which pmargin does not model (a market snapshot has no feed
  confidences). Scenario P&L and maintenance margin (which that contingency does not touch) are
  compared; the initial margin is not.
* ``out``: not comparable (reason given).
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCENARIO_KEYS = ("NumPerps", "PerpPrice", "SpotPrice", "StablePrice", "Cash")


def _number(value) -> float:
    return float(value)


def confidence_contingency_applies(case: dict) -> bool:
    """True where PMRMLib_2 would charge an oracle-confidence contingency (PMRM_2 arrangement:
    perp and spot confidence for the perp, forward/rate/vol for each expiry, and each
    collateral's own with the spot's)."""
    scenario, other = case["Scenario"], case["Parameters"]["OtherContingency"]
    threshold, margin = _number(other["CONF_THRESHOLD"]), _number(other["CONF_MARGIN"])
    if margin == 0:
        return False
    spot = _number(scenario["SpotConfidence"])
    least = spot
    perps = _number(scenario["NumPerps"])
    if perps != 0:
        least = min(least, _number(scenario["PerpConfidence"]))
        if least < threshold:
            return True
    feeds = {int(f["FeedExpiry"]): f for f in scenario["OptionFeeds"]}
    for expiry in {int(o["Expiry"]) for o in scenario["Options"]}:
        feed = feeds[expiry]
        confidences = (
            feed["ForwardConfidence"],
            feed["RateConfidence"],
            feed["OptionVolConfidences"],
        )
        if min(least, *map(_number, confidences)) < threshold:
            return True
    return any(
        min(_number(c["Confidence"]), spot) < threshold and _number(c["Amount"]) != 0
        for c in scenario["Collaterals"]
    )


def scope(case: dict) -> tuple[str, str]:
    scenario = case["Parameters"]["Scenarios"]
    if any(
        s["VolShockDirection"] in ("LINEAR", "ABS") and _number(s["SpotShock"]) != 1
        for s in scenario
    ):
        return "out", (
            "a skew scenario with a spot shock, which PMRM_2.setScenarios refuses "
            "(PMRM_2_InvalidScenarios); the Solidity test is commented out"
        )
    inputs = case["Scenario"]
    if any(int(o["Expiry"]) == 0 for o in inputs["Options"]):
        return "out", (
            "an option at its expiry instant: pmargin refuses a contract at or after expiry "
            "(bind: 'expired at ...'); PMRM_2 keeps it at intrinsic value until settled"
        )
    spot = _number(inputs["SpotPrice"])
    foreign = sorted({c["Name"] for c in inputs["Collaterals"] if _number(c["Price"]) != spot})
    if confidence_contingency_applies(case):
        note = f"; foreign collateral {', '.join(foreign)} mapped" if foreign else ""
        return "no_initial", "an oracle confidence below CONF_THRESHOLD" + note
    if foreign:
        return "collateral_mapped", f"foreign collateral {', '.join(foreign)}"
    return "held", ""


def compact(case: dict) -> dict:
    """The inputs the Solidity harness reads and the results it checks, in case units."""
    inputs, result = case["Scenario"], case["Result"]
    parameters = {k: v for k, v in case["Parameters"].items() if k != "Scenarios"}
    parameters["Scenarios"] = [
        [_number(s["SpotShock"]), s["VolShockDirection"], _number(s["DampeningFactor"])]
        for s in case["Parameters"]["Scenarios"]
    ]
    losses = [row[2] for row in result["reg_losses"] + result["tail_losses"]]
    losses += [row[1] for row in result["skew_losses"]]
    return {
        "parameters": parameters,
        **{key: _number(inputs[key]) for key in SCENARIO_KEYS},
        "options": [
            [int(o["Expiry"]), _number(o["Strike"]), int(o["IsCall"]), _number(o["Amount"])]
            for o in inputs["Options"]
        ],
        "feeds": [
            [
                int(f["FeedExpiry"]),
                _number(f["Forward"]),
                _number(f["Rate"]),
                [_number(x) for x in f["SVIparam"]],
            ]
            for f in inputs["OptionFeeds"]
        ],
        "collaterals": [
            [
                c["Name"],
                _number(c["Amount"]),
                _number(c["Price"]),
                bool(c["IsRiskCancelling"]),
                _number(c["MMHaircut"]),
                _number(c["IMHaircut"]),
            ]
            for c in inputs["Collaterals"]
        ],
        "expected": {
            "scenario_pnl": [_number(x) for x in losses],
            "IM": _number(result["IM"]),
            "MM": _number(result["MM"]),
            "PortfolioMTM": _number(result["PortfolioMTM"]),
        },
    }


def overrides(parameters: dict, defaults: dict) -> dict:
    """The parameters that differ from ``defaults`` (per section, per key)."""
    changed = {}
    for section, values in parameters.items():
        if not isinstance(values, dict):
            if values != defaults[section]:
                changed[section] = values
            continue
        diff = {k: v for k, v in values.items() if defaults[section].get(k) != v}
        if diff:
            changed[section] = diff
    return changed


def main(folder: str) -> None:
    paths = sorted(Path(folder).glob("test_*.json"), key=lambda p: int(p.stem.split("_")[1]))
    if len(paths) != 139:
        raise SystemExit(f"expected the 139 published cases in {folder}, found {len(paths)}")
    data = {"default_parameters": None, "portfolios": {}, "cases": {}}
    portfolio_of: dict[str, str] = {}
    rows = []
    for path in paths:
        case = json.loads(path.read_text(encoding="utf-8"))
        kind, reason = scope(case)
        rows.append({"file": path.name, "scope": kind, "reason": reason})
        if kind == "out":
            continue
        entry = compact(case)
        parameters, expected = entry.pop("parameters"), entry.pop("expected")
        if data["default_parameters"] is None:  # test_1: the cases' default parameters
            data["default_parameters"] = parameters
        key = json.dumps(entry, sort_keys=True)
        if key not in portfolio_of:
            portfolio_of[key] = path.stem
            data["portfolios"][path.stem] = entry
        data["cases"][path.name] = {
            "scope": kind,
            "portfolio": portfolio_of[key],
            "parameters": overrides(parameters, data["default_parameters"]),
            "expected": expected,
        }
    (HERE / "cases.json").write_text(json.dumps(data, separators=(",", ":")) + "\n")
    with open(HERE / "scope.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["file", "scope", "reason"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
