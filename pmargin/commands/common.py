"""What every command shares: the app, its options, the run context, the error boundary, output.

* :data:`app` is the typer application; :mod:`pmargin.cli` registers each command on it;
  shared options (``--market``, ``--format``, ``--debug``, ...) are defined once, here, and the
  run's options (``--config``, ``--from``, ``--wide``) are taken after a command's name too
  (:func:`with_run_options`).
* :class:`RunContext` is the state of one run (``--debug``, ``--config`` and the project config,
  read once; ``--from``; the files read, so that ``--output`` never overwrites one), kept on
  click's context rather than in a module-level dict.
* :class:`PmarginGroup` is the single error boundary: a library :class:`PmarginError` becomes one
  message on stderr and exit code 2 (``--debug`` shows the traceback instead); a bad option value
  is told in plain words; a closed pipe on stdout exits :data:`EXIT_BROKEN_PIPE` and Ctrl-C
  :data:`EXIT_INTERRUPTED`, without a traceback.
* :func:`emit_result` prints a result in the chosen ``--format``, saying what produced it; a file
  given to ``--output`` is replaced atomically (:mod:`pmargin.io.output_file`).

Heavy modules (pandas, scipy, the library) are imported inside the functions that need them, so
that ``pmargin --version`` and ``--help`` start in a fraction of a second.
"""

from __future__ import annotations

import errno
import functools
import inspect
import io
import os
import re
import sys
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import typer.core
from typer.core import TyperGroup

