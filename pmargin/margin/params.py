"""Reading model parameters from YAML: numbers, lists and axes, with messages naming the key."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ProblemCollector
from ..io.common import finite_number


def section(document: dict, key: str, where: str, problems: ProblemCollector) -> dict:
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
    return finite_number(value, where, problems, minimum=minimum, strictly_positive=positive)


def number_list(
    value: Any, where: str, problems: ProblemCollector, *, minimum: float | None = None
) -> list[float]:
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
