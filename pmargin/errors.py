"""Exceptions raised by the pmargin library.

The library raises only :class:`PmarginError` subclasses for problems a user can fix; the CLI turns
them into one message on stderr and exit code 2. Each problem names where it is (``file:line`` or a
YAML key) and what to do about it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is, what is wrong, and how to fix it."""

    where: str
    message: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        return f"{text}. {self.fix}" if self.fix else text


class PmarginError(Exception):
    """Base class of every error the library raises on purpose."""


class InputError(PmarginError):
    """Bad input: an unreadable or malformed file, a bad value, an unknown name.

    Carries every problem found in one pass, so a user fixes a file in one go.
    """

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem("", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__(self.describe())

    def describe(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        lines = [f"{len(self.problems)} problems:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class MarketDataError(InputError):
    """The market snapshot lacks what a position or scenario needs (spot, vol, correlation)."""


class ProblemCollector:
    """Collects problems while a loader walks a file; raises them together at the end."""

    def __init__(self, error_type: type[InputError] = InputError):
        self.problems: list[Problem] = []
        self.error_type = error_type

    def add(self, where: str, message: str, fix: str = "") -> None:
        self.problems.append(Problem(where, message, fix))

    def append(self, problem: Problem) -> None:
        """Record a problem built elsewhere (e.g. by :func:`pmargin.values.unknown_key_problem`)."""
        self.problems.append(problem)

    def extend(self, problems: list[Problem]) -> None:
        self.problems.extend(problems)

    def __bool__(self) -> bool:
        return bool(self.problems)

    def raise_if_any(self) -> None:
        if self.problems:
            raise self.error_type(self.problems)
