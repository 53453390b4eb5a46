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

STATUS_STYLE = {"ok": "bold green", "margin_call": "bold yellow", "liquidation": "bold red"}


class ResultConsole(Console):
    """A console whose closed pipe is an error for the CLI boundary to handle (rich's own
    handling exits 1, which ``pmargin check`` uses for "a limit is breached")."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def stdout_console(file=None) -> Console:
    """Console for results; wide (160 columns) when not writing to a terminal."""
    console = ResultConsole(file=file, no_color="NO_COLOR" in os.environ, highlight=False)
    if not console.is_terminal:
        console = ResultConsole(
            file=file, no_color="NO_COLOR" in os.environ, highlight=False, width=160
        )
    return console


def stderr_console() -> Console:
    return Console(
        file=sys.stderr, no_color="NO_COLOR" in os.environ, highlight=False, soft_wrap=True
    )


def error(message: str) -> None:
    stderr_console().print(Text("error: ", style="bold red") + Text(message))


def warning(message: str) -> None:
    stderr_console().print(Text("warning: ", style="bold yellow") + Text(message))


def note(message: str) -> None:
    """A line of progress on stderr (what was written where)."""
    stderr_console().print(Text(message, style="dim"))


def usd(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:+,.0f}" if signed else f"{value:,.0f}"


def money(value: float | None, currency: str = "USD", *, signed: bool = False) -> str:
    """USD to the dollar; a coin (``--currency BTC``) to 4 decimals."""
    if currency == "USD" or value is None:
        return usd(value, signed=signed)
    return f"{value:+,.4f}" if signed else f"{value:,.4f}"


def number(value: float, digits: int = 4) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.{digits}g}"
