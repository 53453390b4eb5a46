"""The ``pmargin`` command line: parse arguments, call the library, render the result.

One error boundary (:func:`command`) turns the library's :class:`PmarginError` into one message on
stderr and exit code 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import functools
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from . import __version__, render, report
from .config import default_model, project_config
from .errors import InputError, PmarginError, Problem
from .io.market_file import find_market, load_market
from .io.portfolio_files import load_portfolio
from .portfolio import USD_LIKE
from .render.margin import print_margin
from .report.margin import margin_dict, margin_markdown
from .validate import validate_file

app = typer.Typer(
    name="pmargin",
    help="Stress-test derivatives portfolios and compute portfolio margin.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


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


_state = {"debug": False}


def _debug_enabled(kwargs: dict) -> bool:
    """``--debug`` given before the command (``pmargin --debug compute``) or after it."""
    return bool(kwargs.get("debug") or _state["debug"])


def command(function):
    """Register ``function`` as a command inside the single error boundary."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except PmarginError as exc:
            if _debug_enabled(kwargs):
                raise
            render.error(str(exc))
            raise typer.Exit(2) from None

    return wrapper


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"pmargin {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=version_callback, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Project config (default: ./pmargin.yaml if present)."),
    ] = None,
) -> None:
    """pmargin: portfolio margin and stress tests for crypto derivatives books."""
    _state["debug"] = debug
    _state["config"] = config


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


def active_config() -> Path | None:
    """The ``--config`` file given before the command, if any."""
    return _state.get("config")


def emit_table(draw, output: Path | None) -> None:
    """Render rich output to stdout, or as plain text to ``output``."""
    if output is None:
        draw(render.stdout_console())
        return
    import io

    buffer = io.StringIO()
    draw(render.stdout_console(file=buffer))
    emit(buffer.getvalue(), output)


def load_inputs(portfolio_path: Path | None, market_path: Path | None):
    """Load the portfolio and the market it uses (SPEC §3 lookup order; pmargin.yaml fills
    what the command line leaves out, see :mod:`pmargin.config`)."""
    config = project_config(active_config())
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


@app.command("compute")
@command
def compute_command(
    portfolio: PortfolioArgument = None,
    market: MarketOption = None,
    model: ModelOption = None,
    compare: Annotated[
        bool, typer.Option("--compare", help="Every bundled model side by side.")
    ] = False,
    by_account: Annotated[bool, typer.Option("--by-account", help="Margin per account.")] = False,
    currency: Annotated[
        str,
        typer.Option("--currency", help="Report money in USD or in a coin of the market (BTC)."),
    ] = "USD",
    format: FormatOption = Format.table,
    output: OutputOption = None,
    debug: Annotated[bool, typer.Option("--debug", hidden=True)] = False,
) -> None:
    """Portfolio margin versus isolated margin, with per-position values and greeks."""
    from .compute import compute_margin
    from .margin import bundled_models

    book, snapshot = load_inputs(portfolio, market)
    model = default_model(model, active_config())
    result = compute_margin(
        book, snapshot, model, by_account=by_account, compare=bundled_models() if compare else None
    )
    coin = currency.strip().upper()
    if coin not in USD_LIKE:
        if coin not in snapshot.underlyings:
            raise InputError(
                Problem(
                    f"--currency {currency}",
                    f"not USD and not an underlying of the market {snapshot.source}",
                    f"Use USD or one of {', '.join(sorted(snapshot.underlyings))}.",
                )
            )
        result = result.in_currency(coin, snapshot.spot(coin))
    data = margin_dict(result)
    emit_result(
        format,
        output,
        data,
        rows=lambda: data["accounts"] if by_account else data["positions"],
        markdown=lambda: margin_markdown(data),
        draw=lambda console: print_margin(console, data),
    )


@app.command("validate")
@command
def validate_command(
    files: Annotated[
        list[Path], typer.Argument(help="Portfolio, market, scenario, model or limits files.")
    ],
    debug: Annotated[bool, typer.Option("--debug", hidden=True)] = False,
) -> None:
    """Check files without computing anything; exit 2 if any has a problem."""
    failed = 0
    for path in files:
        try:
            what = validate_file(path)
        except PmarginError as exc:
            failed += 1
            render.error(str(exc))
            continue
        typer.echo(f"ok: {path} ({what})")
    if failed:
        raise typer.Exit(2)


# the other commands register themselves on `app` when imported
from .commands import check, greeks, models, scenarios, stress  # noqa: E402,F401


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
