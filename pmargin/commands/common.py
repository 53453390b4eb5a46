"""What every command shares: the app, its options, the run context, the error boundary, output.

* :data:`app` is the typer application; :mod:`pmargin.cli` registers each command on it;
  shared options (``--market``, ``--format``, ``--debug``, ...) are defined once, here.
* :class:`RunContext` is the state of one run (``--debug``, ``--config`` and the project config,
  read once; the files read, so that ``--output`` never overwrites one), kept on click's context
  rather than in a module-level dict.
* :class:`PmarginGroup` is the single error boundary: a library :class:`PmarginError` becomes one
  message on stderr and exit code 2 (``--debug`` shows the traceback instead); a closed pipe on
  stdout exits :data:`EXIT_BROKEN_PIPE` and Ctrl-C :data:`EXIT_INTERRUPTED`, without a traceback.
* :func:`emit_result` prints a result in the chosen ``--format``; a file given to ``--output`` is
  replaced atomically (:mod:`pmargin.io.output_file`).

Heavy modules (pandas, scipy, the library) are imported inside the functions that need them, so
that ``pmargin --version`` and ``--help`` start in a fraction of a second.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from typer.core import TyperGroup

from ..errors import InputError, PmarginError, Problem

if TYPE_CHECKING:
    from ..io.project_config import ProjectConfig

#: exit code when stdout is a pipe closed early (``pmargin check | head``): 128 + SIGPIPE, what a
#: shell reports for a process killed by it, in every format and for every command
EXIT_BROKEN_PIPE = 141
#: exit code on Ctrl-C: 128 + SIGINT, the shell convention
EXIT_INTERRUPTED = 130
#: errors that mean stdout cannot take the output (a full disk, a lost terminal)
_STDOUT_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EBADF, errno.EINVAL}


class OutputError(PmarginError):
    """The result could not be written to stdout."""


@dataclass
class RunContext:
    """One run of ``pmargin``: the global options, the project config they select and the
    files read (none of which ``--output`` may name)."""

    debug: bool = False
    config_path: Path | None = None
    inputs: list[Path] = field(default_factory=list)

    @cached_property
    def config(self) -> ProjectConfig:
        """``--config FILE``, else ``./pmargin.yaml``, else no defaults; read once per run."""
        from ..io.project_config import project_config

        config = project_config(self.config_path)
        if config.path is not None:
            self.read(config.path)
        return config

    def read(self, *paths) -> None:
        """Record files this run reads."""
        self.inputs += [Path(p) for p in paths if p is not None]


def run_context(ctx: typer.Context) -> RunContext:
    """The RunContext of this run (created on first use)."""
    return ctx.ensure_object(RunContext)


#: the RunContext of the command being run (set by :class:`PmarginGroup` around each command)
_CURRENT_RUN: ContextVar[RunContext | None] = ContextVar("pmargin_run", default=None)


def current_run() -> RunContext | None:
    """The RunContext of the command being run, if any (for helpers without a context)."""
    return _CURRENT_RUN.get()


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


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush of what is left in its buffer
    cannot fail again (and print an "Exception ignored" line)."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


@contextmanager
def writing_stdout() -> Iterator[None]:
    """Write to stdout inside this: a closed pipe exits :data:`EXIT_BROKEN_PIPE`; a full disk
    (or any failed write) is an :class:`OutputError`, one line on stderr and exit 2."""
    try:
        try:
            yield
        finally:
            sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        raise typer.Exit(EXIT_BROKEN_PIPE) from None
    except OSError as exc:
        if exc.errno not in _STDOUT_FULL:
            raise
        _silence_stdout()
        raise OutputError(
            Problem(
                "stdout",
                f"cannot write the result: {exc.strerror}",
                "Free some space, or write the result to a file with --output.",
            )
        ) from None


def finish_stdout(code: int) -> int:
    """Flush stdout at the end of a run; the exit code, or :data:`EXIT_BROKEN_PIPE` / 2 when
    what is left cannot be written (then one line on stderr says why)."""
    try:
        with writing_stdout():
            pass
    except typer.Exit as exit_:
        return exit_.exit_code
    except OutputError as exc:
        from .. import render

        render.error(str(exc))
        return 2
    return code


def _report_error(run: RunContext | None, exc: PmarginError) -> None:
    from .. import render

    if run is not None and run.debug:
        raise exc
    render.error(str(exc))
    raise typer.Exit(2) from None


class PmarginGroup(TyperGroup):
    """The single error boundary of every command below it."""

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            with writing_stdout():  # --help and --version print while the options are parsed
                return super().make_context(info_name, args, parent=parent, **extra)
        except OutputError as exc:
            _report_error(None, exc)

    def invoke(self, ctx: typer.Context):
        run = run_context(ctx)
        token = _CURRENT_RUN.set(run)
        try:
            with writing_stdout():
                return super().invoke(ctx)
        except PmarginError as exc:
            _report_error(run, exc)
        finally:
            _CURRENT_RUN.reset(token)


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
        from .. import __version__

        with writing_stdout():
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
    Path | None, typer.Argument(help="Portfolio file (.csv or .yaml).", show_default=False)
]


def emit(text: str, output: Path | None) -> None:
    """Write a result to ``output`` (atomically; never over a file this run read) or stdout."""
    if output is None:
        with writing_stdout():
            sys.stdout.write(text)
        return
    from ..io.output_file import write_atomic

    refuse_overwriting_inputs(output, "--output")
    write_atomic(output, text, label=f"--output {output}")


def refuse_overwriting_inputs(path: Path, option: str) -> None:
    """An InputError if ``path`` names a file this run read (``--output book.csv`` would destroy
    the portfolio it was computed from)."""
    from ..io.output_file import same_file

    run = current_run()
    for read in run.inputs if run is not None else []:
        if same_file(path, read):
            raise InputError(
                Problem(
                    f"{option} {path}",
                    f"is an input of this run ({read}); writing the result there would destroy it",
                    "Write the result to another file.",
                )
            )


def emit_result(format: Format, output: Path | None, data: dict, *, rows, markdown, draw) -> None:
    """Print a result in the chosen ``--format``.

    JSON is ``data`` itself (what :mod:`pmargin.report` built from the library result); CSV is
    ``rows()``, a list of flat dicts; markdown is ``markdown()``; the table is ``draw(console)``.
    Only the chosen one is built.
    """
    from .. import report

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
    from .. import render

    if output is None:
        with writing_stdout():
            draw(render.stdout_console())
        return
    buffer = io.StringIO()
    draw(render.stdout_console(file=buffer))
    emit(buffer.getvalue(), output)


def load_inputs(ctx: typer.Context, portfolio_path: Path | None, market_path: Path | None):
    """Load the portfolio and the market it uses (SPEC §3 lookup order; pmargin.yaml fills
    what the command line leaves out, see :mod:`pmargin.io.project_config`).

    The market is found and read first, so that a contract expired at its ``as_of`` is reported
    with the portfolio's other problems, in one list.
    """
    from .. import render
    from ..io.common import check_file
    from ..io.market_file import find_market, load_market
    from ..io.portfolio_file import load_portfolio, portfolio_market

    run = run_context(ctx)
    config = run.config
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
    run.read(portfolio_path)
    check_file(Path(portfolio_path), "portfolio")
    named = portfolio_market(portfolio_path)
    if market_path is None and named is None:
        market_path = config.market
    path, is_demo = find_market(portfolio_path, named, market_path)
    if is_demo:
        render.warning(
            f"no market given and no market.yaml beside {portfolio_path}; "
            f"using the bundled demo snapshot {path}"
        )
    run.read(path)
    market = load_market(path)
    portfolio = load_portfolio(portfolio_path, as_of=market.as_of)
    if portfolio.positions.empty and not portfolio.has_collateral:
        render.warning(f"{portfolio_path} holds no positions and no collateral")
    return portfolio, market


def load_margin_model(ctx: typer.Context, name: str):
    """A margin model by name or file (``--model``), recorded with its price file as inputs."""
    from ..io.model_file import load_model, model_file

    model = load_model(name)
    scenario_set = getattr(model, "scenario_set", None)
    estimate = getattr(scenario_set, "estimate", None)  # Monte Carlo drawn from a price file
    run_context(ctx).read(
        model_file(name),
        getattr(scenario_set, "prices", None) or None,
        getattr(estimate, "source", None) or None,
    )
    return model
