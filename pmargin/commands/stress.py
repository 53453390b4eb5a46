"""``pmargin stress``: a portfolio's P&L under scenario sets, worst first."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from ..errors import InputError, Problem
from .common import (
    ByAccountOption,
    DebugOption,
    Format,
    FormatOption,
    MarketOption,
    ModelOption,
    OutputOption,
    PlotOption,
    PortfolioArgument,
    emit_result,
    load_inputs,
    load_margin_model,
    refuse_second_output,
    run_context,
)

#: scenario × underlying figures a stress report lists at most (each listed scenario has a P&L
#: and shocks per underlying); a larger run needs ``--top N`` (its VaR, ES and worst scenario
#: still come from every scenario), so the report's memory stays well under 1 GB
MAX_LISTED_FIGURES = 300_000


class By(str, Enum):
    underlying = "underlying"
    position = "position"


def stress_command(
    ctx: typer.Context,
    portfolio: PortfolioArgument = None,
    scenario: Annotated[
        list[str] | None,
        typer.Option(
            "--scenario",
            "-s",
            metavar="NAME|FILE",
            help="Scenario set: a bundled name (see `pmargin scenarios list`) or a YAML file. "
            "Repeatable.",
            show_default=False,
        ),
    ] = None,
    market: MarketOption = None,
    model: ModelOption = None,
    top: Annotated[
        int | None,
        typer.Option("--top", min=1, help="Only the N worst scenarios of each set."),
    ] = None,
    by: Annotated[
        By,
        typer.Option(
            "--by",
            help="`underlying`: P&L per underlying (columns); `position`: the positions that "
            "drive the worst scenario (CSV then lists positions).",
        ),
    ] = By.underlying,
    by_account: ByAccountOption = False,
    format: FormatOption = Format.table,
    output: OutputOption = None,
    plot: PlotOption = None,
    debug: DebugOption = False,
) -> None:
    """P&L under scenario sets, worst first; VaR/ES for historical and Monte Carlo sets; with
    collateral, equity after each scenario and the scenarios that force a liquidation.

    With --by-account also each account's own worst scenario (accounts never net).
    """
    from .. import render
    from ..io.scenario_file import bundled_sets
    from ..render.plot import check_plot_target, write_stress_chart
    from ..render.stress import print_stress, stress_progress
    from ..report import run_dict
    from ..report.stress import stress_dict, stress_markdown, stress_rows, stress_summary
    from ..stress import run_stress

    if plot is not None:  # refused before anything is computed
        check_plot_target(plot)
    run = run_context(ctx)
    names = list(scenario or run.config.scenarios)
    if not names:
        raise InputError(
            Problem(
                "--scenario",
                "no scenario set given",
                f"Add e.g. `--scenario crash` (bundled: {', '.join(bundled_sets())}) or a YAML "
                "file, or set `scenarios:` in pmargin.yaml.",
            )
        )
    scenario_sets = _load_all(names)
    run.read(*(getattr(s, "source", None) for s in scenario_sets))
    run.read(*(getattr(s, "prices", None) or None for s in scenario_sets))
    holdings, snapshot = load_inputs(ctx, portfolio, market)
    _check_report_size(scenario_sets, len(holdings.underlyings), top)
    if plot is not None:  # the chart draws every scenario, whatever --top lists
        _check_report_size(scenario_sets, len(holdings.underlyings), None, "--plot")
        refuse_second_output(plot, "--plot", output)
    margin_model = load_margin_model(ctx, run.config.model_or_default(model))
    # a set with a correlation stress is valued twice: stressed and as the market has it
    total = sum(
        getattr(s, "count", 0) * (2 if getattr(s, "correlation_stress", 0) else 1)
        for s in scenario_sets
    )
    with stress_progress(total) as progress:
        result = run_stress(
            holdings, snapshot, scenario_sets, progress=progress, model=margin_model
        )
    for s in result.sets:
        for message in s.warnings:
            render.warning(message)
    data = stress_dict(result, top=top, by_position=by is By.position, by_account=by_account)
    if plot is not None:  # every scenario, whatever --top keeps in the table
        write_stress_chart(data if top is None else stress_dict(result), plot)
    emit_result(
        format,
        output,
        data,
        rows=lambda: stress_rows(data),
        markdown=lambda: stress_markdown(data, top),
        draw=lambda console: print_stress(console, data, top),
        run=run_dict(market=snapshot, model=data["model"]),  # a model only with collateral
        summary=stress_summary(data),
    )


def _check_report_size(
    scenario_sets: list, underlyings: int, top: int | None, option: str = "--top"
) -> None:
    """Refuse to list more than :data:`MAX_LISTED_FIGURES` figures; ``--top`` lists fewer (a
    chart, ``option="--plot"``, draws every scenario)."""
    listed = sum(min(s.count, top or s.count) for s in scenario_sets)
    if listed * max(underlyings, 1) > MAX_LISTED_FIGURES:
        what = "report lists" if option == "--top" else "chart draws"
        fix = (
            "Pass e.g. `--top 100` to list each set's worst scenarios (VaR, ES and the worst "
            "scenario are still computed over all of them)."
            if option == "--top"
            else "Chart a set with fewer scenarios (paths)."
        )
        raise InputError(
            Problem(
                option,
                f"{listed:,} scenarios × {underlyings} underlyings is more than the "
                f"{MAX_LISTED_FIGURES:,} figures a {what}",
                fix,
            )
        )


def _load_all(names: list[str]) -> list:
    """Every named set, or one InputError listing the problems of all of them."""
    from ..io.scenario_file import load_scenarios

    sets, problems = [], []
    for name in names:
        try:
            sets.append(load_scenarios(name))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return sets
