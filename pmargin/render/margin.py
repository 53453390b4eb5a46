"""Tables of ``pmargin compute``: summary, models side by side, accounts, positions."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from ..report import status_words
from ..report.margin import liquidation_price_text
from . import STATUS_STYLE, money, number
from .fit import Column, FittedTable

MAX_POSITION_ROWS = 40
#: the positions table; at a narrow width gamma goes first, then theta, vega, delta, value
POSITION_COLUMNS = [
    Column("id", number=False),
    Column("instrument", number=False, drop=6),
    Column("qty"),
    Column("value", drop=5),
    Column("delta", drop=4),
    Column("gamma", drop=1),
    Column("vega", drop=3),
    Column("theta/day", drop=2),
    Column("isolated IM"),
]


def margin_summary(data: dict[str, Any]) -> FittedTable:
    currency = data.get("currency", "USD")

    def usd(value, *, signed=False):
        return money(value, currency, signed=signed)

    table = FittedTable(
        [Column("", number=False, style="bold"), Column("", number=False, justify="right")],
        title=f"Portfolio margin — model [bold]{escape(data['model'])}[/]",
        show_header=False,
        title_justify="left",
        box=None,
        padding=(0, 2),
    )
    savings = data.get("savings")
    worst = data.get("worst_scenario")
    table.add_row("Portfolio margin (initial)", usd(data["portfolio_margin"]) + f" {currency}")
    table.add_row("Maintenance margin", usd(data["maintenance_margin"]) + f" {currency}")
    table.add_row("Isolated margin", usd(data["isolated_margin"]) + f" {currency}")
    offset = usd(data["offset"]) + f" {currency}"
    if savings is not None:
        offset += f"  ({savings:.1%} saved by netting)"
    table.add_row("Offset", offset)
    if worst:
        weight = worst.get("weight", 1.0)
        note = f", counted at {weight:.0%}" if weight not in (None, 1.0) else ""
        table.add_row(
            "Worst scenario", f"{escape(worst['name'])}: P&L {usd(worst['pnl'], signed=True)}{note}"
        )
    for underlying, margin in data.get("by_underlying", {}).items():
        table.add_row(f"  margin {escape(underlying)}", usd(margin))
    for name, value in data.get("components", {}).items():
        table.add_row(f"  {escape(name)}", usd(value))
    if data["equity"] is not None:
        table.add_row("Equity", usd(data["equity"]) + f" {currency}")
        table.add_row("Excess", usd(data["excess"], signed=True) + f" {currency}")
        status = data["status"]
        table.add_row("Status", Text(status_words(status), style=STATUS_STYLE.get(status, "")))
        for underlying, prices in (data.get("liquidation_prices") or {}).items():
            table.add_row(
                f"  liquidation price {escape(underlying)}", liquidation_price_text(prices)
            )
    else:
        table.add_row("Equity", "— (no collateral stated)")
    return table


def positions_table(
    positions: list[dict[str, Any]], limit: int = MAX_POSITION_ROWS, currency: str = "USD"
) -> FittedTable:
    def usd(value, *, signed=False):
        return money(value, currency, signed=signed)

    shown = sorted(positions, key=lambda p: -p["isolated_margin"])[:limit]
    title = "Positions"
    if len(positions) > limit:
        title += (
            f" (the {limit} with the largest isolated margin of {len(positions):,}; "
            "--format csv lists all)"
        )
    table = FittedTable(POSITION_COLUMNS, title=title, title_justify="left")
    for p in shown:
        table.add_row(
            escape(str(p["id"])),
            escape(str(p["instrument"])),
            number(p["quantity"]),
            usd(p["value"]),
            number(p["delta"]),
            number(p["gamma"], 3),
            usd(p["vega"]),
            usd(p["theta"]),
            usd(p["isolated_margin"]),
        )
    return table


def models_table(models: dict[str, dict[str, Any]], currency: str = "USD") -> FittedTable:
    def usd(value, *, signed=False):
        return money(value, currency, signed=signed)

    columns = [Column("model", number=False), Column("initial"), Column("maintenance", drop=2)]
    columns += [Column("isolated"), Column("offset", drop=1), Column("saved")]
    table = FittedTable(columns, title=f"Margin by model ({currency})", title_justify="left")
    for name, m in models.items():
        saved = "—" if m.get("savings") is None else f"{m['savings']:.1%}"
        table.add_row(
            escape(name),
            usd(m["portfolio_margin"]),
            usd(m["maintenance_margin"]),
            usd(m["isolated_margin"]),
            usd(m["offset"]),
            saved,
        )
    return table


def accounts_table(accounts: list[dict[str, Any]], currency: str = "USD") -> FittedTable:
    def usd(value, *, signed=False):
        return money(value, currency, signed=signed)

    columns = [Column("account", number=False), Column("initial"), Column("maintenance", drop=2)]
    columns += [Column("isolated", drop=1), Column("equity"), Column("excess")]
    columns += [Column("status", number=False)]
    table = FittedTable(columns, title=f"Accounts ({currency})", title_justify="left")
    for a in accounts:
        status = a["status"]
        table.add_row(
            escape(a["account"] or "(none)"),
            usd(a["portfolio_margin"]),
            usd(a["maintenance_margin"]),
            usd(a["isolated_margin"]),
            usd(a["equity"]),
            usd(a["excess"], signed=True),
            Text(status_words(status), style=STATUS_STYLE.get(status or "", "")),
        )
    return table


def print_margin(console: Console, data: dict[str, Any]) -> None:
    console.print(margin_summary(data))
    if data.get("models"):
        console.print()
        console.print(models_table(data["models"], data["currency"]))
    if data.get("accounts"):
        console.print()
        console.print(accounts_table(data["accounts"], data["currency"]))
    if data.get("positions"):
        console.print()
        console.print(positions_table(data["positions"], currency=data["currency"]))
