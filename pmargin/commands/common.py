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

import functools
import inspect
import io
import re
import sys
import typing
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Annotated

import typer
import typer.core
from typer.core import TyperGroup

from .. import __version__, render, report
from ..errors import InputError, PmarginError, Problem
from ..io.deribit_export import AUTO, DERIBIT
from ..io.market_file import find_market, load_market
from ..io.portfolio_file import load_portfolio
from ..io.project_config import ProjectConfig, project_config


@dataclass
class RunContext:
    """One run of ``pmargin``: the global options and the project config they select.

    ``file_format`` is ``--from``: ``auto`` (recognise each input by its name and content) or
    ``deribit`` (read the portfolio and a non-YAML market as Deribit API exports).
    """

    debug: bool = False
    config_path: Path | None = None
    file_format: str = AUTO

    @cached_property
    def config(self) -> ProjectConfig:
        """``--config FILE``, else the nearest ``pmargin.yaml``, else no defaults; read once."""
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
        return params

    def get_command(self, ctx: typer.Context, name: str):
        command = super().get_command(ctx, name)
        for param in getattr(command, "params", ()):
            if hasattr(param, "type_descriptor"):
                readable_metavar(param)
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

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except typer.BadParameter as exc:
            exc.message = plain_words(exc.message)
            raise
        except PmarginError as exc:
            if run_context(ctx).debug:
                raise
            render.error(str(exc))
            raise typer.Exit(2) from None


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
        help="Portfolio file: .csv, .yaml, or a Deribit export (.json).", show_default=False
    ),
]


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
        emit_table(lambda console: (draw(console), render.footer(console, run)), output)


def emit_table(draw, output: Path | None) -> None:
    """Render rich output to stdout, or as plain text to ``output``; ``--wide`` draws tables at
    their full width (no column left out)."""
    wide = WIDE.get()
    if output is None:
        draw(render.stdout_console(wide=wide))
        return
    buffer = io.StringIO()
    draw(render.stdout_console(file=buffer, wide=wide))
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
    run = run_context(ctx)
    portfolio = load_portfolio(portfolio_path, run.file_format)
    if portfolio.positions.empty and not portfolio.has_collateral:
        render.warning(f"{portfolio_path} holds no positions and no collateral")
    if market_path is None and portfolio.market_path is None and config.market is not None:
        market_path = config.market
        _warn_if_a_market_sits_beside(Path(portfolio_path), config)
    path, is_demo = find_market(portfolio_path, portfolio.market_path, market_path)
    if is_demo:
        render.warning(
            f"no market given and no market.yaml beside {portfolio_path}; "
            f"using the bundled demo snapshot {path}"
        )
    return portfolio, load_market(path, run.file_format)


def _warn_if_a_market_sits_beside(portfolio_path: Path, config: ProjectConfig) -> None:
    """The project config's market wins over a ``market.yaml`` beside the portfolio (SPEC §3
    lookup); when they are different files, say which one is used."""
    beside = portfolio_path.parent / "market.yaml"
    if beside.is_file() and beside.resolve() != Path(config.market).resolve():
        render.warning(
            f"using the market {config.market} of {config.path}, not {beside} beside the "
            "portfolio; pass --market to choose"
        )
