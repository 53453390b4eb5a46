"""``pmargin models list | show NAME``: the bundled margin models, their parameters and sources.

A model is a YAML parameter set (``pmargin/models/<name>.yaml``); ``show`` prints where the file
is, so a user can copy it, change a parameter and pass ``--model my.yaml``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer

from .. import report
from ..cli import Format, FormatOption, OutputOption, app, command, emit_result
from ..errors import InputError, Problem
from ..margin import MarginModel, bundled_models, load_model
from ..render.models import print_model, print_models
from ..report import markdown_table

#: keys every model YAML has; the rest are the method's parameters
HEADER_KEYS = ("name", "method", "description", "source")

models_app = typer.Typer(
    help="The bundled margin models: `list` (the default) and `show NAME`.",
    no_args_is_help=False,
    invoke_without_command=True,
    rich_markup_mode=None,
)
app.add_typer(models_app, name="models")


def model_file(name_or_path: str) -> Path:
    """The YAML behind a bundled model name, or the path itself."""
    bundled = Path(str(resources.files("pmargin") / "models")) / f"{name_or_path}.yaml"
    return bundled if bundled.exists() else Path(name_or_path)


def model_row(model: MarginModel) -> dict[str, Any]:
    """One line of ``models list``."""
    return {
        "name": model.name,
        "method": model.method,
        "description": model.description,
        "source": model.source,
    }


def model_dict(model: MarginModel, file: Path) -> dict[str, Any]:
    """``models show``: the header keys, the YAML file and the method's parameters."""
    parameters = {k: v for k, v in model.parameters.items() if k not in HEADER_KEYS}
    return report.clean({**model_row(model), "file": str(file), "parameters": parameters})


def parameter_rows(parameters: Any, prefix: str = "") -> list[dict[str, str]]:
    """Nested parameters flattened to ``{"parameter": "a.b[0].c", "value": "0.5"}`` rows."""
    if isinstance(parameters, dict):
        rows = []
        for key, value in parameters.items():
            rows += parameter_rows(value, f"{prefix}.{key}" if prefix else str(key))
        return rows
    if isinstance(parameters, list) and any(isinstance(v, (dict, list)) for v in parameters):
        rows = []
        for i, value in enumerate(parameters):
            rows += parameter_rows(value, f"{prefix}[{i}]")
        return rows
    return [{"parameter": prefix, "value": _text(parameters)}]


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def model_markdown(data: dict[str, Any]) -> str:
    rows = [[r["parameter"], r["value"]] for r in parameter_rows(data["parameters"])]
    return (
        f"## Model `{data['name']}` (method `{data['method']}`)\n\n"
        f"{data['description']}\n\n**Source:** {data['source']}\n\n**File:** `{data['file']}`\n\n"
        + markdown_table(["parameter", "value"], rows)
    )


@models_app.callback()
def models_callback(ctx: typer.Context) -> None:
    """The bundled margin models: `list` (the default) and `show NAME`."""
    if ctx.invoked_subcommand is None:
        list_command(format=Format.table, output=None)


@models_app.command("list")
@command
def list_command(
    format: FormatOption = Format.table,
    output: OutputOption = None,
    debug: Annotated[bool, typer.Option("--debug", hidden=True)] = False,
) -> None:
    """Every bundled model: name, method, description and source."""
    rows = report.clean([model_row(load_model(name)) for name in bundled_models()])
    headers = ["name", "method", "description", "source"]
    emit_result(
        format,
        output,
        {"models": rows},
        rows=lambda: rows,
        markdown=lambda: markdown_table(headers, [[r[h] for h in headers] for r in rows]),
        draw=lambda console: print_models(console, rows),
    )


@models_app.command("show")
@command
def show_command(
    name: Annotated[str, typer.Argument(help="A bundled model name or a model YAML file.")],
    format: FormatOption = Format.table,
    output: OutputOption = None,
    debug: Annotated[bool, typer.Option("--debug", hidden=True)] = False,
) -> None:
    """A model's description, source, file and every parameter."""
    file = model_file(name)
    if not file.exists():
        raise InputError(
            Problem(
                f"models show {name}",
                "no such model or file",
                f"Use one of {', '.join(bundled_models())}, or a path to a model YAML.",
            )
        )
    data = model_dict(load_model(file), file)
    emit_result(
        format,
        output,
        data,
        rows=lambda: parameter_rows(data["parameters"]),
        markdown=lambda: model_markdown(data),
        draw=lambda console: print_model(console, data, parameter_rows(data["parameters"])),
    )
