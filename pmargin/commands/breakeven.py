"""``pmargin breakeven``: reverse stress — the smallest moves that break the account."""

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


def breakeven_command(
    ctx: typer.Context,
    portfolio: PortfolioArgument = None,
    market: MarketOption = None,
    model: ModelOption = None,
    loss: Annotated[
        float | None,
        typer.Option("--loss", help="Target a loss of this many USD instead of maintenance."),
    ] = None,
    horizon_days: Annotated[
        float | None,
        typer.Option(
            "--horizon-days",
            help="Horizon of the joint move's distance (default: the model's, else 1 day).",
        ),
    ] = None,
    format: FormatOption = Format.table,
    output: OutputOption = None,
    debug: DebugOption = False,
) -> None:
    """Reverse stress: the smallest spot moves (per underlying, all together, the most
    plausible joint move) and vol shock at which equity meets maintenance margin."""
    from ..render.breakeven import print_breakeven
    from ..report import run_dict
    from ..report.breakeven import (
        breakeven_dict,
        breakeven_markdown,
        breakeven_rows,
        breakeven_summary,
    )
    from ..reverse_stress import breakeven

    book, snapshot = load_inputs(ctx, portfolio, market)
    margin_model = load_margin_model(ctx, run_context(ctx).config.model_or_default(model))
    result = breakeven(book, snapshot, margin_model, loss=loss, horizon_days=horizon_days)
    data = breakeven_dict(result)
    emit_result(
        format,
        output,
        data,
        rows=lambda: breakeven_rows(data),
        markdown=lambda: breakeven_markdown(data),
        run=run_dict(market=snapshot, model=margin_model.name),
        summary=breakeven_summary(data),
        draw=lambda console: print_breakeven(console, data),
    )
