"""Terminal rendering with rich: the only package that imports rich.

Functions take the plain dicts built by :mod:`pmargin.report`, so what the terminal shows and
what ``--format json`` prints come from one place. Shared consoles and number formats live here;
each command's tables live in a module of their own.
"""

from __future__ import annotations

import os
import sys

from rich.console import Console
from rich.text import Text

from ..report import run_line
from .fit import UNBOUNDED

STATUS_STYLE = {"ok": "bold green", "margin_call": "bold yellow", "liquidation": "bold red"}


class ResultConsole(Console):
    """A console whose closed pipe is an error for the CLI boundary to handle (rich's own
    handling exits 1, which ``pmargin check`` uses for "a limit is breached")."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError

    def print(self, *objects, crop: bool = False, **options) -> None:
        """As rich prints, but a line wider than the console is kept whole (a table whose
        kept columns need more than the terminal has; see :mod:`pmargin.render.fit`)."""
        super().print(*objects, crop=crop, **options)


def no_color() -> bool:
    """``NO_COLOR`` set to a non-empty value turns colour off (https://no-color.org)."""
    return bool(os.environ.get("NO_COLOR"))


#: the width of results written to a file or a pipe
FILE_WIDTH = 160


def stdout_console(file=None, *, wide: bool = False) -> Console:
    """Console for results: the terminal's width (or ``COLUMNS``), 160 columns when not writing
    to a terminal, or (``wide``) no limit, so that tables keep every column. A closed pipe
    raises :class:`BrokenPipeError` (see :class:`ResultConsole`)."""
    console = ResultConsole(file=file, no_color=no_color(), highlight=False)
    if wide:
        return ResultConsole(file=file, no_color=no_color(), highlight=False, width=UNBOUNDED)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console = ResultConsole(file=file, no_color=no_color(), highlight=False, width=FILE_WIDTH)
    return console


def footer(console: Console, run: dict) -> None:
    """The line under every table that says what produced it (version, model, market)."""
    console.print(Text(run_line(run), style="dim"))


def stderr_console() -> Console:
    return Console(file=sys.stderr, no_color=no_color(), highlight=False, soft_wrap=True)


def error(message: str) -> None:
    stderr_console().print(Text("error: ", style="bold red") + Text(message))


def warning(message: str) -> None:
    stderr_console().print(Text("warning: ", style="bold yellow") + Text(message))


def note(message: str) -> None:
    """A line of progress on stderr (what was written where)."""
    stderr_console().print(Text(message, style="dim"))


def usd(value: float | None, *, signed: bool = False) -> str:
    """To the dollar, with thousands separators; what rounds to 0 is ``0`` (never ``-0``)."""
    if value is None:
        return "—"
    if abs(value) < 0.5:
        return "0"
    return f"{value:+,.0f}" if signed else f"{value:,.0f}"


def money(value: float | None, currency: str = "USD", *, signed: bool = False) -> str:
    """USD to the dollar; a coin (``--currency BTC``) to 4 decimals; never ``-0``."""
    if currency == "USD" or value is None:
        return usd(value, signed=signed)
    if abs(value) < 0.00005:
        return "0"
    return f"{value:+,.4f}" if signed else f"{value:,.4f}"


def number(value: float, digits: int = 4) -> str:
    """Significant digits under 1,000, whole numbers above; float noise (< 1e-12) is ``0``."""
    if abs(value) < 1e-12:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.{digits}g}"
