"""``pmargin market estimate PRICES.csv``: vols and correlations from daily closes (SPEC §11).

Prints the estimate (``--format``) and, with ``--output``, writes it as a market snapshot YAML:
a new one, or ``--market BASE.yaml`` with its gaps filled (:func:`pmargin.estimate.fill_market`).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError, Problem
from .common import (
    DebugOption,
    Format,
    FormatOption,
    PmarginGroup,
    emit_result,
    refuse_overwriting_inputs,
    run_context,
)

DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
#: :data:`pmargin.estimate.DEFAULT_DECAY` as the help states it (a test holds the two equal; the
#: help is built without importing the estimator, so ``--help`` stays fast)
DECAY_HELP = "EWMA decay λ, 0 < λ < 1 (default 0.94)."


class Method(str, Enum):
    sample = "sample"
    ewma = "ewma"


def estimate_command(
    ctx: typer.Context,
    prices: Annotated[
        Path,
        typer.Argument(
            help="CSV of daily closes: a `date` column and one column per coin.",
            show_default=False,
        ),
    ],
    method: Annotated[
        Method,
        typer.Option("--method", help="`sample` estimators, or `ewma` (RiskMetrics)."),
    ] = Method.sample,
    decay: Annotated[
        float | None,
        typer.Option("--lambda", help=DECAY_HELP),
    ] = None,
    window: Annotated[
        int | None,
        typer.Option("--window", min=1, help="Use the last N daily returns (default: all)."),
    ] = None,
    start: Annotated[
        datetime | None,
        typer.Option("--start", formats=DATE_FORMATS, help="First date (YYYY-MM-DD, UTC)."),
    ] = None,
    end: Annotated[
        datetime | None,
        typer.Option("--end", formats=DATE_FORMATS, help="Last date, included (YYYY-MM-DD)."),
    ] = None,
    market: Annotated[
        Path | None,
        typer.Option(
            "--market",
            help="Base snapshot: its spots, smiles, forwards and rate are kept; correlations "
            "(and vols it lacks) are filled in.",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the market snapshot YAML to this file."),
    ] = None,
    date_column: Annotated[
        str, typer.Option("--date-column", help="Name of the date column.")
    ] = "date",
    format: FormatOption = Format.table,
    debug: DebugOption = False,
) -> None:
    """Annualised vols and the correlation matrix of daily log returns; writes a snapshot."""
    from .. import render
    from ..estimate import DEFAULT_DECAY, estimate, fill_market
    from ..io.market_file import load_market
    from ..io.market_writer import write_market
    from ..io.price_history import load_price_history
    from ..render.market import print_estimate
    from ..report import run_dict
    from ..report.market import estimate_dict, estimate_markdown, estimate_rows, estimate_title

    if decay is not None and method is not Method.ewma:
        raise InputError(Problem("--lambda", "only applies to --method ewma"))
    if decay is not None and not 0 < decay < 1:
        raise InputError(Problem("--lambda", f"must be between 0 and 1, found {decay:g}"))
    run_context(ctx).read(prices, market)
    if output is not None:  # refused before anything is estimated
        refuse_overwriting_inputs(output, "--output")
    base = load_market(market) if market is not None else None
    history = load_price_history(prices, date_column)
    result = estimate(
        history,
        method=method.value,
        decay=DEFAULT_DECAY if decay is None else decay,
        window=window,
        start=start,
        end=end,
    )
    for note in result.notes:
        render.warning(f"{prices}: {note}")
    rows = estimate_rows(result)
    emit_result(
        format,
        None,
        estimate_dict(result),
        rows=lambda: rows,
        markdown=lambda: estimate_markdown(result),
        draw=lambda console: print_estimate(console, estimate_title(result), rows),
        run=run_dict(market=base),
    )
    if output is not None:
        snapshot = fill_market(result, base)
        write_market(output, snapshot, _comment(result, market), label=f"--output {output}")
        render.note(f"wrote the market snapshot {output}")


def _comment(result, market: Path | None) -> str:
    lines = [
        "Market snapshot written by `pmargin market estimate`.",
        f"vol and correlations: {result.describe()}",
    ]
    if result.repair is not None:
        lines.append(f"repair: {result.repair.message()}")
    if market is not None:
        lines.append(
            f"base: {market} (as_of, rate, spots, forwards, carry and smiles kept; vols filled "
            "where it had none; estimated pairs replace its correlations, its other pairs stay)"
        )
    return "\n".join(lines)


market_app = typer.Typer(
    cls=PmarginGroup,
    help="Market snapshots from data: `estimate` vols and correlations from daily closes.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@market_app.callback()
def market_group(debug: DebugOption = False) -> None:
    """Market snapshots from data: `estimate` vols and correlations from daily closes."""


market_app.command("estimate")(estimate_command)
