"""What every command shares: the app, its options, the run context, the error boundary, output.

* :data:`app` is the typer application; :mod:`pmargin.cli` registers each command on it;
  shared options (``--market``, ``--format``, ``--debug``, ...) are defined once, here.
* :class:`RunContext` is the state of one run (``--debug``, ``--config`` and the project config,
  read once), kept on click's context rather than in a module-level dict.
* :class:`PmarginGroup` is the single error boundary: a library :class:`PmarginError` becomes one
  message on stderr and exit code 2 (``--debug`` shows the traceback instead).
* :func:`emit_result` prints a result in the chosen ``--format``.
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from .. import __version__, render, report
from ..account_engine import LocalEngine
from ..errors import InputError, PmarginError, Problem
from ..io.market_file import find_market, load_market
from ..io.portfolio_file import load_portfolio
from ..io.project_config import ProjectConfig, project_config


@dataclass
class RunContext:
    """One run of ``pmargin``: the global options and the project config they select."""

    debug: bool = False
    config_path: Path | None = None

    @cached_property
    def config(self) -> ProjectConfig:
        """``--config FILE``, else ``./pmargin.yaml``, else no defaults; read once per run."""
        return project_config(self.config_path)


def run_context(ctx: typer.Context) -> RunContext:
    """The RunContext of this run (created on first use)."""
    return ctx.ensure_object(RunContext)


def _enable_debug(ctx: typer.Context, value: bool) -> None:
    if value:
        run_context(ctx).debug = True


#: ``--debug``, accepted before the command name and after it (every command declares it)
DebugOption = Annotated[
    bool,
    typer.Option(
        "--debug",
        help="Show the traceback of an error.",
        is_eager=True,
        expose_value=False,
        callback=_enable_debug,
    ),
]


class PmarginGroup(TyperGroup):
    """The single error boundary of every command below it."""

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except PmarginError as exc:
            if run_context(ctx).debug:
                raise
            render.error(str(exc))
            raise typer.Exit(2) from None


app = typer.Typer(
    name="pmargin",
    cls=PmarginGroup,
    help="Stress-test derivatives portfolios and compute portfolio margin.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"pmargin {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Show the version and exit.",
        ),
    ] = False,
    debug: DebugOption = False,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Project config (default: ./pmargin.yaml if present)."),
    ] = None,
) -> None:
    """pmargin: portfolio margin and stress tests for crypto derivatives books."""
    run_context(ctx).config_path = config


def library_app(what: str, list_command, show_command) -> typer.Typer:
    """A ``list | show NAME`` sub-command group over a bundled library (models, scenarios);
    ``list`` is the default."""
    help_text = f"The bundled {what}: `list` (the default) and `show NAME`."
    group = typer.Typer(
        cls=PmarginGroup,
        help=help_text,
        no_args_is_help=False,
        invoke_without_command=True,
        rich_markup_mode=None,
    )

    @group.callback()
    def default(ctx: typer.Context, debug: DebugOption = False) -> None:
        if ctx.invoked_subcommand is None:
            list_command(format=Format.table, output=None)

    default.__doc__ = help_text
    group.command("list")(list_command)
    group.command("show")(show_command)
    return group


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


# options shared by several commands, defined once
MarketOption = Annotated[
    Path | None,
    typer.Option(
        "--market",
        help="Market snapshot YAML (default: the portfolio's `market:`, "
        "market.yaml beside it, or the bundled demo).",
    ),
]
ModelOption = Annotated[
    str | None, typer.Option("--model", help="Margin model: a bundled name or a model YAML file.")
]
FormatOption = Annotated[Format, typer.Option("--format", help="Output format.")]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the result to this file.")
]
PortfolioArgument = Annotated[
    Path | None,
    typer.Argument(
        help="Portfolio file (.csv or .yaml), or a folder of them (one account per file).",
        show_default=False,
    ),
]
ByAccountOption = Annotated[
    bool, typer.Option("--by-account", help="Report each account (accounts never net).")
]


class EngineName(str, Enum):
    local = "local"
    dask = "dask"


EngineOption = Annotated[
    EngineName,
    typer.Option(
        "--engine",
        help="Where the per-account work runs: this process, or a Dask cluster "
        "(pip install 'pmargin[dask]').",
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler address (tcp://host:8786) for --engine dask; "
        "without it a local cluster of 2 workers.",
    ),
]


def make_engine(name: EngineName, scheduler: str | None):
    """The engine that runs the per-account work (a context manager that closes it)."""
    if name is EngineName.dask:
        from ..dask_engine import DaskEngine  # only here: the local engine needs no Dask

        return DaskEngine(scheduler)
    if scheduler:
        raise InputError(
            Problem("--scheduler", "is for the Dask engine", "Add `--engine dask`, or drop it.")
        )
    return LocalEngine()


def emit(text: str, output: Path | None) -> None:
    """Write a result to ``output`` or stdout."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(
            Problem(
                str(output),
                f"cannot write: {exc.strerror}",
                "Check the folder exists and is writable.",
            )
        ) from None


def emit_result(format: Format, output: Path | None, data: dict, *, rows, markdown, draw) -> None:
    """Print a result in the chosen ``--format``.

    JSON is ``data`` itself (what :mod:`pmargin.report` built from the library result); CSV is
    ``rows()``, a list of flat dicts; markdown is ``markdown()``; the table is ``draw(console)``.
    Only the chosen one is built.
    """
    if format is Format.json:
        emit(report.to_json(data), output)
    elif format is Format.csv:
        emit(report.to_csv(rows()), output)
    elif format is Format.markdown:
        emit(markdown(), output)
    else:
        emit_table(draw, output)


def emit_table(draw, output: Path | None) -> None:
    """Render rich output to stdout, or as plain text to ``output``."""
    if output is None:
        draw(render.stdout_console())
        return
    buffer = io.StringIO()
    draw(render.stdout_console(file=buffer))
    emit(buffer.getvalue(), output)


def load_inputs(ctx: typer.Context, portfolio_path: Path | None, market_path: Path | None):
    """Load the portfolio and the market it uses (SPEC §3 lookup order; pmargin.yaml fills
    what the command line leaves out, see :mod:`pmargin.io.project_config`)."""
    config = run_context(ctx).config
    portfolio_path = portfolio_path or config.portfolio
    if portfolio_path is None:
        raise InputError(
            Problem(
                "",
                "no portfolio given",
                "Name a portfolio file, e.g. "
                "`pmargin compute sample_portfolios/hedged_btc_options.csv`, "
                "or set `portfolio:` in pmargin.yaml.",
            )
        )
    portfolio = load_portfolio(portfolio_path)
    if portfolio.positions.empty and not portfolio.has_collateral:
        render.warning(f"{portfolio_path} holds no positions and no collateral")
    if market_path is None and portfolio.market_path is None:
        market_path = config.market
    path, is_demo = find_market(portfolio_path, portfolio.market_path, market_path)
    if is_demo:
        render.warning(
            f"no market given and no market.yaml beside {portfolio_path}; "
            f"using the bundled demo snapshot {path}"
        )
    return portfolio, load_market(path)
