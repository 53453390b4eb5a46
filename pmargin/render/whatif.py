"""The tables of ``pmargin whatif``: before and after, and each trade alone.

Tables are :class:`~pmargin.render.fit.FittedTable`: no number is ever cut; at a narrow width the
trades table leaves out the equity change, the incremental maintenance margin and the account,
in that order.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from ..report import status_words
from . import STATUS_STYLE, number, usd
from .fit import Column, FittedTable

MAX_TRADE_ROWS = 40


def _status(status: str | None) -> Text:
    return Text(status_words(status), style=STATUS_STYLE.get(status or "", ""))


def summary_table(data: dict[str, Any], title: Text) -> FittedTable:
    columns = [Column("", number=False), Column("before"), Column("after"), Column("change")]
    table = FittedTable(columns, title=title, title_justify="left")
    before, after = data["before"], data["after"]
    for label, key in (
        ("Initial margin", "initial_margin"),
        ("Maintenance margin", "maintenance_margin"),
        ("Equity", "equity"),
        ("Excess", "excess"),
    ):
        change = None if before[key] is None else after[key] - before[key]
        table.add_row(label, usd(before[key]), usd(after[key]), usd(change, signed=True))
    table.add_row("Status", _status(before["status"]), _status(after["status"]), "")
    return table


def trades_table(trades: list[dict[str, Any]], limit: int = MAX_TRADE_ROWS) -> FittedTable:
    title = "Each trade alone (USD)"
    if len(trades) > limit:
        title += f" — the first {limit} of {len(trades):,}; --format csv lists all"
    columns = [
        Column("account", number=False, drop=3),
        Column("instrument", number=False),
        Column("quantity"),
        Column("incremental initial margin"),
        Column("incremental maintenance margin", drop=2),
        Column("equity", drop=1),
    ]
    table = FittedTable(columns, title=title, title_justify="left")
    for t in trades[:limit]:
        table.add_row(
            Text(str(t["account"] or "")),
            Text(str(t["instrument"])),
            number(t["quantity"]),
            usd(t["incremental_margin"], signed=True),
            usd(t["incremental_maintenance_margin"], signed=True),
            usd(t["equity_change"], signed=True),
        )
    return table


def print_whatif(console: Console, data: dict[str, Any]) -> None:
    console.print(summary_table(data, Text(f"What if — model {data['model']} (USD)")))
    for account in data.get("accounts", []):
        if account["trades"]:
            console.print()
            console.print(summary_table(account, Text(f"Account {account['account']}")))
    console.print()
    console.print(trades_table(data["trades"]))
