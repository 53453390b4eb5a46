"""The table of ``pmargin greeks``: net greeks per underlying and expiry."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..greeks import GREEKS
from ..report import plural
from ..report.greeks import expiry_label
from . import number, usd

_HEADERS = (
    ("delta", "coin"),
    ("delta", "USD"),
    ("gamma", "coin/USD"),
    ("gamma", "USD/1%"),
    ("vega", "USD/vol"),
    ("theta", "USD/day"),
)


def _cells(values: dict[str, float]) -> list[str]:
    formats = {"delta": number, "gamma": lambda v: number(v, 3)}
    return [formats.get(g, usd)(values[g]) for g in GREEKS]


def greeks_table(data: dict[str, Any]) -> Table:
    caption = "vega per 1.00 vol (100 vol points); gamma USD = change of USD delta per 1% move"
    if data["open_orders_excluded"]:
        caption += f"; {plural(data['open_orders_excluded'], 'open order')} excluded"
    table = Table(
        title=f"Net greeks as of {data['as_of']}",
        caption=caption,
        title_justify="left",
        caption_justify="left",
    )
    table.add_column("underlying")
    table.add_column("expiry")
    for name, unit in _HEADERS:
        table.add_column(f"{name}\n{unit}", justify="right")
    for u in data["underlyings"]:
        for e in u["expiries"]:
            table.add_row(escape(u["underlying"]), expiry_label(e["expiry"]), *_cells(e))
        table.add_row(
            f"[bold]{escape(u['underlying'])}[/]", "[bold]all[/]", *_cells(u), end_section=True
        )
    total = data["total"]
    table.add_row(
        "[bold]total (net)[/]",
        "",
        "",
        usd(total["delta_usd"]),
        "",
        usd(total["gamma_usd"]),
        usd(total["vega"]),
        usd(total["theta"]),
    )
    return table


def print_greeks(console: Console, data: dict[str, Any]) -> None:
    console.print(greeks_table(data))
