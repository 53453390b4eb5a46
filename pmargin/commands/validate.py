"""``pmargin validate``: check files without computing anything."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .. import render
from ..errors import PmarginError
from ..io.validate import validate_file
from .common import DebugOption


def validate_command(
    files: Annotated[
        list[Path], typer.Argument(help="Portfolio, market, scenario, model or limits files.")
    ],
    debug: DebugOption = False,
) -> None:
    """Check files without computing anything; exit 2 if any has a problem."""
    failed = 0
    for path in files:
        try:
            what = validate_file(path)
        except PmarginError as exc:
            failed += 1
            render.error(str(exc))
            continue
        typer.echo(f"ok: {path} ({what})")
    if failed:
        raise typer.Exit(2)
