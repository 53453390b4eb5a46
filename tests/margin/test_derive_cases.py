"""The derive model against Derive's published PMRM_2 portfolio cases (derivexyz/v2-core).

``derive_cases/cases.json`` holds the 137 comparable cases of the 139 (regenerated from the
originals by ``derive_cases/regenerate.py``; ``derive_cases/scope.csv`` gives every case's scope
and reason). Each case is written as a pmargin market and portfolio (YAML, read by the loaders),
bound, and margined by the bundled derive model with the case's parameters. Every scenario's
P&L, the initial and the maintenance requirement are compared to 1e-6 relative (1e-8 absolute
where the expected value is below 1e-10, as the Solidity test does).

PMRM_2 returns margin *surplus*: ``IM = factor·worst − contingencies + MtM + cash``; the expected
requirement is therefore ``PortfolioMTM − IM`` (and ``PortfolioMTM − MM``).

How a case becomes a pmargin book and market (all from the case's own inputs):

* ``as_of`` = the harness's REF_TIME; each option expires ``Expiry`` seconds later;
* the market's coin (called ETH here) has the case's spot, the forward and rate of each expiry
  (``forwards:``, ``rates:``), the perpetual's price (``perpetual_price:``) and a smile whose
  points are the case's SVI vols at each option's strike (lyra-utils SVI: log-moneyness clamped
  at ±4·√(a + b·σ), vol = √(w/τ));
* options and the perpetual are linear positions; risk-cancelling collateral is held as the
  market's coin of the same value (the base asset), with the value-weighted haircuts of those
  collaterals; other collateral is not held, and its haircut term (value × haircut, in
  maintenance and initial contingencies) is taken out of the expected requirements;
* ``no_initial`` cases (an oracle confidence below the threshold) compare scenario P&L and
  maintenance only: their initial margin includes a confidence contingency pmargin lacks.
"""

from __future__ import annotations

import copy
import json
import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
import yaml

from pmargin import load_market, load_portfolio
from pmargin.book import bind
from pmargin.errors import ProblemCollector
from pmargin.margin import derive

HERE = Path(__file__).resolve().parent
DATA = json.loads((HERE / "derive_cases" / "cases.json").read_text(encoding="utf-8"))
BUNDLED = Path(derive.__file__).resolve().parents[1] / "models" / "derive.yaml"
REF_TIME = datetime.fromtimestamp(1_630_000_000, tz=timezone.utc)
COIN = "ETH"


def _merged_parameters(overrides: dict) -> dict:
    parameters = copy.deepcopy(DATA["default_parameters"])
    for section, values in overrides.items():
        if isinstance(values, dict):
            parameters[section].update(values)
        else:
            parameters[section] = values
    return parameters


def _svi_vol(strike: float, a, b, rho, m, sigma, forward, tau) -> float:
    """lyra-utils SVI.getVol in floating point."""
    bound = 4.0 * math.sqrt(a + b * sigma)
    k = min(max(math.log(strike / forward), -bound), bound)
    w = a + b * (math.sqrt((k - m) ** 2 + sigma**2) + rho * (k - m))
    return math.sqrt(min(w, 144.0) / tau)


