"""``pmargin check``: a portfolio against risk limits, for CI (exit 1 on any breach)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError, PmarginError, Problem
from .common import (
    ByAccountOption,
    DebugOption,
    EngineName,
    EngineOption,
    Format,
    FormatOption,
    MarketOption,
    ModelOption,
    OutputOption,
    PortfolioArgument,
    SchedulerOption,
    emit_result,
    load_inputs,
    load_margin_model,
    make_engine,
    refuse_second_output,
    run_context,
)

SUMMARY_VARIABLE = "GITHUB_STEP_SUMMARY"


def append_step_summary(markdown: str) -> None:
    """Append ``markdown`` to the file named by ``GITHUB_STEP_SUMMARY``, if that is set.

    The file is replaced whole (old summary + this table, then a rename), so a failure leaves
    the old summary intact. A summary that cannot be written is a warning, not an error: the
    limits decide the exit code.
    """
    from .. import render
    from ..io.output_file import append_atomic

    target = os.environ.get(SUMMARY_VARIABLE)
    if not target:
        return
    try:
        append_atomic(target, markdown + "\n", label=f"{SUMMARY_VARIABLE}={target}")
    except PmarginError as exc:
        render.warning(f"cannot append the summary: {exc}")


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
    by_account: ByAccountOption = False,
    engine: EngineOption = EngineName.local,
    scheduler: SchedulerOption = None,
    format: FormatOption = Format.table,
    output: OutputOption = None,
    debug: DebugOption = False,
) -> None:
    """Check risk limits: exit 0 if all hold, 1 if any is breached, 2 on bad input.

    Without --by-account the limits apply to the whole portfolio (margin and equity summed over
    accounts, which never net); with it, to each account. The markdown summary is appended to
    $GITHUB_STEP_SUMMARY when that is set. On bad input the JUnit file and the summary still say
    so (one failing case naming the error), so CI shows it;
    a ``--junit`` file that names an input of the run (or the ``--output`` file) is refused and
    never written.
    """
    from ..io.output_file import write_atomic
    from ..render.check import print_check
    from ..report.check import check_markdown, check_rows
    from ..report.junit import junit_xml

    run_context(ctx).read(portfolio, limits, market, model if _is_file(model) else None)
    try:
        if junit is not None:  # before anything is read: a bad input must not overwrite it
            refuse_second_output(junit, "--junit", output)
        data, run = _checked(ctx, portfolio, limits, market, model, by_account, engine, scheduler)
    except PmarginError as exc:
        report_bad_input(str(exc), junit, output)
        raise
    if junit is not None:
        refuse_second_output(junit, "--junit", output)  # inputs the config named, too
        write_atomic(junit, junit_xml(data), label=f"--junit {junit}")
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


def _is_file(name: str | None) -> bool:
    return name is not None and Path(name).is_file()


def _checked(
    ctx: typer.Context, portfolio, limits, market, model, by_account, engine, scheduler
) -> tuple[dict, dict]:
    """The check result (as :func:`check_dict` builds it) of the run's inputs, and the run."""
    from .. import render
    from ..io.limits_file import load_limits
    from ..io.scenario_file import load_scenarios
    from ..limits import check_limits
    from ..report import run_dict
    from ..report.check import check_dict

    run = run_context(ctx)
    config = run.config
    limits_path = limits or config.limits
    if limits_path is None:
        raise InputError(
            Problem(
                "--limits",
                "no limits file given",
                "Pass `--limits limits.yaml` or set `limits: limits.yaml` in pmargin.yaml.",
            )
        )
    run.read(limits_path)
    limit_set = load_limits(limits_path)
    if not limit_set.scenario_sets and config.scenarios:
        limit_set = limit_set.with_scenarios(load_scenarios(s) for s in config.scenarios)
    run.read(*(getattr(s, "source", None) for s in limit_set.scenario_sets))
    run.read(*(getattr(s, "prices", None) or None for s in limit_set.scenario_sets))
    book, snapshot = load_inputs(ctx, portfolio, market)
    margin_model = load_margin_model(ctx, config.model_or_default(model, limit_set.model))
    with make_engine(engine, scheduler) as runner:
        result = check_limits(
            book, snapshot, limit_set, margin_model, by_account=by_account, engine=runner
        )
    for message in result.warnings:
        render.warning(message)
    return check_dict(result), run_dict(market=snapshot, model=margin_model.name)


def report_bad_input(message: str, junit: Path | None, output: Path | None = None) -> None:
    """Tell CI that the check could not run: a JUnit file with one failing case naming the
    error, and the error in the step summary. A file that cannot be written is a warning (one
    that names an input of the run is left alone): the error is what the run reports (exit 2)."""
    from .. import render
    from ..io.output_file import write_atomic
    from ..report.check import error_markdown
    from ..report.junit import junit_error_xml

    append_step_summary(error_markdown(message))
    if junit is None:
        return
    try:
        refuse_second_output(junit, "--junit", output)
    except InputError:
        return  # it names an input or the --output file: never written over (the error says so)
    try:
        write_atomic(junit, junit_error_xml(message), label=f"--junit {junit}")
    except InputError as exc:
        render.warning(str(exc))
