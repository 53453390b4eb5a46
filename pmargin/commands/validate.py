"""``pmargin validate``: check files without computing anything.

A portfolio is checked against the market ``compute`` would use (``--market``, its ``market:``,
pmargin.yaml's, ``market.yaml`` beside it, or the bundled demo), so every check ``compute`` runs
before computing runs here too: columns and values, expiries against the market's ``as_of``, the
underlyings the market lacks, vols and marks. Every problem of a file comes in one list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import PmarginError
from .common import DebugOption, MarketOption, load_inputs, writing_stdout


def validate_command(
    ctx: typer.Context,
    files: Annotated[
        list[Path], typer.Argument(help="Portfolio, market, scenario, model or limits files.")
    ],
    market: MarketOption = None,
    debug: DebugOption = False,
) -> None:
    """Check files without computing anything; exit 2 if any has a problem."""
    from .. import render
    from ..book import bind
    from ..io.validate import file_kind, is_portfolio, load_any

    failed = 0
    for path in files:
        try:
            kind = file_kind(path)
            if is_portfolio(kind):
                what, warnings = kind, ()
                bind(*load_inputs(ctx, path, market))
            else:
                what, warnings = load_any(path)
        except PmarginError as exc:
            failed += 1
            render.error(str(exc))
            continue
        for message in warnings:
            render.warning(message)
        with writing_stdout():
            typer.echo(f"ok: {path} ({what})")
    if failed:
        raise typer.Exit(2)
