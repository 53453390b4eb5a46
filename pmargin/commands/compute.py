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
    PlotOption,
    PortfolioArgument,
    emit_result,
    load_inputs,
    load_margin_model,
    refuse_overwriting_inputs,
    refuse_second_output,
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
        typer.Option(
            "--currency",
            metavar="COIN",
            help="Report money in USD or in a coin of the market (BTC).",
        ),
    ] = "USD",
    format: FormatOption = Format.table,
    output: OutputOption = None,
    plot: PlotOption = None,
    debug: DebugOption = False,
) -> None:
    """Portfolio margin versus isolated margin, with per-position values and greeks."""
    from ..book import bind
    from ..io.model_file import bundled_models, load_model
    from ..portfolio import USD_LIKE
    from ..portfolio_margin import compute_margin
    from ..profile import spot_profiles
    from ..render.margin import print_margin
    from ..render.plot import check_plot_target, write_margin_chart
    from ..report import run_dict
    from ..report.margin import (
        margin_dict,
        margin_markdown,
        margin_rows,
        margin_summary,
        profiles_dict,
    )

    if plot is not None:  # refused before anything is computed
        check_plot_target(plot)
    book, snapshot = load_inputs(ctx, portfolio, market)
    margin_model = load_margin_model(ctx, run_context(ctx).config.model_or_default(model))
    if plot is not None:
        refuse_second_output(plot, "--plot", output)
    if output is not None:
        refuse_overwriting_inputs(output, "--output")
    others = [load_model(name) for name in bundled_models()] if compare else None
    result = compute_margin(
        book,
        snapshot,
        margin_model,
        by_account=by_account,
        compare=others,
        with_liquidation_prices=True,
    )
    if plot is not None:  # in USD, whatever --currency says
        profiles = spot_profiles(bind(book, snapshot), margin_model)
        write_margin_chart(profiles_dict(profiles, margin_dict(result, positions=False)), plot)
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
    shape = "models" if compare else "accounts" if by_account else "positions"
    emit_result(
        format,
        output,
        data,
        rows=lambda: margin_rows(data, shape),
        markdown=lambda: margin_markdown(data),
        draw=lambda console: print_margin(console, data),
        run=run_dict(market=snapshot, model=margin_model.name),
        summary=margin_summary(data),
    )
