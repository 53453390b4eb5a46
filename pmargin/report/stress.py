"""The ``stress`` report (SPEC §4) and the scenario library listing, as plain data.

``stress_dict`` is what ``pmargin stress --format json`` prints::

    {"scenario_sets": [{"name", "kind", "description", "source", "count",
                        "var_95", "var_99", "es_95", "es_99",     # null unless historical/MC
                        "correlation_stress", "unstressed": {"var_95", ...},  # stressed MC only
                        "worst": {"name", "pnl"}, "warnings": [...],
                        "liquidation_count",                      # null without collateral
                        "grid": {"spot", "vol", "vol_kind", "pnl"}}],   # grid sets only
     "scenarios": [{"set", "name", "pnl", "by_underlying": {"BTC": ...},
                    "shocks": {"BTC": {"spot", "vol", "vol_shift"}},
                    "equity", "liquidation"}],                    # null without collateral
     "worst": {"set", "name", "pnl"},
     "equity", "maintenance_margin", "model",                     # null without collateral
     "positions": [{"id", "account", "instrument", "underlying", "quantity", "pnl"}]}
                                                        # "positions" only with --by position

Scenarios come set by set, each set's sorted worst first (all of them, or the ``top`` N).
``grid.pnl`` is the spot × vol heatmap: one row per vol move, one column per spot move.
``positions`` is the P&L of every position in the worst scenario over all sets, worst first.
``unstressed`` holds a Monte Carlo set's VaR and ES without its ``correlation_stress`` (the same
draws with the market's correlations), so the difference is what correlation contributed.
Money is USD; P&L = shocked − base value (a loss is negative); VaR and ES are positive losses.
With collateral, ``equity`` is equity before + P&L (summed over the accounts that state
collateral), ``liquidation`` is true where an account's equity falls below its maintenance
margin under ``model`` at the market as it stands, ``liquidation_count`` counts such scenarios
in a set, and the top-level ``equity`` and ``maintenance_margin`` are before any scenario.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..stress import SetResult, StressResult
from . import clean, markdown_table, percent

#: table and markdown show every scenario of a set up to this many, else the DEFAULT_SHOWN worst
SHOW_ALL_UP_TO = 30
DEFAULT_SHOWN = 20
SHOCK_KINDS = ("spot", "vol", "vol_shift")
RISK_KEYS = ("var_95", "var_99", "es_95", "es_99")


def stress_dict(
    result: StressResult, *, top: int | None = None, by_position: bool = False
) -> dict[str, Any]:
    """The ``stress`` JSON object of SPEC §4 for ``result``."""
    underlyings = list(result.underlyings)
    worst_set, worst_index = result.worst()
    data: dict[str, Any] = {
        "scenario_sets": [_set_dict(s) for s in result.sets],
        "scenarios": [row for s in result.sets for row in _scenario_rows(s, underlyings, top)],
        "worst": {
            "set": worst_set.name,
            "name": worst_set.names[worst_index],
            "pnl": float(worst_set.pnl[worst_index]),
        },
    }
    before = worst_set.account_equity
    data["equity"] = None if before is None else float(before.equity.sum())
    data["maintenance_margin"] = None if before is None else float(before.maintenance_margin.sum())
    data["model"] = None if before is None else before.model
    if by_position:
        data["positions"] = _position_rows(worst_set, worst_index)
    return clean(data)


def _set_dict(result: SetResult) -> dict[str, Any]:
    source = result.scenario_set
    index = result.worst_index
    tail = result.tail_risk
    entry: dict[str, Any] = {
        "name": result.name,
        "kind": getattr(source, "kind", ""),
        "description": getattr(source, "description", ""),
        "source": getattr(source, "source", ""),
        "count": len(result.names),
        **(tail.as_dict() if tail is not None else dict.fromkeys(RISK_KEYS)),
        "worst": {"name": result.names[index], "pnl": float(result.pnl[index])},
        "warnings": list(result.warnings),
        "liquidation_count": None
        if result.in_liquidation is None
        else int(result.in_liquidation.sum()),
    }
    if result.unstressed is not None:
        entry["correlation_stress"] = source.correlation_stress
        entry["unstressed"] = result.unstressed.as_dict()
    grid = getattr(source, "grid", None)
    if grid is not None and len(grid.spot) * len(grid.vol) == len(result.names):
        entry["grid"] = {
            "spot": list(grid.spot),
            "vol": list(grid.vol),
            "vol_kind": grid.vol_kind,
            # scenarios are spot-major: index = i_spot · n_vol + i_vol
            "pnl": result.pnl.reshape(len(grid.spot), len(grid.vol)).T.tolist(),
        }
    return entry


def _scenario_rows(result: SetResult, underlyings: list[str], top: int | None) -> list[dict]:
    order = np.argsort(result.pnl, kind="stable")[:top]
    shocks = result.valuation.shocks
    by_underlying = result.by_underlying[:, order].T.tolist()
    moves = {k: getattr(shocks, k)[:, order].T.tolist() for k in SHOCK_KINDS}
    pnl = result.pnl[order].tolist()
    equity = [None] * len(order) if result.equity is None else result.equity[order].tolist()
    flags = [None] * len(order) if result.in_liquidation is None else result.in_liquidation[order]
    rows = []
    for row, index in enumerate(order):
        rows.append(
            {
                "set": result.name,
                "name": result.names[index],
                "pnl": pnl[row],
                "by_underlying": dict(zip(underlyings, by_underlying[row])),
                "shocks": {
                    u: {k: moves[k][row][u_index] for k in SHOCK_KINDS}
                    for u_index, u in enumerate(underlyings)
                },
                "equity": equity[row],
                "liquidation": None if flags[row] is None else bool(flags[row]),
            }
        )
    return rows


def _position_rows(result: SetResult, index: int) -> list[dict[str, Any]]:
    book = result.valuation.book
    pnl = result.position_pnl(index)
    order = np.argsort(pnl, kind="stable")
    positions = book.positions.iloc[order]
    underlying = book.underlying_of_positions()[order]
    return [
        {
            "id": str(pid),
            "account": str(account),
            "instrument": str(instrument),
            "underlying": str(u),
            "quantity": float(quantity),
            "pnl": float(p),
        }
        for pid, account, instrument, u, quantity, p in zip(
            positions["id"],
            positions["account"],
            positions["instrument"],
            underlying,
            book.quantity[order],
            pnl[order],
        )
    ]


def stress_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """CSV rows: the positions with ``--by position``, else the scenarios, flattened."""
    if "positions" in data:
        return data["positions"]
    rows = []
    for s in data["scenarios"]:
        row = {"set": s["set"], "name": s["name"], "pnl": s["pnl"]}
        if s["equity"] is not None:
            row.update(equity=s["equity"], liquidation=s["liquidation"])
        row.update({f"pnl_{u}": v for u, v in s["by_underlying"].items()})
        for u, shocks in s["shocks"].items():
            row.update({f"{k}_{u}": v for k, v in shocks.items()})
        rows.append(row)
    return rows


def stress_summary(data: dict[str, Any]) -> dict[str, Any]:
    """The worst scenario over every set, and each sampled set's 99% VaR and ES; with
    collateral, equity and maintenance margin before any scenario and, per set, how many
    scenarios force a liquidation."""
    worst = data["worst"]
    summary: dict[str, Any] = {
        "worst_set": worst["set"],
        "worst_scenario": worst["name"],
        "worst_pnl": worst["pnl"],
    }
    if data.get("equity") is not None:
        summary["equity"] = data["equity"]
        summary["maintenance_margin"] = data["maintenance_margin"]
    for entry in data["scenario_sets"]:
        for key in ("var_99", "es_99", "liquidation_count"):
            if entry.get(key) is not None:
                summary[f"{entry['name']}.{key}"] = entry[key]
    return summary


def tidy(value: float) -> float:
    """``value`` with rounding noise under half a cent shown as 0 (no "-0.00" in tables)."""
    return 0.0 if abs(value) < 0.005 else value


def shown(rows: list[dict[str, Any]], top: int | None) -> list[dict[str, Any]]:
    """The rows a table shows: all (or ``top``), or the DEFAULT_SHOWN worst of a long set."""
    if top is not None or len(rows) <= SHOW_ALL_UP_TO:
        return rows
    return rows[:DEFAULT_SHOWN]


def set_rows(data: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [s for s in data["scenarios"] if s["set"] == name]


def risk_line(entry: dict[str, Any]) -> str | None:
    """``"VaR 95% 1,234 · ES 95% ... USD"`` for sets that have VaR/ES, else None."""
    if entry.get("var_95") is None:
        return None
    line = (
        f"VaR 95% {entry['var_95']:,.0f} · ES 95% {entry['es_95']:,.0f} · "
        f"VaR 99% {entry['var_99']:,.0f} · ES 99% {entry['es_99']:,.0f} USD "
        f"(losses, over {entry['count']:,} scenarios)"
    )
    plain = entry.get("unstressed")
    if plain is None:
        return line
    share = entry["es_99"] - plain["es_99"]
    return (
        f"{line}\nwithout the correlation stress ({entry['correlation_stress']:g}): "
        f"VaR 95% {plain['var_95']:,.0f} · ES 95% {plain['es_95']:,.0f} · "
        f"VaR 99% {plain['var_99']:,.0f} · ES 99% {plain['es_99']:,.0f} USD; "
        f"correlation adds {share:+,.0f} USD to ES 99%"
    )


def liquidation_line(entry: dict[str, Any], data: dict[str, Any]) -> str | None:
    """``"2 of 6 scenarios put an account in liquidation (...)"``, or None without collateral."""
    count = entry.get("liquidation_count")
    if count is None:
        return None
    return (
        f"{count} of {entry['count']:,} scenarios put an account in liquidation (equity before "
        f"{data['equity']:,.0f} USD; maintenance margin {data['maintenance_margin']:,.0f} USD "
        f"under {data['model']}, not re-run per scenario)"
    )


def liquidation_text(scenario: dict[str, Any]) -> str:
    return "liquidation" if scenario.get("liquidation") else ""


def move_text(value: float, kind: str) -> str:
    """``-0.3`` spot -> ``-30%``; a vol_shift of 0.1 -> ``+10 pts``."""
    if kind == "vol_shift":
        return percent(value).replace("%", " pts") if value else "0"
    return percent(value)


def stress_markdown(data: dict[str, Any], top: int | None = None) -> str:
    underlyings = list(data["scenarios"][0]["by_underlying"]) if data["scenarios"] else []
    parts = ["# Stress test\n"]
    for entry in data["scenario_sets"]:
        parts.append(f"\n## {entry['name']} ({entry['kind']}, {entry['count']:,} scenarios)\n")
        if entry["description"]:
            parts.append(f"\n{entry['description']}\n")
        line = risk_line(entry)
        if line:
            parts.append(f"\n{line}\n")
        rows = set_rows(data, entry["name"])
        visible = shown(rows, top)
        if len(visible) < entry["count"]:
            parts.append(f"\nThe {len(visible)} worst of {entry['count']:,} scenarios.\n")
        line = liquidation_line(entry, data)
        if line:
            parts.append(f"\n{line}\n")
        with_equity = data.get("equity") is not None
        headers = ["scenario", "P&L (USD)"]
        headers += [f"{u} spot" for u in underlyings] + [f"{u} P&L" for u in underlyings]
        headers += ["equity (USD)", "status"] if with_equity else []
        table = [
            [s["name"], tidy(s["pnl"])]
            + [move_text(s["shocks"][u]["spot"], "spot") for u in underlyings]
            + [tidy(s["by_underlying"][u]) for u in underlyings]
            + ([s["equity"], liquidation_text(s)] if with_equity else [])
            for s in visible
        ]
        parts.append("\n" + markdown_table(headers, table))
        if "grid" in entry:
            parts.append("\n" + heatmap_markdown(entry["grid"]))
    worst = data["worst"]
    parts.append(f"\n**Worst:** {worst['set']} / {worst['name']}: {worst['pnl']:,.2f} USD\n")
    if "positions" in data:
        parts.append("\n## Positions in the worst scenario\n\n")
        parts.append(
            markdown_table(
                ["id", "instrument", "quantity", "P&L (USD)"],
                [
                    [p["id"], p["instrument"], p["quantity"], tidy(p["pnl"])]
                    for p in data["positions"][:DEFAULT_SHOWN]
                ],
            )
        )
    return "".join(parts)


def heatmap_markdown(grid: dict[str, Any]) -> str:
    label = "vol shift" if grid["vol_kind"] == "vol_shift" else "vol"
    headers = [f"{label} \\ spot"] + [move_text(s, "spot") for s in grid["spot"]]
    rows = [
        [move_text(v, grid["vol_kind"]), *map(tidy, row)]
        for v, row in zip(grid["vol"], grid["pnl"])
    ]
    return markdown_table(headers, rows)


def shocks_text(shocks: dict[str, float]) -> str:
    """``{"spot": -0.2, "vol": 0.35, "vol_shift": 0}`` -> ``"spot -20%, vol +35%"``."""
    parts = [f"{k.replace('_', ' ')} {move_text(v, k)}" for k, v in shocks.items() if v]
    return ", ".join(parts) or "—"
