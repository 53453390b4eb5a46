"""The table of ``pmargin greeks``: net greeks per underlying and expiry."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from ..greeks import GREEKS
from ..report import plural
from ..report.greeks import expiry_label
from . import number, usd
from .fit import Column, FittedTable

_HEADERS = (
    ("delta", "coin"),
    ("delta", "USD"),
    ("gamma", "coin/USD"),
    ("gamma", "USD/1%"),
    ("vega", "USD/vol"),
    ("theta", "USD/day"),
)


#: at a narrow width the coin gamma goes first, then the coin delta
_DROP = {("gamma", "coin/USD"): 1, ("delta", "coin"): 2}


def _cells(values: dict[str, float]) -> list[str]:
    formats = {"delta": number, "gamma": lambda v: number(v, 3)}
    return [formats.get(g, usd)(values[g]) for g in GREEKS]


def greeks_table(data: dict[str, Any]) -> FittedTable:
    caption = "vega per 1.00 vol (100 vol points); gamma USD = change of USD delta per 1% move"
    if data["open_orders_excluded"]:
        caption += f"; {plural(data['open_orders_excluded'], 'open order')} excluded"
    columns = [Column("underlying", number=False), Column("expiry", number=False)]
    columns += [
        Column(f"{name}\n{unit}", drop=_DROP.get((name, unit), 0)) for name, unit in _HEADERS
    ]
    table = FittedTable(
        columns,
        title=f"Net greeks as of {data['as_of']}",
        caption=caption,
        title_justify="left",
        caption_justify="left",
    )
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
