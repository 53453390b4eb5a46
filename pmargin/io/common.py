"""Shared helpers for loaders: reading files, parsing YAML safely, checking numbers."""

from __future__ import annotations

import difflib
import math
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError, Problem, ProblemCollector


def read_text(path: str | Path, what: str) -> str:
    """Read a UTF-8 text file or raise an :class:`InputError` that names it and the fix."""
    path = Path(path)
    if not path.exists():
        raise InputError(Problem(str(path), f"{what} file not found", "Check the path."))
    if path.is_dir():
        raise InputError(Problem(str(path), f"is a folder, not a {what} file", "Name a file."))
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            Problem(str(path), f"is not UTF-8 text (byte {exc.start})", "Save it as UTF-8.")
        ) from None
    except OSError as exc:
        raise InputError(Problem(str(path), f"cannot be read: {exc.strerror}")) from None


def load_yaml(path: str | Path, what: str) -> Any:
    """``yaml.safe_load`` a file; malformed YAML becomes an InputError naming the line."""
    text = read_text(path, what)
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise InputError(
            Problem(
                f"{path}{line}",
                f"malformed YAML: {exc.problem or exc}",
                "Check indentation, colons and quotes on that line.",
            )
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(Problem(str(path), f"malformed YAML: {exc}")) from None


def expect_mapping(value: Any, where: str, what: str) -> dict:
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
    except (TypeError, ValueError):
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


def unknown_key_problem(where: str, key: str, valid: list[str] | tuple[str, ...]) -> Problem:
    """A problem for an unknown key, suggesting the closest valid one."""
    close = difflib.get_close_matches(str(key), list(valid), n=1)
    fix = f"Did you mean `{close[0]}`?" if close else f"Valid keys: {', '.join(valid)}."
    return Problem(where, f"unknown key `{key}`", fix)


def resolve_beside(path: str | Path, reference: str | Path) -> Path:
    """Resolve ``reference`` relative to the folder of ``path`` (absolute paths unchanged)."""
    reference = Path(reference).expanduser()
    return reference if reference.is_absolute() else Path(path).parent / reference
