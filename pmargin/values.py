"""Checked numbers and keys, shared by the file loaders and the margin models' parameter readers.

Nothing here reads a file: each helper takes a value already parsed (from YAML, CSV or a dict),
checks it, and records a :class:`~pmargin.errors.Problem` naming ``where`` (``file: key``) and the
fix when it is wrong, so a caller collects every problem of a file before failing once.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .errors import InputError, Problem, ProblemCollector


def expect_mapping(value: Any, where: str, what: str) -> dict:
    """``value`` if it is a mapping, else an InputError naming ``where`` and what it should be."""
    if not isinstance(value, dict):
        kind = "empty" if value is None else type(value).__name__
        raise InputError(Problem(where, f"expected a mapping ({what}), found {kind}"))
    return value


def finite_number(
    value: Any,
    where: str,
    problems: ProblemCollector,
    *,
    minimum: float | None = None,
    strictly_positive: bool = False,
) -> float | None:
    """``float(value)`` if it is a finite number in range, else record a problem and give None."""
    if isinstance(value, bool) or value is None:
        problems.add(where, f"expected a number, found {value!r}")
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        problems.add(where, f"expected a number, found {value!r}")
        return None
    if not math.isfinite(number):
        problems.add(where, f"{value!r} is not a finite number", "Give a real value.")
        return None
    if strictly_positive and number <= 0:
        problems.add(where, f"must be > 0, found {value!r}")
        return None
    if minimum is not None and number < minimum:
        problems.add(where, f"must be ≥ {minimum:g}, found {value!r}")
        return None
    return number


def unknown_key_problem(where: str, key: str, valid: Iterable[str]) -> Problem:
    """A problem for an unknown key, suggesting the closest valid one."""
    valid = list(valid)
    close = difflib.get_close_matches(str(key), valid, n=1)
    fix = f"Did you mean `{close[0]}`?" if close else f"Valid keys: {', '.join(valid)}."
    return Problem(where, f"unknown key `{key}`", fix)


def check_keys(
    mapping: dict,
    valid: Iterable[str],
    where: str,
    problems: ProblemCollector,
    *,
    sep: str | None = None,
) -> None:
    """Record an unknown-key problem for every key of ``mapping`` not in ``valid``.

    The problem is located at ``where`` (the message names the key), or at ``where<sep>key``
    when ``sep`` is given (``": "`` for a top-level key, ``"."`` for a nested one).
    """
    valid = tuple(valid)
    for key in mapping:
        if key not in valid:
            at = where if sep is None else f"{where}{sep}{key}"
            problems.append(unknown_key_problem(at, str(key), valid))


def section(document: dict, key: str, where: str, problems: ProblemCollector) -> dict:
    """``document[key]`` as a mapping ({} when absent or null); a non-mapping is a problem."""
    value = document.get(key, {})
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.add(f"{where}: {key}", "expected a mapping")
        return {}
    return value


def number(
    value: Any,
    where: str,
    problems: ProblemCollector,
    *,
    minimum: float | None = None,
    positive: bool = False,
) -> float | None:
    """:func:`finite_number` with the short keyword ``positive``."""
    return finite_number(value, where, problems, minimum=minimum, strictly_positive=positive)


def number_list(
    value: Any, where: str, problems: ProblemCollector, *, minimum: float | None = None
) -> list[float]:
    """A non-empty list of finite numbers (each ≥ ``minimum``); problems name ``where[i]``."""
    if not isinstance(value, list) or not value:
        problems.add(where, f"expected a non-empty list of numbers, found {value!r}")
        return []
    numbers = [number(v, f"{where}[{i}]", problems, minimum=minimum) for i, v in enumerate(value)]
    return [n for n in numbers if n is not None]


def spot_axis(value: Any, where: str, problems: ProblemCollector) -> list[float]:
    """A list of moves, or ``{min, max, steps}`` expanded to equidistant points."""
    if isinstance(value, dict):
        unknown = set(value) - {"min", "max", "steps"}
        if unknown:
            problems.add(where, f"unknown keys {sorted(unknown)}", "Use min, max and steps.")
        low = number(value.get("min"), f"{where}.min", problems)
        high = number(value.get("max"), f"{where}.max", problems)
        steps = number(value.get("steps"), f"{where}.steps", problems, minimum=1)
        if None in (low, high, steps):
            return []
        if steps != int(steps):
            problems.add(f"{where}.steps", f"must be a whole number, found {steps}")
            return []
        if high < low:
            problems.add(where, f"max {high} is below min {low}")
            return []
        return [round(x, 12) for x in np.linspace(low, high, int(steps)).tolist()]
    return number_list(value, where, problems)


def whole_number(value: Any, where: str, problems: ProblemCollector, *, minimum: int) -> int | None:
    """An integer-valued finite number ≥ ``minimum``, else a problem and None."""
    checked = finite_number(value, where, problems)
    if checked is None:
        return None
    if checked != int(checked) or checked < minimum:
        problems.add(where, f"must be a whole number ≥ {minimum}, found {value!r}")
        return None
    return int(checked)