def _instant(seconds: int) -> str:
    return (REF_TIME + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def model_document(parameters: dict, case: dict, haircuts: tuple[float, float] | None) -> dict:
    """The bundled derive.yaml with the case's parameters (PMRM_2 names -> pmargin keys)."""
    document = yaml.safe_load(BUNDLED.read_text(encoding="utf-8"))
    vol, margin = parameters["VolShock"], parameters["Margin"]
    basis, other = parameters["BasisContingency"], parameters["OtherContingency"]
    skew = parameters["SkewShock"]
    f = float
    document["vol_shock"] = {
        "range_up": f(vol["VOLRANGEUP"]),
        "range_down": f(vol["VOLRANGEDOWN"]),
        "short_term_power": f(vol["SHORTTERMPOWER"]),
        "long_term_power": f(vol["LONGTERMPOWER"]),
        "dte_floor_days": f(vol["DTE_FLOOR"]),
        "min_vol_up": f(vol["MIN_VOL_EVAL_SHOCKED"]),
    }
    document["margin"] = {
        "initial_factor": f(margin["IM_LOSS_FACTOR"]),
        "maintenance_factor": f(margin["MM_LOSS_FACTOR"]),
    }
    document["static_discount"] = {
        "long_base": f(margin["BASE_STATIC_DISCOUNT"]),
        "long_rate_scale": f(margin["LONG_RATE_MULTSCALE"]),
        "long_rate_add": f(margin["LONG_RATE_ADDSCALE"]),
        "short_base": f(margin["BASE_STATIC_DISCOUNT_NEG"]),
        "short_rate_scale": f(margin["SHORT_RATE_MULTSCALE"]),
        "short_rate_add": f(margin["SHORT_RATE_ADDSCALE"]),
    }
    document["basis_contingency"] = {
        "spot_up": f(basis["SCENARIO_SPOT_UP"]) - 1.0,
        "spot_down": f(basis["SCENARIO_SPOT_DOWN"]) - 1.0,
        "add_factor": f(basis["BASIS_CONT_ADD_FACTOR"]),
        "mult_factor": f(basis["BASIS_CONT_MULT_FACTOR"]),
    }
    document["contingencies"] = {
        "perp_maintenance": f(other["MM_PERP_PERCENT"]),
        "perp_initial": f(other["IM_PERP_PERCENT"]),
        "option_maintenance": f(other["MM_OPTION_PERCENT"]),
        "option_initial": f(other["IM_OPTION_PERCENT"]),
        "peg_loss_threshold": f(other["PEG_LOSS_THRESHOLD"]),
        "peg_loss_factor": f(other["PEG_LOSS_FACTOR"]),
    }
    document["skew_shock"] = {
        "linear_base_cap": f(skew["LINEAR_SCALE_CAP"]),
        "abs_base_cap": f(skew["ABS_SCALE_CAP"]),
        "linear_c_base": f(skew["LINEAR_CBASE"]),
        "abs_c_base": f(skew["ABS_CBASE"]),
        "min_k_star": f(skew["MIN_K_STAR"]),
        "width_scale": f(skew["MIN_WIDTH_SCALE"]),
        "vol_param_static": f(skew["VOL_PARAM_STATIC"]),
        "vol_param_scale": f(skew["VOL_PARAM_SCALE"]),
    }
    if haircuts is not None:
        document["base_collateral"] = {
            "risk_cancelling": True,
            "maintenance_haircut": haircuts[0],
            "initial_haircut": haircuts[1],
        }
    document["stable_price"] = case["StablePrice"]
    document["scenarios"] = [
        {"spot": shock - 1.0, "vol": direction.lower(), "dampening": dampening}
        for shock, direction, dampening in parameters["Scenarios"]
    ]
    return document


def market_yaml(case: dict) -> dict:
    feeds = {expiry: (forward, rate, svi) for expiry, forward, rate, svi in case["feeds"]}
    smile: dict[str, dict[float, float]] = {}
    for expiry, strike, _, _ in case["options"]:
        svi = feeds[expiry][2]
        smile.setdefault(_instant(expiry), {})[strike] = _svi_vol(strike, *svi)
    coin: dict = {"spot": case["SpotPrice"]}
    expiries = sorted({o[0] for o in case["options"]})
    if expiries:
        coin["forwards"] = {_instant(e): feeds[e][0] for e in expiries}
        coin["smile"] = smile
    if case["NumPerps"] != 0:
        coin["perpetual_price"] = case["PerpPrice"]
    return {
        "as_of": _instant(0),
        "rate": 0.0,
        "rates": {_instant(e): feeds[e][1] for e in expiries},
        "underlyings": {COIN: coin},
    }


def portfolio_yaml(case: dict) -> tuple[dict, tuple[float, float] | None, float, float]:
    """The book; the base collateral's haircuts; the haircut terms (maintenance, initial) of the
    collateral the book does not hold."""
    positions = [
        {
            "underlying": COIN,
            "kind": "option",
            "expiry": _instant(expiry),
            "strike": strike,
            "right": "call" if is_call else "put",
            "quantity": amount,
        }
        for expiry, strike, is_call, amount in case["options"]
    ]
    if case["NumPerps"] != 0:
        positions.append({"underlying": COIN, "kind": "perpetual", "quantity": case["NumPerps"]})
    spot, stable = case["SpotPrice"], case["StablePrice"]
    held_value = held_mm = held_im = 0.0
    other_mm = other_im = 0.0
    for _, amount, price, cancelling, mm, im in case["collaterals"]:
        value = amount * price / stable
        if cancelling:
            held_value, held_mm, held_im = (
                held_value + value,
                held_mm + value * mm,
                held_im + value * im,
            )
        else:
            other_mm, other_im = other_mm + value * mm, other_im + value * im
    collateral = {}  # cash is equity, not requirement (and may be negative: a borrow)
    haircuts = None
    if held_value:
        collateral[COIN] = held_value * stable / spot
        haircuts = (held_mm / held_value, held_im / held_value)
    return {"positions": positions, "collateral": collateral}, haircuts, other_mm, other_im


def close(actual: float, expected: float) -> bool:
    if abs(expected) < 1e-10:
        return abs(actual - expected) <= 1e-8
    return abs(actual - expected) <= 1e-6 * abs(expected)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("derive_cases")


def evaluate(folder: Path, name: str):
    entry = DATA["cases"][name]
    case = DATA["portfolios"][entry["portfolio"]]
    book_document, haircuts, other_mm, other_im = portfolio_yaml(case)
    stem = Path(name).stem
    market_path = folder / f"{stem}.market.yaml"
    book_path = folder / f"{stem}.book.yaml"
    market_path.write_text(yaml.safe_dump(market_yaml(case)), encoding="utf-8")
    book_path.write_text(yaml.safe_dump(book_document), encoding="utf-8")
    problems = ProblemCollector()
    parameters = _merged_parameters(entry["parameters"])
    model = derive.build(model_document(parameters, case, haircuts), name, problems)
    problems.raise_if_any()
    book = bind(load_portfolio(book_path), load_market(market_path))
    expected = dict(entry["expected"])
    expected["initial"] = expected["PortfolioMTM"] - expected["IM"] - other_mm - other_im
    expected["maintenance"] = expected["PortfolioMTM"] - expected["MM"] - other_mm
    return model, book, expected, entry["scope"]


@pytest.mark.parametrize("name", list(DATA["cases"]))
def test_published_case(folder, name):
    model, book, expected, scope = evaluate(folder, name)
    risk = model.evaluate(book)
    requirement = model.requirement(book)
    assert set(risk.underlyings) <= {COIN}  # a cash-only case has none
    pnl = risk.scenario_pnl.sum(axis=0)
    wanted = expected["scenario_pnl"]
    assert len(pnl) == len(wanted)
    bad = [(i, a, e) for i, (a, e) in enumerate(zip(pnl, wanted)) if not close(a, e)]
    assert not bad, f"scenario P&L off (index, pmargin, expected): {bad}"
    loss = max(-min(wanted), 0.0)
    assert requirement.components["scenario_loss"] == pytest.approx(loss, rel=1e-6, abs=1e-8)
    assert close(requirement.maintenance, expected["maintenance"]), (
        requirement.maintenance,
        expected["maintenance"],
    )
    if scope != "no_initial":
        assert close(requirement.initial, expected["initial"]), (
            requirement.initial,
            expected["initial"],
        )


def test_scope_counts():
    scopes = [
        row.split(",")[1]
        for row in (HERE / "derive_cases" / "scope.csv").read_text().split("\n")[1:]
        if row
    ]
    counts = {s: scopes.count(s) for s in set(scopes)}
    assert len(scopes) == 139
    assert counts == {"held": 37, "collateral_mapped": 81, "no_initial": 19, "out": 2}
    assert len(DATA["cases"]) == 137
    assert np.all([DATA["cases"][n]["scope"] != "out" for n in DATA["cases"]])
