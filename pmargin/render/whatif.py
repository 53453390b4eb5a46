"""The tables of ``pmargin whatif``: before and after, and each trade alone."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from . import STATUS_STYLE, number, usd

MAX_TRADE_ROWS = 40


def _status(status: str | None) -> Text:
    return Text((status or "—").upper(), style=STATUS_STYLE.get(status or "", ""))


def summary_table(data: dict[str, Any], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for name in ("", "before", "after", "change"):
        table.add_column(name, justify="left" if not name else "right")
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


def trades_table(trades: list[dict[str, Any]], limit: int = MAX_TRADE_ROWS) -> Table:
    title = "Each trade alone (USD)"
    if len(trades) > limit:
        title += f" — the first {limit} of {len(trades):,}; --format csv lists all"
    table = Table(title=title, title_justify="left")
    for name in ("account", "instrument", "qty", "incremental IM", "incremental MM", "equity"):
        table.add_column(name, justify="left" if name in ("account", "instrument") else "right")
    for t in trades[:limit]:
        table.add_row(
            escape(str(t["account"] or "")),
            escape(str(t["instrument"])),
            number(t["quantity"]),
            usd(t["incremental_margin"], signed=True),
            usd(t["incremental_maintenance_margin"], signed=True),
            usd(t["equity_change"], signed=True),
        )
    return table


def print_whatif(console: Console, data: dict[str, Any]) -> None:
    console.print(summary_table(data, f"What if — model [bold]{escape(data['model'])}[/] (USD)"))
    for account in data.get("accounts", []):
        if account["trades"]:
            console.print()
            console.print(summary_table(account, f"Account {escape(account['account'])}"))
    console.print()
    console.print(trades_table(data["trades"]))
