"""``pmargin explain``: each position's contribution to the portfolio margin."""

from __future__ import annotations

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


def explain_command(
    ctx: typer.Context,
    portfolio: PortfolioArgument = None,
    market: MarketOption = None,
    model: ModelOption = None,
    format: FormatOption = Format.table,
    output: OutputOption = None,
    debug: DebugOption = False,
) -> None:
    """Margin attribution: each position's contribution (Euler allocation), isolated margin and
    diversification benefit, largest contribution first."""
    from ..attribution import explain_margin
    from ..render.explain import print_explain
    from ..report import run_dict
    from ..report.explain import explain_dict, explain_markdown, explain_summary

    book, snapshot = load_inputs(ctx, portfolio, market)
    margin_model = load_margin_model(ctx, run_context(ctx).config.model_or_default(model))
    data = explain_dict(explain_margin(book, snapshot, margin_model))
    emit_result(
        format,
        output,
        data,
        rows=lambda: data["positions"],
        markdown=lambda: explain_markdown(data),
        run=run_dict(market=snapshot, model=margin_model.name),
        summary=explain_summary(data),
        draw=lambda console: print_explain(console, data),
    )
