"""The ``compute`` report: SPEC §4 JSON keys, CSV rows and markdown.

``positions`` and ``accounts`` are :class:`~pmargin.report.records.Records`: the result's
DataFrames with the layout of their JSON objects, written column by column (no dict per row).
Accounts come sorted by initial margin, largest first (ties by name); ``--top N`` keeps N of them
and ``account_count`` says how many there are. ``account`` is null for positions of a file that
names no account.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..portfolio_margin import BY_UNDERLYING, COMPONENT, LIQUIDATION_PRICES, MarginResult
from ..profile import SpotProfile
from . import clean, markdown_number, markdown_table, status_words
from .records import Field, Json, Nested, Present, Records

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
POSITION_LAYOUT = tuple(Field(k, k, nullable=k == "account") for k in POSITION_KEYS)
WORST_LAYOUT = Nested(
    "worst_scenario",
    (
        Field("name", "worst_scenario.name"),
        Field("pnl", "worst_scenario.pnl"),
        Field("weight", "worst_scenario.weight"),
    ),
    when="worst_scenario.name",  # null for an account that nothing it holds can make lose
)
#: an account's JSON object: the top-level keys of SPEC §4 that apply to one account
ACCOUNT_LAYOUT = (
    Field("account", "account", nullable=True),
    Field("portfolio_margin", "portfolio_margin"),
    Field("maintenance_margin", "maintenance_margin"),
    Field("isolated_margin", "isolated_margin"),
    Field("offset", "offset"),
    Field("savings", "savings", nullable=True),
    WORST_LAYOUT,
    Field("equity", "equity", nullable=True),
    Field("excess", "excess", nullable=True),
    Field("status", "status", nullable=True),
    Present("components", COMPONENT),
    Present("by_underlying", BY_UNDERLYING),
)


def _named(labels: pd.Series) -> np.ndarray:
    """Account labels with "" (a file that names no account) as None."""
    values = labels.to_numpy(object)
    return np.where(values == "", None, values)


def positions_records(positions: pd.DataFrame) -> Records:
    frame = positions[list(POSITION_KEYS)].copy()
    frame["account"] = _named(frame["account"])
    return Records(frame, POSITION_LAYOUT)


def accounts_records(accounts: pd.DataFrame, top: int | None = None) -> Records:
    """Accounts by initial margin, largest first (ties by name), the first ``top`` of them."""
    order = np.lexsort(
        (accounts["account"].to_numpy(str), -accounts["portfolio_margin"].to_numpy())
    )
    frame = accounts.iloc[order[:top]].reset_index(drop=True)
    frame["account"] = _named(frame["account"])
    layout = ACCOUNT_LAYOUT
    if LIQUIDATION_PRICES in frame:  # SPEC §8 keys per underlying, for accounts that have them
        prices = frame[LIQUIDATION_PRICES].to_numpy(object).copy()
        for row in np.flatnonzero(pd.notna(prices)):  # the few accounts searched
            prices[row] = {u: price.as_dict() for u, price in prices[row].items()}
        frame[LIQUIDATION_PRICES] = prices
        layout = (*layout, Json(LIQUIDATION_PRICES, LIQUIDATION_PRICES))
    if frame["worst_scenario.name"].isna().all():  # a model without scenarios
        frame["worst_scenario"] = None
        layout = tuple(
            Field("worst_scenario", "worst_scenario", nullable=True) if f is WORST_LAYOUT else f
            for f in layout
        )
    return Records(frame, layout)


def margin_dict(
    result: MarginResult,
    *,
    positions: bool = True,
    accounts: bool = False,
    top: int | None = None,
) -> dict[str, Any]:
    """The ``compute`` JSON object of SPEC §4 (plus ``savings`` and ``by_underlying``).

    ``account_count`` is the number of accounts (the totals are sums over them); ``positions``
    lists the positions; ``accounts`` lists the accounts (the ``top`` N by initial margin).
    """
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
    if result.models:
        data["models"] = {
            name: margin_dict(other, positions=False) for name, other in result.models.items()
        }
    data = clean(data)
    data["account_count"] = len(result.accounts)
    if accounts:
        data["accounts"] = accounts_records(result.accounts, top)
    if positions:
        data["positions"] = positions_records(result.positions)
    return data


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
        ["Worst scenario", f"{worst.get('name', '')} ({markdown_number(worst.get('pnl', 0.0))})"],
        ["Equity", data["equity"]],
        ["Excess", data["excess"]],
        ["Status", status_words(data["status"]) if data["equity"] is not None else ""],
    ]
    for underlying, prices in (data.get("liquidation_prices") or {}).items():
        summary.append([f"Liquidation price {underlying}", liquidation_price_text(prices)])
    text = "## pmargin compute\n\n" + markdown_table(["", data["currency"]], summary)
    for key, (title, columns) in MARKDOWN_SECTIONS.items():
        if key not in data or not len(data[key]):
            continue
        records = data[key]
        if key == "models":  # keyed by model name: the name is the first column
            columns = [("model", "model"), *columns]
            records = [{"model": name, **m} for name, m in records.items()]
        else:
            records = records.rows()
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
    """The portfolio's figures (margin, maintenance, isolated, equity, status, worst scenario;
    with several accounts the sums over them, the worst status, and how many accounts)."""
    summary = {key: data.get(key) for key in SUMMARY_KEYS}
    if data.get("account_count", 1) != 1:
        summary["account_count"] = data["account_count"]
    worst = data.get("worst_scenario") or {}
    summary["worst_scenario"] = worst.get("name")
    summary["worst_scenario_pnl"] = worst.get("pnl")
    return summary


def margin_rows(data: dict[str, Any], shape: str = "positions") -> list[dict[str, Any]] | Records:
    """CSV rows of a compute result: a row per position (``positions``), per account
    (``accounts``, from ``--by-account``: the accounts' columns, ``components.scan_risk``,
    ``by_underlying.BTC``, written column-wise) or per model (``models``, from ``--compare``).
    Nested figures become dotted columns (``components.scan_risk``) when written."""
    if shape == "models":
        return [
            {"model": name, **{k: v for k, v in m.items() if k != "model"}}
            for name, m in (data.get("models") or {}).items()
        ]
    return data.get(shape, [])


def liquidation_price_text(prices: dict[str, Any]) -> str:
    """``"down 75,035 (-21.0%), up none"`` from the SPEC §8 keys of one underlying."""
    parts = []
    for side in ("down", "up"):
        price = prices[side]
        text = "none" if price is None else f"{price:,.0f} ({prices[f'distance_{side}']:+.1%})"
        parts.append(f"{side} {text}")
    return ", ".join(parts)
