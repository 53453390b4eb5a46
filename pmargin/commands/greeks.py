"""``pmargin greeks``: net delta (coin and USD), gamma, vega and theta per underlying and expiry."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import (
    ByAccountOption,
    DebugOption,
    Format,
    FormatOption,
    MarketOption,
    OutputOption,
    PortfolioArgument,
    emit_result,
    load_inputs,
)


def greeks_command(
    ctx: typer.Context,
    portfolio: PortfolioArgument = None,
    market: MarketOption = None,
    with_orders: Annotated[
        bool, typer.Option("--with-orders", help="Count open orders as filled.")
    ] = False,
    by_account: ByAccountOption = False,
    format: FormatOption = Format.table,
    output: OutputOption = None,
    debug: DebugOption = False,
) -> None:
    """Net greeks per underlying and expiry: delta (coin and USD), gamma, vega, theta.

    With --by-account also each account's net greeks per underlying.
    """
    from ..greeks import portfolio_greeks
    from ..render.greeks import print_greeks
    from ..report import run_dict
    from ..report.greeks import greeks_dict, greeks_markdown, greeks_rows

    book, snapshot = load_inputs(ctx, portfolio, market)
    result = portfolio_greeks(book, snapshot, include_orders=with_orders, by_account=by_account)
    data = greeks_dict(result)
    emit_result(
        format,
        output,
        data,
        rows=lambda: greeks_rows(data),
        markdown=lambda: greeks_markdown(data),
        draw=lambda console: print_greeks(console, data),
        run=run_dict(market=snapshot),
    )
