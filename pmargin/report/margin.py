"""The ``compute`` report: SPEC §4 JSON keys, CSV rows and markdown."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..portfolio_margin import MarginResult
from . import clean, markdown_table

POSITION_KEYS = (
    "id",
    "account",
    "instrument",
    "underlying",
    "quantity",
    "value",
    "isolated_margin",
    "delta",
    "gamma",
    "vega",
    "theta",
)


def positions_records(positions: pd.DataFrame) -> list[dict[str, Any]]:
    frame = positions[list(POSITION_KEYS)]
    return [dict(zip(POSITION_KEYS, row)) for row in frame.itertuples(index=False, name=None)]


def margin_dict(result: MarginResult, *, positions: bool = True) -> dict[str, Any]:
    """The ``compute`` JSON object of SPEC §4 (plus ``savings`` and ``by_underlying``)."""
    worst = result.worst_scenario
    data: dict[str, Any] = {
        "model": result.model,
        "currency": result.currency,
        "portfolio_margin": result.portfolio_margin,
        "maintenance_margin": result.maintenance_margin,
        "isolated_margin": result.isolated_margin,
        "offset": result.offset,
        "savings": result.savings,
        "worst_scenario": None if worst is None else dict(worst),
        "equity": result.equity,
        "excess": result.excess,
        "status": result.status,
        "components": dict(result.components),
        "by_underlying": dict(result.by_underlying),
        "liquidation_prices": None
        if result.liquidation_prices is None
        else {u: price.as_dict() for u, price in result.liquidation_prices.items()},
    }
    if result.account is not None:
        data = {"account": result.account, **data}
    if positions:
        data["positions"] = positions_records(result.positions)
    if result.accounts is not None:
        data["accounts"] = [margin_dict(a, positions=False) for a in result.accounts]
    if result.models:
        data["models"] = {
            name: margin_dict(other, positions=False) for name, other in result.models.items()
        }
    return clean(data)


def margin_markdown(data: dict[str, Any]) -> str:
    """A compute result (as from :func:`margin_dict`) as GitHub-flavoured markdown."""
    worst = data.get("worst_scenario") or {}
    savings = data.get("savings")
    summary = [
        ["Model", data["model"]],
        ["Portfolio margin (initial)", data["portfolio_margin"]],
        ["Maintenance margin", data["maintenance_margin"]],
        ["Isolated margin", data["isolated_margin"]],
        ["Offset", data["offset"]],
        ["Savings", "" if savings is None else f"{savings:.1%}"],
        ["Worst scenario", f"{worst.get('name', '')} ({worst.get('pnl', 0.0):,.2f})"],
        ["Equity", data["equity"]],
        ["Excess", data["excess"]],
        ["Status", data["status"]],
    ]
    for underlying, prices in (data.get("liquidation_prices") or {}).items():
        summary.append([f"Liquidation price {underlying}", liquidation_price_text(prices)])
    text = "## pmargin compute\n\n" + markdown_table(["", data["currency"]], summary)
    if data.get("models"):
        rows = [
            [
                name,
                m["portfolio_margin"],
                m["maintenance_margin"],
                m["isolated_margin"],
                m["offset"],
            ]
            for name, m in data["models"].items()
        ]
        text += "\n### Models\n\n" + markdown_table(
            ["model", "initial", "maintenance", "isolated", "offset"], rows
        )
    if data.get("accounts"):
        rows = [
            [
                a["account"],
                a["portfolio_margin"],
                a["maintenance_margin"],
                a["isolated_margin"],
                a["equity"],
                a["status"],
            ]
            for a in data["accounts"]
        ]
        text += "\n### Accounts\n\n" + markdown_table(
            ["account", "initial", "maintenance", "isolated", "equity", "status"], rows
        )
    if data.get("positions"):
        rows = [
            [
                p["id"],
                p["instrument"],
                p["quantity"],
                p["value"],
                p["delta"],
                p["gamma"],
                p["vega"],
                p["theta"],
                p["isolated_margin"],
            ]
            for p in data["positions"]
        ]
        text += "\n### Positions\n\n" + markdown_table(
            [
                "id",
                "instrument",
                "quantity",
                "value",
                "delta",
                "gamma",
                "vega",
                "theta",
                "isolated margin",
            ],
            rows,
        )
    return text


def liquidation_price_text(prices: dict[str, Any]) -> str:
    """``"down 75,035 (-21.0%), up none"`` from the SPEC §8 keys of one underlying."""
    parts = []
    for side in ("down", "up"):
        price = prices[side]
        text = "none" if price is None else f"{price:,.0f} ({prices[f'distance_{side}']:+.1%})"
        parts.append(f"{side} {text}")
    return ", ".join(parts)
