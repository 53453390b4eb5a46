"""Tables of ``pmargin liquidate``: before and after, the plan, liquidation prices.

Everything is drawn from the plain dict of :mod:`pmargin.report.liquidation`. Tables are
:class:`~pmargin.render.fit.FittedTable`: no number is ever cut; at a narrow width the plan leaves
out its price, fee, the margin that is not the target and the step number, in that order.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from ..report import status_words
from ..report.liquidation import PRICE_HEADERS, price_cells
from . import STATUS_STYLE, number, usd
from .fit import Column, FittedTable

#: plans longer than this show their first and last steps
MAX_STEP_ROWS = 40


def print_liquidation(console: Console, data: dict[str, Any]) -> None:
    buffer = f", buffer {data['buffer']:.1%}" if data["buffer"] else ""
    console.print(
        Text("Liquidation", style="bold")
        + Text(f" — model {data['model']}, target {data['target']} margin{buffer}, {data['mode']}")
    )
    for account in data["accounts"]:
        console.print()
        console.print(Text(f"Account {account['account'] or '(none)'}", style="bold"))
        console.print(state_table(account))
        console.print(Text(account["note"], style="bold"))
        if account["steps"]:
            console.print(steps_table(account["steps"], data["target"]))
        if account["deposit_to_restore"]:
            console.print(
                f"Deposit to restore without trading: {usd(account['deposit_to_restore'])} USD"
            )
        if account["liquidation_prices"]:
            console.print(prices_table(account["liquidation_prices"]))


def _status(status: str | None) -> Text:
    return Text(status_words(status), style=STATUS_STYLE.get(status or "", ""))


def state_table(account: dict[str, Any]) -> FittedTable:
    columns = [Column("USD", number=False), Column("before"), Column("after")]
    table = FittedTable(columns, box=None, padding=(0, 2), show_header=True, header_style="bold")
    before, after = account["before"], account["after"]
    for key in ("equity", "initial_margin", "maintenance_margin"):
        table.add_row(key.replace("_", " "), usd(before[key]), usd(after[key]))
    table.add_row("status", _status(before["status"]), _status(after["status"]))
    return table


def steps_table(steps: list[dict[str, Any]], target: str = "maintenance") -> FittedTable:
    shown = steps
    title = "Plan (USD; trade in contracts, price per coin; equity and margins after each step)"
    if len(steps) > MAX_STEP_ROWS:
        half = MAX_STEP_ROWS // 2
        shown = steps[:half] + steps[-half:]
        title += f" — the first and last {half} of {len(steps):,} steps; --format csv lists all"
    # the margin the plan restores always stays; the other one goes third
    columns = [
        Column("step", drop=4),
        Column("action", number=False),
        Column("instrument", number=False),
        Column("trade"),
        Column("price", drop=1),
        Column("fee", drop=2),
        Column("equity"),
        Column("initial margin", drop=0 if target == "initial" else 3),
        Column("maintenance margin", drop=0 if target == "maintenance" else 3),
    ]
    table = FittedTable(columns, title=title, title_justify="left")
    for step in shown:
        trade = "" if step["quantity"] is None else number(step["quantity"])
        price = "" if step["price"] is None else f"{step['price']:,.2f}"
        table.add_row(
            str(step["step"]),
            step["action"],
            escape(step["instrument"] or "all open orders"),
            trade,
            price,
            f"{step['fee']:,.2f}",
            usd(step["equity_after"]),
            usd(step["initial_margin_after"]),
            usd(step["maintenance_margin_after"]),
        )
    return table


def prices_table(prices: dict[str, Any]) -> FittedTable:
    columns = [Column(name, number=name != "underlying") for name in PRICE_HEADERS]
    table = FittedTable(
        columns, title="Liquidation prices (equity = maintenance margin)", title_justify="left"
    )
    for underlying, entry in prices.items():
        table.add_row(*(escape(cell) for cell in price_cells(underlying, entry)))
    return table