from ..errors import InputError, PmarginError, Problem
from ..io.formats import AUTO, DERIBIT

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
    files read (none of which ``--output`` may name).

    ``file_format`` is ``--from``: ``auto`` (recognise each input by its name and content) or
    ``deribit`` (read the portfolio and a non-YAML market as Deribit API exports).
    """

    debug: bool = False
    config_path: Path | None = None
    file_format: str = AUTO
    inputs: list[Path] = field(default_factory=list)

    @cached_property
    def config(self) -> ProjectConfig:
        """``--config FILE``, else the nearest ``pmargin.yaml``, else no defaults; read once."""
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


def _set_config(ctx: typer.Context, value: Path | None) -> None:
    if value is not None:
        run_context(ctx).config_path = value


class FileFormat(str, Enum):
    auto = AUTO
    deribit = DERIBIT


def _set_file_format(ctx: typer.Context, value: FileFormat | None) -> None:
    if value is not None:
        run_context(ctx).file_format = value.value


#: ``--wide`` of this run: tables at their full width (set by the option, reset per run)
WIDE: ContextVar[bool] = ContextVar("wide", default=False)


def _set_wide(value: bool) -> None:
    if value:
        WIDE.set(True)


#: ``--wide``, accepted before the command name and after it
WideOption = Annotated[
    bool,
    typer.Option(
        "--wide",
        help="Tables at their full width, every column shown (lines may be longer than the "
        "terminal).",
        expose_value=False,
        callback=_set_wide,
    ),
]
#: ``--config``, accepted before the command name and after it
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Project config (default: pmargin.yaml in this folder or the nearest parent, "
        "up to the repository root).",
        expose_value=False,
        callback=_set_config,
        show_default=False,
    ),
]
#: ``--from``, accepted before the command name and after it
FromOption = Annotated[
    FileFormat | None,
    typer.Option(
        "--from",
        help="Input format: auto (by name and content) or deribit (Deribit API exports: "
        "private/get_positions, get_account_summary, public/get_book_summary_by_currency).",
        expose_value=False,
        callback=_set_file_format,
        show_default=False,
    ),
]


def with_run_options(command: Callable) -> Callable:
    """``command`` also taking the run's options (``--config``, ``--from``, ``--wide``) after its
    name.

    The options set the :class:`RunContext` (they are not passed to ``command``), so a command
    module declares none of them; :mod:`pmargin.cli` wraps every command it registers.
    """

    extra = {"config": ConfigOption, "file_format": FromOption, "wide": WideOption}

    @functools.wraps(command)
    def wrapped(*args, **kwargs):
        return command(*args, **{k: v for k, v in kwargs.items() if k not in extra})

    signature = inspect.signature(command, eval_str=True)
    parameters = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=kind)
        for name, kind in extra.items()
    ]
    wrapped.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), *parameters]
    )
    wrapped.__annotations__ = {**typing.get_type_hints(command, include_extras=True), **extra}
    return wrapped


#: typer's validation wording -> plain words (a bad option value, shown by click as usual)
PLAIN_WORDS = (
    (re.compile(r"^Value error, "), ""),
    (re.compile(r"'([^']*)' is not one of (.*?)\.?$"), r"\1 is not one of \2"),
    (re.compile(r"^Input should be a valid integer.*"), "expected a whole number"),
    (re.compile(r"^Input should be a valid number.*"), "expected a number"),
    (re.compile(r"^Input should be greater than or equal to (\S+)"), r"must be at least \1"),
    (re.compile(r"^Input should be less than or equal to (\S+)"), r"must be at most \1"),
    (re.compile(r"^Input should be greater than (\S+)"), r"must be more than \1"),
)


def plain_words(message: str) -> str:
    """``Value error, 'JSON' is not one of 'table', 'json'.`` -> ``JSON is not one of table,
    json``; ``Input should be a valid integer, ...`` -> ``expected a whole number``."""
    for pattern, replacement in PLAIN_WORDS:
        message = pattern.sub(replacement, message)
    return re.sub(r"'([^']*)'", r"\1", message) if " is not one of " in message else message


#: the metavar shown in help for an option of each type that names none (never ``<path>``)
METAVARS = {Path: "FILE", int: "N", float: "NUMBER", str: "TEXT", datetime: "DATE"}


class ReadableArgument(typer.core.TyperArgument):
    """An argument shown by its name alone (``PORTFOLIO``, ``[PORTFOLIO]``, ``FILE...``), without
    the internal type typer adds (``<path>``, ``<list[Path]>``, ``{files}...``)."""

    def display_type_rich(self, ctx) -> None:
        return None

    def _usage_display_name(self) -> str:
        name = (self.metavar or str(self.name).upper()) + ("..." if self.nargs != 1 else "")
        return name if self.required else f"[{name}]"


def readable_metavar(param) -> None:
    """Show ``param`` in help by a name a user reads (``FILE``, ``N``, ``PORTFOLIO``) instead of
    the internal type name typer shows; choices and flags keep theirs."""
    if isinstance(param, typer.core.TyperArgument):
        param.__class__ = ReadableArgument  # the same argument, displayed differently
    if param.metavar is not None:
        return
    annotation = param.type_descriptor.annotation
    is_list = typing.get_origin(annotation) is list
    element = typing.get_args(annotation)[0] if is_list else annotation
    if isinstance(param, typer.core.TyperArgument):
        param.metavar = "FILE" if element is Path and param.nargs == -1 else param.name.upper()
    elif element in METAVARS:
        param.metavar = METAVARS[element]


class DirectCoercion:
    """A parameter's value converted without building a pydantic ``TypeAdapter``, in the cases
    where the conversion is plain (what typer's own adapter returns for them); every other value
    goes to typer's coercion, built the first time it is needed.

    typer 0.2x coerces each option through pydantic: it imports pydantic and builds an adapter
    per option, ~40 ms of every run, while a run's options are mostly unset (None), defaults
    that already have their type, text, exact choice names and plain paths.
    """

    def __init__(self, descriptor, build) -> None:
        self.descriptor = descriptor
        self.build = build  # typer's own coercion, built on first need
        self.typer_coercion = None

    def coerce(self, value, param, ctx):
        many = param.multiple or param.nargs == -1
        if value is None:  # what typer's RuntimeParam.coerce gives for an unset value
            return () if many else None
        direct = None if many else self._direct(value)
        if direct is not None:
            return direct
        if self.typer_coercion is None:
            self.typer_coercion = self.build(self.descriptor)
        return self.typer_coercion.coerce(value, param=param, ctx=ctx)

    def _direct(self, value):
        """The converted value, or None when typer's coercion must decide."""
        annotation, info = self.descriptor.annotation, self.descriptor.parameter_info
        if info.parser is not None or self.descriptor.file_annotation is not None:
            return None
        if annotation is str:
            return value if isinstance(value, str) else None
        if isinstance(annotation, type) and issubclass(annotation, Enum):
            if isinstance(value, annotation):
                return value
            by_value = {member.value: member for member in annotation}
            return by_value.get(value) if isinstance(value, str) else None
        plain = annotation is Path and isinstance(value, str) and value and _plain_path(info)
        if plain and (not os.path.exists(value) or os.access(value, os.R_OK)):
            return Path(value)  # an unreadable file: typer's message
        return None


def _plain_path(info) -> bool:
    """A path option with typer's default checks (none but readability when it exists)."""
    return (
        not info.exists
        and info.file_okay
        and info.dir_okay
        and not info.writable
        and not info.resolve_path
        and not info.allow_dash
        and info.path_type is None
    )


def direct_coercion(param) -> None:
    """Give ``param`` a :class:`DirectCoercion` (typer's lazily built coercion lives in its
    ``_runtime_param``; a typer made otherwise is left as it is)."""
    try:
        from typer._coercion import build_runtime_param
    except ImportError:  # pragma: no cover - another typer: its own coercion
        return
    if getattr(param, "_runtime_param", False) is None:
        param._runtime_param = DirectCoercion(param.type_descriptor, build_runtime_param)


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
    """The single error boundary of every command below it: a library :class:`PmarginError`
    becomes one line on stderr and exit 2; a bad option value is told in plain words."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:  # a new run: no --wide until an option says so
            WIDE.set(False)
        try:
            return super().parse_args(ctx, args)
        except typer.BadParameter as exc:
            exc.message = plain_words(exc.message)
            raise

    def get_params(self, ctx: typer.Context):
        params = super().get_params(ctx)
        for param in params:
            if hasattr(param, "type_descriptor"):
                readable_metavar(param)
                direct_coercion(param)
        return params

    def get_command(self, ctx: typer.Context, name: str):
        command = super().get_command(ctx, name)
        for param in getattr(command, "params", ()):
            if hasattr(param, "type_descriptor"):
                readable_metavar(param)
                direct_coercion(param)
        help_option = command.get_help_option(ctx) if command is not None else None
        if hasattr(help_option, "type_descriptor"):  # made once, kept by the command
            direct_coercion(help_option)
        return command

    def format_commands(self, ctx: typer.Context, formatter) -> None:
        """Each command's whole first sentence (wrapped), never cut with "..."."""
        rows = [
            (name, command.get_short_help_str(limit=10_000))
            for name in self.list_commands(ctx)
            if (command := self.get_command(ctx, name)) is not None and not command.hidden
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

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
        except typer.BadParameter as exc:
            exc.message = plain_words(exc.message)
            raise
        except PmarginError as exc:
            _report_error(run, exc)
        finally:
            _CURRENT_RUN.reset(token)


#: ``-h`` as well as ``--help``, for every command and group
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


app = typer.Typer(
    name="pmargin",
    cls=PmarginGroup,
    help="Stress-test derivatives portfolios and compute portfolio margin.",
    context_settings=CONTEXT_SETTINGS,
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
    config: ConfigOption = None,
    file_format: FromOption = None,
    wide: WideOption = False,
) -> None:
    """pmargin: portfolio margin and stress tests for crypto derivatives books."""


def library_app(what: str, list_command, show_command) -> typer.Typer:
    """A ``list | show NAME`` sub-command group over a bundled library (models, scenarios);
    ``list`` is the default."""
    help_text = f"The bundled {what}: `list` (the default) and `show NAME`."
    group = typer.Typer(
        cls=PmarginGroup,
        help=help_text,
        context_settings=CONTEXT_SETTINGS,
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
    str | None,
    typer.Option(
        "--model", metavar="NAME|FILE", help="Margin model: a bundled name or a model YAML file."
    ),
]
#: the format an ``--output`` file's extension asks for when ``--format`` is not given
FORMAT_BY_SUFFIX = {
    ".json": Format.json,
    ".csv": Format.csv,
    ".md": Format.markdown,
    ".markdown": Format.markdown,
}


def _format_from_output(ctx: typer.Context, param: typer.CallbackParam, value: Format) -> Format:
    """``--format`` as given; when not given, what ``--output``'s extension says (click takes
    the options given on the command line first, so ``--output`` is known here)."""
    source = ctx.get_parameter_source(param.name)
    output = ctx.params.get("output")
    if source is not None and source.name == "DEFAULT" and output is not None:
        return FORMAT_BY_SUFFIX.get(Path(output).suffix.lower(), value)
    return value


FormatOption = Annotated[
    Format,
    typer.Option(
        "--format",
        case_sensitive=False,
        callback=_format_from_output,
        help="Output format (default: from --output's extension: .json, .csv, .md; else table).",
    ),
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the result to this file.")
]
PlotOption = Annotated[
    Path | None,
    typer.Option(
        "--plot",
        metavar="FILE",
        help="Also draw a chart to FILE (.png or .svg); needs matplotlib: "
        "pip install 'pmargin[plot]'.",
        show_default=False,
    ),
]
PortfolioArgument = Annotated[
    Path | None,
    typer.Argument(
        help="Portfolio file: .csv, .yaml, a Deribit export (.json), or a folder of .csv/.yaml "
        "files (one account per file).",
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
    from ..account_engine import LocalEngine  # imported when a command runs, not for --help

    return LocalEngine()


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


def refuse_second_output(path: Path, option: str, output: Path | None) -> None:
    """A file written beside the result (``--junit``, ``--plot``, ``--positions-after``) may not
    name an input of this run, nor the ``--output`` file (the second write would replace the
    first)."""
    from ..io.output_file import same_file

    if output is not None and same_file(path, output):
        raise InputError(
            Problem(f"{option} {path}", "is also the --output file", "Name two files.")
        )
    refuse_overwriting_inputs(path, option)


def emit_result(
    format: Format,
    output: Path | None,
    data: dict,
    *,
    rows,
    markdown,
    draw,
    run: dict | None = None,
    summary: dict | None = None,
) -> None:
    """Print a result in the chosen ``--format``, saying what produced it.

    JSON is ``data`` itself (what :mod:`pmargin.report` built from the library result) with
    ``run`` (:func:`pmargin.report.run_dict`: version, market, ``as_of``, model); CSV is
    ``rows()``, a list of dicts, under ``#`` comment lines giving the run and ``summary``;
    markdown is ``markdown()`` with a closing line giving the run; the table is
    ``draw(console)`` with a footer giving the run. Only the chosen one is built.
    """
    from .. import report

    run = run or report.run_dict()
    if format is Format.json:
        emit(report.to_json({**data, "run": run}), output)
    elif format is Format.csv:
        comments = [report.run_line(run)]
        if summary:
            comments.append("summary: " + report.summary_line(summary))
        emit(report.to_csv(rows(), comments), output)
    elif format is Format.markdown:
        emit(markdown().rstrip("\n") + f"\n\n_{report.run_line(run)}_\n", output)
    else:
        from .. import render  # rich: only for the table

        emit_table(lambda console: (draw(console), render.footer(console, run)), output)


def emit_table(draw, output: Path | None) -> None:
    """Render rich output to stdout, or as plain text to ``output``; ``--wide`` draws tables at
    their full width (no column left out)."""
    from .. import render

    wide = WIDE.get()
    if output is None:
        with writing_stdout():
            draw(render.stdout_console(wide=wide))
        return
    buffer = io.StringIO()
    draw(render.stdout_console(file=buffer, wide=wide))
    emit(buffer.getvalue(), output)


def load_inputs(ctx: typer.Context, portfolio_path: Path | None, market_path: Path | None):
    """Load the portfolio and the market it uses (SPEC §3 lookup order; pmargin.yaml fills
    what the command line leaves out, see :mod:`pmargin.io.project_config`).

    The market is found and read first, so that a contract expired at its ``as_of`` is reported
    with the portfolio's other problems, in one list. Both files are recorded as the run's
    inputs (``--output`` may not name them); ``--from`` says how to read them.
    """
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
    if not Path(portfolio_path).is_dir():  # a folder of portfolio files is a set of accounts
        check_file(Path(portfolio_path), "portfolio")
    named = portfolio_market(portfolio_path, run.file_format)
    if market_path is None and named is None and config.market is not None:
        market_path = config.market
        _warn_if_a_market_sits_beside(Path(portfolio_path), config)
    path, is_demo = find_market(portfolio_path, named, market_path)
    if is_demo:
        from .. import render

        render.warning(
            f"no market given and no market.yaml beside {portfolio_path}; "
            f"using the bundled demo snapshot {path}"
        )
    run.read(path)
    market = load_market(path, run.file_format)
    portfolio = load_portfolio(portfolio_path, run.file_format, as_of=market.as_of)
    if portfolio.positions.empty and not portfolio.has_collateral:
        from .. import render

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


def _warn_if_a_market_sits_beside(portfolio_path: Path, config: ProjectConfig) -> None:
    """The project config's market wins over a ``market.yaml`` beside the portfolio (SPEC §3
    lookup); when they are different files, say which one is used."""
    from .. import render

    beside = portfolio_path.parent / "market.yaml"
    if beside.is_file() and beside.resolve() != Path(config.market).resolve():
        render.warning(
            f"using the market {config.market} of {config.path}, not {beside} beside the "
            "portfolio; pass --market to choose"
        )
