"""The table of ``pmargin greeks``: net greeks per underlying and expiry."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from ..greeks import GREEKS
from ..report import plural
from ..report.greeks import MAX_ACCOUNT_ROWS, expiry_label
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


def accounts_table(data: dict[str, Any]) -> FittedTable:
    """Net delta per underlying and the USD greeks of each account, largest gross delta first.
    At a narrow width the coin deltas go first (the USD delta stays)."""
    records = data["accounts"]
    accounts = records.rows(MAX_ACCOUNT_ROWS)
    names = list(accounts[0]["underlyings"]) if accounts else []
    title = "Accounts, largest gross USD delta first"
    if len(records) > MAX_ACCOUNT_ROWS:
        title += f": {MAX_ACCOUNT_ROWS} of {len(records):,} (--format csv lists all)"
    columns = [Column("account", number=False)]
    columns += [Column(f"{escape(u)} delta\ncoin", drop=1) for u in names]
    columns += [Column("delta\nUSD"), Column("vega\nUSD/vol"), Column("theta\nUSD/day", drop=2)]
    table = FittedTable(columns, title=title, title_justify="left")
    for a in accounts:
        table.add_row(
            escape(a["account"] or "(none)"),
            *(number(a["underlyings"][u]["delta"]) for u in names),
            *(usd(a["total"][g]) for g in ("delta_usd", "vega", "theta")),
        )
    return table


def print_greeks(console: Console, data: dict[str, Any]) -> None:
    console.print(greeks_table(data))
    if "accounts" in data:
        console.print()
        console.print(accounts_table(data))
