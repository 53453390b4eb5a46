"""``pmargin check``: a portfolio against risk limits, for CI (exit 1 on any breach)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from .. import render
from ..errors import InputError, PmarginError, Problem
from ..io.limits_file import load_limits
from ..io.model_file import load_model
from ..io.scenario_file import load_scenarios
from ..limits import check_limits
from ..render.check import print_check
from ..report import run_dict
from ..report.check import check_dict, check_markdown, check_rows, error_markdown
from ..report.junit import write_junit, write_junit_error
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
    run_context,
)

SUMMARY_VARIABLE = "GITHUB_STEP_SUMMARY"


def append_step_summary(markdown: str) -> None:
    """Append ``markdown`` to the file named by ``GITHUB_STEP_SUMMARY``, if that is set.

    A summary that cannot be written is a warning, not an error: the limits decide the exit code.
    """
    target = os.environ.get(SUMMARY_VARIABLE)
    if not target:
        return
    try:
        with open(target, "a", encoding="utf-8") as summary:
            summary.write(markdown + "\n")
    except OSError as exc:
        render.warning(f"{SUMMARY_VARIABLE}={target}: cannot append the summary: {exc.strerror}")


def check_command(
    ctx: typer.Context,
    portfolio: PortfolioArgument = None,
    limits: Annotated[
        Path | None,
        typer.Option("--limits", help="Limits YAML (default: `limits:` of pmargin.yaml)."),
    ] = None,
    market: MarketOption = None,
    model: ModelOption = None,
    junit: Annotated[
        Path | None,
        typer.Option("--junit", help="Also write JUnit XML here (one test case per limit)."),
    ] = None,
    format: FormatOption = Format.table,
    output: OutputOption = None,
    debug: DebugOption = False,
) -> None:
    """Check risk limits: exit 0 if all hold, 1 if any is breached, 2 on bad input.

    The markdown summary is appended to $GITHUB_STEP_SUMMARY when that is set. On bad input the
    JUnit file and the summary still say so (one failing case naming the error), so CI shows it.
    """
    try:
        data, run = _checked(ctx, portfolio, limits, market, model)
    except PmarginError as exc:
        report_bad_input(str(exc), junit)
        raise
    if junit is not None:
        write_junit(junit, data)
    markdown = check_markdown(data)
    append_step_summary(markdown)
    emit_result(
        format,
        output,
        data,
        rows=lambda: check_rows(data),
        markdown=lambda: markdown,
        draw=lambda console: print_check(console, data),
        run=run,
        summary={"passed": data["passed"], "breaches": data["breaches"]},
    )
    if not data["passed"]:
        raise typer.Exit(1)


def _checked(ctx: typer.Context, portfolio, limits, market, model) -> tuple[dict, dict]:
    """The check result (as :func:`check_dict` builds it) of the run's inputs, and the run."""
    config = run_context(ctx).config
    limits_path = limits or config.limits
    if limits_path is None:
        raise InputError(
            Problem(
                "--limits",
                "no limits file given",
                "Pass `--limits limits.yaml` or set `limits: limits.yaml` in pmargin.yaml.",
            )
        )
    limit_set = load_limits(limits_path)
    if not limit_set.scenario_sets and config.scenarios:
        limit_set = limit_set.with_scenarios(load_scenarios(s) for s in config.scenarios)
    book, snapshot = load_inputs(ctx, portfolio, market)
    margin_model = load_model(config.model_or_default(model, limit_set.model))
    result = check_limits(book, snapshot, limit_set, margin_model)
    for message in result.warnings:
        render.warning(message)
    return check_dict(result), run_dict(market=snapshot, model=margin_model.name)


def report_bad_input(message: str, junit: Path | None) -> None:
    """Tell CI that the check could not run: a JUnit file with one failing case naming the
    error, and the error in the step summary. A file that cannot be written is a warning: the
    error itself is what the run reports (exit 2)."""
    append_step_summary(error_markdown(message))
    if junit is None:
        return
    try:
        write_junit_error(junit, message)
    except InputError as exc:
        render.warning(str(exc))
