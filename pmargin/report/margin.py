"""The ``compute`` report: SPEC §4 JSON keys, CSV rows and markdown."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..portfolio_margin import MarginResult
from ..profile import SpotProfile
from . import clean, markdown_table, status_words

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


#: the markdown sections of a compute result: key -> (title, [(header, key), ...])
MARKDOWN_SECTIONS = {
    "models": (
        "Models",
        [
            ("initial", "portfolio_margin"),
            ("maintenance", "maintenance_margin"),
            ("isolated", "isolated_margin"),
            ("offset", "offset"),
        ],
    ),
    "accounts": (
        "Accounts",
        [
            ("account", "account"),
            ("initial", "portfolio_margin"),
            ("maintenance", "maintenance_margin"),
            ("isolated", "isolated_margin"),
            ("equity", "equity"),
            ("status", "status"),
        ],
    ),
    "positions": (
        "Positions",
        [
            ("id", "id"),
            ("instrument", "instrument"),
            ("quantity", "quantity"),
            *[(key, key) for key in ("value", "delta", "gamma", "vega", "theta")],
            ("isolated margin", "isolated_margin"),
        ],
    ),
}


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
        ["Status", status_words(data["status"]) if data["equity"] is not None else ""],
    ]
    for underlying, prices in (data.get("liquidation_prices") or {}).items():
        summary.append([f"Liquidation price {underlying}", liquidation_price_text(prices)])
    text = "## pmargin compute\n\n" + markdown_table(["", data["currency"]], summary)
    for key, (title, columns) in MARKDOWN_SECTIONS.items():
        if not data.get(key):
            continue
        records = data[key]
        if key == "models":  # keyed by model name: the name is the first column
            columns = [("model", "model"), *columns]
            records = [{"model": name, **m} for name, m in records.items()]
        rows = [
            [status_words(record[k]) if k == "status" else record[k] for _, k in columns]
            for record in records
        ]
        text += f"\n### {title}\n\n" + markdown_table([h for h, _ in columns], rows)
    return text


def profiles_dict(profiles: list[SpotProfile], data: dict[str, Any]) -> dict[str, Any]:
    """The ``compute --plot`` chart's data: per underlying, the book's P&L against its spot
    (USD) and the margin to mark — the model's margin for that underlying where the model splits
    it (``margin_scope: underlying``), else the portfolio's (``portfolio``)."""
    by_underlying = data.get("by_underlying") or {}
    return clean(
        {
            "model": data["model"],
            "underlyings": [
                {
                    "underlying": p.underlying,
                    "spot": p.spot,
                    "moves": p.moves.tolist(),
                    "pnl": p.pnl.tolist(),
                    "model_range": list(p.model_range),
                    "margin": by_underlying.get(p.underlying, data["portfolio_margin"]),
                    "margin_scope": "underlying" if p.underlying in by_underlying else "portfolio",
                }
                for p in profiles
            ],
        }
    )


#: the figures a compute CSV states above its rows (SPEC §4 keys)
SUMMARY_KEYS = (
    "model",
    "currency",
    "portfolio_margin",
    "maintenance_margin",
    "isolated_margin",
    "offset",
    "equity",
    "excess",
    "status",
)


def margin_summary(data: dict[str, Any]) -> dict[str, Any]:
    """The portfolio's figures (margin, maintenance, isolated, equity, status, worst scenario)."""
    summary = {key: data.get(key) for key in SUMMARY_KEYS}
    worst = data.get("worst_scenario") or {}
    summary["worst_scenario"] = worst.get("name")
    summary["worst_scenario_pnl"] = worst.get("pnl")
    return summary


def margin_rows(data: dict[str, Any], shape: str = "positions") -> list[dict[str, Any]]:
    """CSV rows of a compute result: a row per position (``positions``), per account
    (``accounts``, from ``--by-account``) or per model (``models``, from ``--compare``). Nested
    figures become dotted columns (``components.scan_risk``) when written."""
    if shape == "models":
        return [
            {"model": name, **{k: v for k, v in m.items() if k != "model"}}
            for name, m in (data.get("models") or {}).items()
        ]
    if shape == "accounts":
        return list(data.get("accounts") or [])
    return list(data.get("positions") or [])


def liquidation_price_text(prices: dict[str, Any]) -> str:
    """``"down 75,035 (-21.0%), up none"`` from the SPEC §8 keys of one underlying."""
    parts = []
    for side in ("down", "up"):
        price = prices[side]
        text = "none" if price is None else f"{price:,.0f} ({prices[f'distance_{side}']:+.1%})"
        parts.append(f"{side} {text}")
    return ", ".join(parts)
