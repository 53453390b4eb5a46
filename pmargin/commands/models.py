"""``pmargin models list | show NAME``: the bundled margin models, their parameters and sources.

A model is a YAML parameter set (``pmargin/models/<name>.yaml``); ``show`` prints where the file
is, so a user can copy it, change a parameter and pass ``--model my.yaml``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import InputError, Problem
from .common import (
    DebugOption,
    Format,
    FormatOption,
    OutputOption,
    emit_result,
    library_app,
    load_margin_model,
)


def list_command(
    format: FormatOption = Format.table, output: OutputOption = None, debug: DebugOption = False
) -> None:
    """Every bundled model: name, method, description and source."""
    from .. import report
    from ..io.model_file import bundled_models, load_model
    from ..render.models import print_models
    from ..report.models import model_row, models_markdown

    rows = report.clean([model_row(load_model(name)) for name in bundled_models()])
    emit_result(
        format,
        output,
        {"models": rows},
        rows=lambda: rows,
        markdown=lambda: models_markdown(rows),
        draw=lambda console: print_models(console, rows),
    )


def show_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A bundled model name or a model YAML file.")],
    format: FormatOption = Format.table,
    output: OutputOption = None,
    debug: DebugOption = False,
) -> None:
    """A model's description, source, file and every parameter with its source."""
    from ..io.model_file import bundled_models, model_file
    from ..render.models import print_model
    from ..report.models import model_dict, model_markdown, model_parameter_rows

    file = model_file(name)
    if not file.exists():
        raise InputError(
            Problem(
                f"models show {name}",
                "no such model or file",
                f"Use one of {', '.join(bundled_models())}, or a path to a model YAML.",
            )
        )
    data = model_dict(load_margin_model(ctx, str(file)), file)
    rows = model_parameter_rows(data)
    emit_result(
        format,
        output,
        data,
        rows=lambda: rows,
        markdown=lambda: model_markdown(data),
        draw=lambda console: print_model(console, data, rows),
    )


models_app = library_app("margin models", list_command, show_command)
