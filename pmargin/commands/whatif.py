"""``pmargin whatif``: margin before and after trades, and what each trade adds alone."""

from __future__ import annotations

from typing import Annotated

import typer

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


def whatif_command(
    ctx: typer.Context,
    portfolio: PortfolioArgument = None,
    add: Annotated[
        list[str] | None,
        typer.Option(
            "--add",
            help="A trade INSTRUMENT:QUANTITY (e.g. BTC-27DEC24-60000-C:-5), or a .csv/.yaml "
            "file of trades in the portfolio format. Repeatable.",
        ),
    ] = None,
    account: Annotated[
        str | None,
        typer.Option("--account", help="The account of trades that name none."),
    ] = None,
    market: MarketOption = None,
    model: ModelOption = None,
    format: FormatOption = Format.table,
    output: OutputOption = None,
    debug: DebugOption = False,
) -> None:
    """Margin, equity and status before and after trades; each trade's incremental margin."""
    from ..io.trades import load_trades
    from ..render.whatif import print_whatif
    from ..report import run_dict
    from ..report.whatif import whatif_dict, whatif_markdown, whatif_summary
    from ..whatif import what_if

    trades = load_trades(add or [], account=account or "")
    book, snapshot = load_inputs(ctx, portfolio, market)
    margin_model = load_margin_model(ctx, run_context(ctx).config.model_or_default(model))
    data = whatif_dict(what_if(book, snapshot, margin_model, trades))
    emit_result(
        format,
        output,
        data,
        rows=lambda: data["trades"],
        markdown=lambda: whatif_markdown(data),
        run=run_dict(market=snapshot, model=margin_model.name),
        summary=whatif_summary(data),
        draw=lambda console: print_whatif(console, data),
    )
