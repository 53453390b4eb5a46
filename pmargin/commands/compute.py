"""``pmargin compute``: portfolio margin versus isolated margin, per position and account."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import InputError, Problem
from .common import (
    ByAccountOption,
    DebugOption,
    EngineName,
    EngineOption,
    Format,
    FormatOption,
    MarketOption,
    ModelOption,
    OutputOption,
    PlotOption,
    PortfolioArgument,
    SchedulerOption,
    emit_result,
    load_inputs,
    load_margin_model,
    make_engine,
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
    by_account: ByAccountOption = False,
    top: Annotated[
        int | None,
        typer.Option(
            "--top",
            min=1,
            help="List the N accounts with the largest margin (implies --by-account).",
        ),
    ] = None,
    positions: Annotated[
        bool | None,
        typer.Option(
            "--positions/--no-positions",
            help="List the positions (default: yes, but not with --by-account).",
            show_default=False,
        ),
    ] = None,
    engine: EngineOption = EngineName.local,
    scheduler: SchedulerOption = None,
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
    """Margin of each account versus isolated margin, with per-position values and greeks.

    Accounts never net: the totals are sums over accounts.
    """
    from ..book import bind
    from ..io.model_file import bundled_models
    from ..portfolio import USD_LIKE
    from ..portfolio_margin import compute_margin
    from ..report import run_dict
    from ..report.margin import (
        margin_dict,
        margin_markdown,
        margin_rows,
        margin_summary,
        profiles_dict,
    )

    if plot is not None:  # refused before anything is computed
        from ..render.plot import check_plot_target

        check_plot_target(plot)
    book, snapshot = load_inputs(ctx, portfolio, market)
    margin_model = load_margin_model(ctx, run_context(ctx).config.model_or_default(model))
    if plot is not None:
        refuse_second_output(plot, "--plot", output)
    if output is not None:
        refuse_overwriting_inputs(output, "--output")
    others = [load_margin_model(ctx, name) for name in bundled_models()] if compare else None
    by_account = by_account or top is not None
    with make_engine(engine, scheduler) as runner:
        result = compute_margin(
            book,
            snapshot,
            margin_model,
            compare=others,
            engine=runner,
            with_liquidation_prices=True,
            liquidation_accounts=top if by_account else 0,
        )
    if plot is not None:  # in USD, whatever --currency says
        from ..profile import spot_profiles
        from ..render.plot import write_margin_chart

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
    list_positions = not by_account if positions is None else positions
    data = margin_dict(result, positions=list_positions, accounts=by_account, top=top)
    shape = "models" if compare else "accounts" if by_account else "positions"
    emit_result(
        format,
        output,
        data,
        rows=lambda: margin_rows(data, shape),
        markdown=lambda: margin_markdown(data),
        draw=lambda console: _print_margin(console, data),
        run=run_dict(market=snapshot, model=margin_model.name),
        summary=margin_summary(data),
    )


def _print_margin(console, data: dict) -> None:
    from ..render.margin import print_margin  # rich: only for the table

    print_margin(console, data)
