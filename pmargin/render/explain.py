"""The table of ``pmargin explain``: contributions to the margin, largest first.

A :class:`~pmargin.render.fit.FittedTable`: no number is ever cut; at a narrow width it leaves
out the share, the quantity, the diversification benefit, the isolated margin and the
instrument, in that order (the id and the contribution stay).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from . import number, usd
from .fit import Column, FittedTable

MAX_POSITION_ROWS = 40


def contributions_table(data: dict[str, Any], limit: int = MAX_POSITION_ROWS) -> FittedTable:
    positions = data["positions"]
    margin = data["portfolio_margin"]
    title = f"Margin attribution — model {data['model']}: {usd(margin)} USD"
    if len(positions) > limit:
        title += f" (the top {limit} of {len(positions):,}; --format csv lists all)"
    several = any(p["account"] for p in positions) and "accounts" in data
    columns = [
        Column("id", number=False),
        *([Column("account", number=False)] if several else []),
        Column("instrument", number=False, drop=5),
        Column("quantity", drop=2),
        Column("contribution"),
        Column("share", drop=1),
        Column("isolated margin", drop=4),
        Column("diversification", drop=3),
    ]
    table = FittedTable(columns, title=Text(title), title_justify="left")
    for p in positions[:limit]:
        share = f"{p['contribution'] / margin:.1%}" if margin > 0 else "—"
        table.add_row(
            Text(str(p["id"])),
            *([Text(str(p["account"] or ""))] if several else []),
            Text(str(p["instrument"])),
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
            f"{account} {u}: {text}"
            for account, per_underlying in basis.items()
            for u, text in per_underlying.items()
        ]
    return [f"{u}: {text}" for u, text in basis.items()]


def print_explain(console: Console, data: dict[str, Any]) -> None:
    console.print(contributions_table(data))
    for line in basis_lines(data):
        console.print(Text(f"Allocated: {line}", style="dim"))
