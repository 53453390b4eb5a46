"""``pmargin scenarios list | show NAME``: the bundled scenario library."""

from __future__ import annotations

from typing import Annotated

import typer

from ..cli import Format, FormatOption, OutputOption, app, command, emit_result
from ..io.scenario_file import bundled_sets, load_scenarios
from ..render.stress import print_library, print_scenario_set
from ..report import markdown_table
from ..report.stress import library_rows, scenario_set_dict, scenario_set_markdown

scenarios_app = typer.Typer(
    help="The bundled scenario library: `list` (the default) and `show NAME`.",
    no_args_is_help=False,
    invoke_without_command=True,
    rich_markup_mode=None,
)
app.add_typer(scenarios_app, name="scenarios")


@scenarios_app.callback()
def scenarios_callback(ctx: typer.Context) -> None:
    """The bundled scenario library: `list` (the default) and `show NAME`."""
    if ctx.invoked_subcommand is None:
        list_command(format=Format.table, output=None)


@scenarios_app.command("list")
@command
def list_command(
    format: FormatOption = Format.table,
    output: OutputOption = None,
    debug: Annotated[bool, typer.Option("--debug", hidden=True)] = False,
) -> None:
    """Every bundled scenario set: name, kind, number of scenarios, description."""
    rows = library_rows([load_scenarios(name) for name in bundled_sets()])
    headers = ["name", "kind", "count", "description"]
    emit_result(
        format,
        output,
        {"scenario_sets": rows},
        rows=lambda: rows,
        markdown=lambda: markdown_table(headers, [[r[h] for h in headers] for r in rows]),
        draw=lambda console: print_library(console, rows),
    )


@scenarios_app.command("show")
@command
def show_command(
    name: Annotated[str, typer.Argument(help="A bundled set name or a scenario YAML file.")],
    format: FormatOption = Format.table,
    output: OutputOption = None,
    debug: Annotated[bool, typer.Option("--debug", hidden=True)] = False,
) -> None:
    """A scenario set's description, parameters and shocks (per underlying; * = others)."""
    data = scenario_set_dict(load_scenarios(name))
    emit_result(
        format,
        output,
        data,
        rows=lambda: [
            {"name": s["name"], "days": s["days"], "weight": s["weight"]}
            | {f"{k}_{u}": v for u, shock in s["shocks"].items() for k, v in shock.items()}
            for s in data.get("scenarios", [])
        ],
        markdown=lambda: scenario_set_markdown(data),
        draw=lambda console: print_scenario_set(console, data),
    )
