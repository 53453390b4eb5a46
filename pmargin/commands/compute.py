"""``pmargin compute``: portfolio margin versus isolated margin, per position and account."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import InputError, Problem
from .common import (
    DebugOption,
    Format,
    FormatOption,
    MarketOption,
    ModelOption,
    OutputOption,
    PortfolioArgument,
    emit_result,
    load_inputs,
    load_margin_model,
    run_context,
)


def compute_command(
    ctx: typer.Context,
    portfolio: PortfolioArgument = None,
    market: MarketOption = None,
    model: ModelOption = None,
    compare: Annotated[
        bool, typer.Option("--compare", help="Every bundled model side by side.")
    ] = False,
    by_account: Annotated[bool, typer.Option("--by-account", help="Margin per account.")] = False,
    currency: Annotated[
        str,
        typer.Option("--currency", help="Report money in USD or in a coin of the market (BTC)."),
    ] = "USD",
    format: FormatOption = Format.table,
    output: OutputOption = None,
    debug: DebugOption = False,
) -> None:
    """Portfolio margin versus isolated margin, with per-position values and greeks."""
    from ..io.model_file import bundled_models, load_model
    from ..portfolio import USD_LIKE
    from ..portfolio_margin import compute_margin
    from ..render.margin import print_margin
    from ..report.margin import margin_dict, margin_markdown

    book, snapshot = load_inputs(ctx, portfolio, market)
    margin_model = load_margin_model(ctx, run_context(ctx).config.model_or_default(model))
    others = [load_model(name) for name in bundled_models()] if compare else None
    result = compute_margin(
        book,
        snapshot,
        margin_model,
        by_account=by_account,
        compare=others,
        with_liquidation_prices=True,
    )
    coin = currency.strip().upper()
    if coin not in USD_LIKE:
        if coin not in snapshot.underlyings:
            raise InputError(
                Problem(
                    f"--currency {currency}",
                    f"not USD and not an underlying of the market {snapshot.source}",
                    f"Use USD or one of {', '.join(sorted(snapshot.underlyings))}.",
                )
            )
        result = result.in_currency(coin, snapshot.spot(coin))
    data = margin_dict(result)
    emit_result(
        format,
        output,
        data,
        rows=lambda: data["accounts"] if by_account else data["positions"],
        markdown=lambda: margin_markdown(data),
        draw=lambda console: print_margin(console, data),
    )
