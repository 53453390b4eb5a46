"""``pmargin scenarios list | show NAME``: the bundled scenario library."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import (
    DebugOption,
    Format,
    FormatOption,
    OutputOption,
    emit_result,
    library_app,
    run_context,
)


def list_command(
    format: FormatOption = Format.table, output: OutputOption = None, debug: DebugOption = False
) -> None:
    """Every bundled scenario set: name, kind, number of scenarios, description."""
    from ..io.scenario_file import bundled_sets, load_scenarios
    from ..render.scenarios import print_library
    from ..report.scenarios import library_markdown, library_rows

    rows = library_rows([load_scenarios(name) for name in bundled_sets()])
    emit_result(
        format,
        output,
        {"scenario_sets": rows},
        rows=lambda: rows,
        markdown=lambda: library_markdown(rows),
        draw=lambda console: print_library(console, rows),
    )


def show_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A bundled set name or a scenario YAML file.")],
    format: FormatOption = Format.table,
    output: OutputOption = None,
    debug: DebugOption = False,
) -> None:
    """A scenario set's description, parameters and shocks (per underlying; * = others)."""
    from ..io.scenario_file import load_scenarios
    from ..render.scenarios import print_scenario_set
    from ..report.scenarios import scenario_set_dict, scenario_set_markdown, scenario_set_rows

    scenario_set = load_scenarios(name, "scenarios show")
    run_context(ctx).read(  # --output may not name them
        getattr(scenario_set, "source", None) or None,
        getattr(scenario_set, "prices", None) or None,
    )
    data = scenario_set_dict(scenario_set)
    emit_result(
        format,
        output,
        data,
        rows=lambda: scenario_set_rows(data),
        markdown=lambda: scenario_set_markdown(data),
        draw=lambda console: print_scenario_set(console, data),
    )


scenarios_app = library_app("scenario library", list_command, show_command)
