"""``pmargin liquidate``: per account, the venue's plan to bring equity back above its margin."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
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
    refuse_overwriting_inputs,
    refuse_second_output,
    run_context,
)


class Target(str, Enum):
    maintenance = "maintenance"
    initial = "initial"


class Mode(str, Enum):
    risk_reducing = "risk-reducing"
    proportional = "proportional"


def liquidate_command(
    ctx: typer.Context,
    portfolio: PortfolioArgument = None,
    market: MarketOption = None,
    model: ModelOption = None,
    target: Annotated[
        Target, typer.Option("--target", help="Restore equity above this margin.")
    ] = Target.maintenance,
    buffer: Annotated[
        float | None,
        typer.Option(
            "--buffer",
            min=0.0,
            help="Stop at equity ≥ (1 + B) × target margin (default: the model's, 0 for deribit).",
            show_default=False,
        ),
    ] = None,
    mode: Annotated[
        Mode,
        typer.Option(
            "--mode",
            help="risk-reducing: lot by lot, most margin freed per fee first (exchange-style); "
            "proportional: the least equal fraction of everything (auction-style).",
        ),
    ] = Mode.risk_reducing,
    positions_after: Annotated[
        Path | None,
        typer.Option(
            "--positions-after",
            help="Also write the book after the plan as a portfolio file (.yaml keeps "
            "collateral and orders; .csv holds positions only).",
            show_default=False,
        ),
    ] = None,
    format: FormatOption = Format.table,
    output: OutputOption = None,
    debug: DebugOption = False,
) -> None:
    """Cancel orders, then close or hedge positions until equity covers the target margin."""
    from .. import render
    from ..io.portfolio_writer import portfolio_format, write_portfolio
    from ..liquidation import liquidate
    from ..render.liquidation import print_liquidation
    from ..report import run_dict
    from ..report.liquidation import (
        liquidation_dict,
        liquidation_markdown,
        liquidation_rows,
        liquidation_summary,
    )

    holdings, snapshot = load_inputs(ctx, portfolio, market)
    margin_model = load_margin_model(ctx, run_context(ctx).config.model_or_default(model))
    if positions_after is not None:  # refused before the plan is computed, not after
        label = f"--positions-after {positions_after}"
        refuse_second_output(positions_after, "--positions-after", output)
        portfolio_format(positions_after, label)
    if output is not None:
        refuse_overwriting_inputs(output, "--output")
    result = liquidate(
        holdings, snapshot, margin_model, target=target.value, buffer=buffer, mode=mode.value
    )
    if positions_after is not None:
        after = result.portfolio_after()
        for left_out in write_portfolio(
            positions_after, after, market=snapshot.source, label=label
        ):
            render.warning(f"{positions_after}: left out {left_out}")
    data = liquidation_dict(result)
    emit_result(
        format,
        output,
        data,
        rows=lambda: liquidation_rows(data),
        markdown=lambda: liquidation_markdown(data),
        draw=lambda console: print_liquidation(console, data),
        run=run_dict(market=snapshot, model=margin_model.name),
        summary=liquidation_summary(data),
    )
