"""The table of ``pmargin explain``: contributions to the margin, largest first."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import number, usd

MAX_POSITION_ROWS = 40


def contributions_table(data: dict[str, Any], limit: int = MAX_POSITION_ROWS) -> Table:
    positions = data["positions"]
    margin = data["portfolio_margin"]
    title = f"Margin attribution — model [bold]{escape(data['model'])}[/]: {usd(margin)} USD"
    if len(positions) > limit:
        title += f" (the top {limit} of {len(positions):,}; --format csv lists all)"
    several = any(p["account"] for p in positions) and "accounts" in data
    table = Table(title=title, title_justify="left")
    columns = ["id", *(["account"] if several else []), "instrument", "qty"]
    columns += ["contribution", "share", "isolated IM", "diversification"]
    for name in columns:
        table.add_column(name, justify="left" if name in columns[:-5] else "right")
    for p in positions[:limit]:
        share = f"{p['contribution'] / margin:.1%}" if margin > 0 else "—"
        table.add_row(
            escape(str(p["id"])),
            *([escape(str(p["account"] or ""))] if several else []),
            escape(str(p["instrument"])),
            number(p["quantity"]),
            usd(p["contribution"], signed=True),
            share,
            usd(p["isolated_margin"]),
            usd(p["diversification_benefit"], signed=True),
        )
    return table


def basis_lines(data: dict[str, Any]) -> list[str]:
    basis = data["basis"]
    if "accounts" in data:
        return [
            f"{escape(account)} {escape(u)}: {escape(text)}"
            for account, per_underlying in basis.items()
            for u, text in per_underlying.items()
        ]
    return [f"{escape(u)}: {escape(text)}" for u, text in basis.items()]


def print_explain(console: Console, data: dict[str, Any]) -> None:
    console.print(contributions_table(data))
    console.print("Allocated: " + "; ".join(basis_lines(data)), style="dim")
