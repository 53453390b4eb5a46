"""Tables of ``pmargin compute``: summary, models side by side, accounts, positions."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from ..report import status_words
from ..report.margin import liquidation_price_text
from ..report.records import Records
from . import STATUS_STYLE, money, number
from .fit import Column, FittedTable

MAX_POSITION_ROWS = 40
MAX_ACCOUNT_ROWS = 40
#: the positions table; at a narrow width gamma goes first, then theta, vega, delta, value, and
#: the position id (the instrument stays)
POSITION_COLUMNS = [
    Column("id", number=False, drop=6),
    Column("instrument", number=False),
    Column("quantity"),
    Column("value", drop=5),
    Column("delta", drop=4),
    Column("gamma", drop=1),
    Column("vega", drop=3),
    Column("theta/day", drop=2),
    Column("isolated margin"),
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
    count = data.get("account_count", 1)
    if count > 1:
        note = "" if "accounts" in data else "; --by-account lists them"
        table.add_row("Accounts", f"{count:,} (margined apart, figures summed{note})")
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
        account = worst.get("account")
        note += f" (account {escape(account)})" if account is not None else ""
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
    positions: Records, limit: int = MAX_POSITION_ROWS, currency: str = "USD"
) -> FittedTable:
    def usd(value, *, signed=False):
        return money(value, currency, signed=signed)

    shown = positions.largest("isolated_margin", limit).rows()
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


def accounts_table(
    accounts: Records, count: int, limit: int = MAX_ACCOUNT_ROWS, currency: str = "USD"
) -> FittedTable:
    """The accounts (sorted by initial margin by the report), the first ``limit`` of them."""

    def usd(value, *, signed=False):
        return money(value, currency, signed=signed)

    title = f"Accounts ({currency})"
    shown = min(limit, len(accounts))
    if count > shown:
        title += (
            f", the {shown:,} with the largest initial margin of {count:,} "
            "(--top N for more; --format csv lists all)"
        )
    columns = [Column("account", number=False), Column("initial"), Column("maintenance", drop=2)]
    columns += [Column("isolated", drop=1), Column("equity"), Column("excess")]
    columns += [Column("status", number=False)]
    table = FittedTable(columns, title=title, title_justify="left")
    for a in accounts.rows(limit):
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
    if "accounts" in data and len(data["accounts"]):
        console.print()
        accounts, count = data["accounts"], data["account_count"]
        limit = len(accounts) if len(accounts) < count else MAX_ACCOUNT_ROWS  # --top N: all N
        console.print(accounts_table(accounts, count, limit, data["currency"]))
    if "positions" in data and len(data["positions"]):
        console.print()
        console.print(positions_table(data["positions"], currency=data["currency"]))
