"""The ``whatif`` report: SPEC §9 JSON keys, CSV rows (one per trade) and markdown.

JSON::

    {"model": "deribit",
     "before": {"initial_margin": 0.0, "maintenance_margin": 0.0, "equity": null,
                "excess": null, "status": null},
     "after": {...same keys...},
     "incremental_margin": 0.0, "incremental_maintenance_margin": 0.0,
     "trades": [{"id": "...", "account": "...", "instrument": "...", "quantity": 0.0,
                 "incremental_margin": 0.0, "incremental_maintenance_margin": 0.0,
                 "equity_change": 0.0}],
     "accounts": [{"account": "...", "before": {...}, "after": {...}, "incremental_margin": 0.0,
                   "incremental_maintenance_margin": 0.0, "trades": [...]}]}

``incremental_margin`` of a trade is the margin of its account with that trade alone minus
before; at the top, after − before with all trades. ``accounts`` is present with several.
"""

from __future__ import annotations

from typing import Any

from ..whatif import TRADE_COLUMNS, MarginState, WhatIfResult
from . import clean, markdown_table, status_words


def state_dict(state: MarginState) -> dict[str, Any]:
    excess = None if state.equity is None else state.equity - state.initial_margin
    return {
        "initial_margin": state.initial_margin,
        "maintenance_margin": state.maintenance_margin,
        "equity": state.equity,
        "excess": excess,
        "status": state.status,
    }


def _change(before: MarginState, after: MarginState, trades) -> dict[str, Any]:
    return {
        "before": state_dict(before),
        "after": state_dict(after),
        "incremental_margin": after.initial_margin - before.initial_margin,
        "incremental_maintenance_margin": after.maintenance_margin - before.maintenance_margin,
        "trades": [
            dict(zip(TRADE_COLUMNS, row))
            for row in trades[list(TRADE_COLUMNS)].itertuples(index=False, name=None)
        ],
    }


def whatif_dict(result: WhatIfResult) -> dict[str, Any]:
    data = {"model": result.model, **_change(result.before, result.after, result.trades)}
    if result.accounts is not None:
        data["accounts"] = [
            {"account": a.account, **_change(a.before, a.after, a.trades)} for a in result.accounts
        ]
    return clean(data)


def whatif_summary(data: dict[str, Any]) -> dict[str, Any]:
    """Before and after all the trades (initial and maintenance margin, equity, status), the
    change, and how many trades were asked about and how many reduce the margin alone."""
    summary: dict[str, Any] = {"model": data["model"], "trades": len(data["trades"])}
    summary["reducing"] = sum(t["incremental_margin"] < 0 for t in data["trades"])
    for key in ("initial_margin", "maintenance_margin", "equity", "status"):
        summary[f"{key}_before"] = data["before"][key]
        summary[f"{key}_after"] = data["after"][key]
    summary["incremental_margin"] = data["incremental_margin"]
    summary["incremental_maintenance_margin"] = data["incremental_maintenance_margin"]
    return summary


def whatif_markdown(data: dict[str, Any]) -> str:
    rows = [
        [label, data["before"][key], data["after"][key]]
        for label, key in (
            ("Initial margin", "initial_margin"),
            ("Maintenance margin", "maintenance_margin"),
            ("Equity", "equity"),
            ("Excess", "excess"),
        )
    ]
    rows.append(["Status", *(status_words(data[s]["status"]) for s in ("before", "after"))])
    text = f"## pmargin whatif — model {data['model']}\n\n"
    text += markdown_table(["", "before", "after"], rows)
    text += f"\nIncremental margin: {data['incremental_margin']:,.2f} USD\n"
    headers = ["account", "instrument", "quantity", "incremental margin", "equity change"]
    keys = ["account", "instrument", "quantity", "incremental_margin", "equity_change"]
    trades = [[t[k] for k in keys] for t in data["trades"]]
    return text + "\n### Trades, each alone\n\n" + markdown_table(headers, trades)
