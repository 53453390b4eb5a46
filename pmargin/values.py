"""Checked numbers, dates and keys, shared by the file loaders and the margin models' readers.

Nothing here reads a file: each helper takes a value already parsed (from YAML, CSV or a dict),
checks it, and records a :class:`~pmargin.errors.Problem` naming ``where`` (``file: key``) and the
fix when it is wrong, so a caller collects every problem of a file before failing once.

Bounds. Every number pmargin reads is finite and at most :data:`LARGEST` in size; the fields that
feed the arithmetic have tighter bounds, so that no input overflows to ``inf`` (or underflows to a
0 that is then divided by) before a result is printed:

=====================================  ===========================================================
field                                  accepted range
=====================================  ===========================================================
any number                             finite, at most :data:`LARGEST` (1e15) in size
spot, forwards, strikes, entry prices  :data:`PRICE_MIN` (1e-12) to :data:`PRICE_MAX` (1e12) USD
``mark_price``                         0 to :data:`PRICE_MAX` (inverse options: in coin, checked
                                       against the option's bounds by :mod:`pmargin.book`)
``quantity``, collateral amounts       at most :data:`QUANTITY_MAX` (1e12) in size
``multiplier``                         :data:`MULTIPLIER_MIN` (1e-12) to :data:`MULTIPLIER_MAX`
                                       (1e9)
``vol`` (flat)                         above 0 to :data:`VOL_MAX` (10 = 1,000%)
smile vols                             above 0 to :data:`SMILE_VOL_MAX` (10,000): a fitted
                                       wing or a strike minutes from expiry goes far past
                                       1,000% (Derive's published PMRM_2 cases quote 3,247)
``rate``, ``carry``                    at most :data:`RATE_MAX` (5 = 500% a year) in size
expiries                               at most :data:`MAX_YEARS_TO_EXPIRY` (30) years after the
                                       market's ``as_of``
spot moves                             above −1 to :data:`MOVE_MAX` (100 = +10,000%)
relative vol moves                     −1 to :data:`MOVE_MAX`
``vol_shift``                          at most :data:`VOL_MAX` in size
``days``, ``horizon_days``             0 to :data:`DAYS_MAX` (3,650 = ten years)
``weight`` of a scenario               0 to :data:`WEIGHT_MAX` (10)
``vol_term`` powers                    0 to :data:`POWER_MAX` (2)
grid ``steps``                         1 to :data:`MAX_GRID_STEPS` (1,000)
scenarios in an explicit or grid set   at most :data:`MAX_SCENARIOS` (100,000)
=====================================  ===========================================================

Dates are ISO 8601 only (:data:`ACCEPTED_DATES`): ``2024-12-27`` or ``2024-12-27T08:00:00Z``.
Compact forms such as ``20241227`` are refused, never read as midnight.
"""

from __future__ import annotations

import difflib
import math
import re
import reprlib
from collections.abc import Callable, Iterable
from datetime import date, datetime, timezone
from typing import Any

import numpy as np

from .errors import InputError, Problem, ProblemCollector

#: the largest magnitude of any number in any input
LARGEST = 1e15
PRICE_MIN, PRICE_MAX = 1e-12, 1e12
QUANTITY_MAX = 1e12
MULTIPLIER_MIN, MULTIPLIER_MAX = 1e-12, 1e9
VOL_MAX = 10.0
SMILE_VOL_MAX = 10_000.0
RATE_MAX = 5.0
MOVE_MAX = 100.0
DAYS_MAX = 3650.0
WEIGHT_MAX = 10.0
POWER_MAX = 2.0
MAX_SCENARIOS = 100_000
MAX_YEARS_TO_EXPIRY = 30.0
MAX_GRID_STEPS = 1_000

#: the date forms every loader accepts, for messages
ACCEPTED_DATES = "YYYY-MM-DD (e.g. 2024-12-27) or an ISO 8601 time (2024-12-27T08:00:00Z)"
#: a calendar date, optionally a time (after ``T`` or a space) and a UTC offset; nothing compact
ISO_INSTANT = (
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?)?"
)
_ISO_INSTANT = re.compile(ISO_INSTANT)
_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 40
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = 4
_SHORT.maxlevel = 2


def describe(value: Any) -> str:
    """A short ``repr`` of ``value`` for a message (a huge list or string is cut)."""
    return _SHORT.repr(value)


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
    maximum: float | None = None,
    strictly_positive: bool = False,
) -> float | None:
    """``float(value)`` if it is a finite number in range, else record a problem and give None.

    A number larger in size than :data:`LARGEST` is refused whatever the range.
    """
    if isinstance(value, bool) or value is None:
        problems.add(where, f"expected a number, found {describe(value)}")
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        problems.add(where, f"expected a number, found {describe(value)}")
        return None
    if not math.isfinite(number):
        problems.add(where, f"{describe(value)} is not a finite number", "Give a real value.")
        return None
    if strictly_positive and number <= 0:
        problems.add(where, f"must be > 0, found {describe(value)}")
        return None
    if minimum is not None and number < minimum:
        problems.add(where, f"must be ≥ {minimum:g}, found {describe(value)}")
        return None
    if maximum is not None and number > maximum:
        problems.add(where, f"must be ≤ {maximum:g}, found {describe(value)}")
        return None
    if abs(number) > LARGEST:
        problems.add(where, f"{describe(value)} is too large (at most {LARGEST:g} in size)")
        return None
    return number


def is_price(values: np.ndarray) -> np.ndarray:
    """Which of ``values`` are prices pmargin reads: finite, :data:`PRICE_MIN` to
    :data:`PRICE_MAX` (NaN is not)."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(values) & (values >= PRICE_MIN) & (values <= PRICE_MAX)


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
    maximum: float | None = None,
    positive: bool = False,
) -> float | None:
    """:func:`finite_number` with the short keyword ``positive``."""
    return finite_number(
        value, where, problems, minimum=minimum, maximum=maximum, strictly_positive=positive
    )


def number_list(
    value: Any,
    where: str,
    problems: ProblemCollector,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
) -> list[float]:
    """A non-empty list of finite numbers in range; problems name ``where[i]``."""
    if not isinstance(value, list) or not value:
        problems.add(where, f"expected a non-empty list of numbers, found {describe(value)}")
        return []
    numbers = [
        number(v, f"{where}[{i}]", problems, minimum=minimum, maximum=maximum)
        for i, v in enumerate(value)
    ]
    return [n for n in numbers if n is not None]


def spot_axis(
    value: Any,
    where: str,
    problems: ProblemCollector,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
) -> list[float]:
    """A list of moves, or ``{min, max, steps}`` expanded to equidistant points.

    ``steps`` is a whole number from 1 to :data:`MAX_GRID_STEPS`; one step needs ``min == max``
    (one point cannot span a range). Every move is within [``minimum``, ``maximum``] when given.
    """
    if not isinstance(value, dict):
        return number_list(value, where, problems, minimum=minimum, maximum=maximum)
    unknown = set(value) - {"min", "max", "steps"}
    if unknown:
        problems.add(where, f"unknown keys {sorted(map(str, unknown))}", "Use min, max and steps.")
    low = number(value.get("min"), f"{where}.min", problems, minimum=minimum, maximum=maximum)
    high = number(value.get("max"), f"{where}.max", problems, minimum=minimum, maximum=maximum)
    steps = whole_number(value.get("steps"), f"{where}.steps", problems, minimum=1)
    if low is None or high is None or steps is None:
        return []
    if steps > MAX_GRID_STEPS:
        problems.add(
            f"{where}.steps",
            f"at most {MAX_GRID_STEPS:,} steps, found {steps:,}",
            "A finer grid changes no margin or stress figure.",
        )
        return []
    if high < low:
        problems.add(where, f"max {high} is below min {low}")
        return []
    if steps == 1 and high != low:
        problems.add(
            f"{where}.steps",
            f"1 step cannot span min {low:g} to max {high:g}",
            "Use at least 2 steps, or the same min and max.",
        )
        return []
    return [round(x, 12) for x in np.linspace(low, high, steps).tolist()]


def whole_number(
    value: Any,
    where: str,
    problems: ProblemCollector,
    *,
    minimum: int,
    maximum: int | None = None,
) -> int | None:
    """An integer-valued finite number in [``minimum``, ``maximum``], else a problem and None."""
    checked = finite_number(value, where, problems)
    if checked is None:
        return None
    if checked != int(checked) or checked < minimum:
        problems.add(where, f"must be a whole number ≥ {minimum}, found {describe(value)}")
        return None
    if maximum is not None and checked > maximum:
        problems.add(where, f"at most {maximum:,}, found {int(checked):,}")
        return None
    return int(checked)


def upper_key(key: Any) -> str:
    """An underlying or coin code as pmargin compares them: stripped, upper case."""
    return str(key).strip().upper()


def same_key_problems(
    mapping: dict, where: str, what: str, normalise: Callable[[Any], Any] = upper_key
) -> list[Problem]:
    """Keys of ``mapping`` that name the same ``what`` once normalised (``BTC`` and ``btc`` for
    an underlying, ``90000`` and ``"9e4"`` for a strike): one problem per clash naming the keys
    and, for a mapping read from YAML, their lines. Keys ``normalise`` cannot read are skipped
    (the caller reports them)."""
    lines = getattr(mapping, "key_lines", {})
    groups: dict[Any, list[Any]] = {}
    for key in mapping:
        try:
            normal = normalise(key)
        except (TypeError, ValueError, OverflowError):
            continue
        if normal is not None:
            groups.setdefault(normal, []).append(key)
    found = []
    for keys in groups.values():
        if len(keys) < 2:
            continue
        named = " and ".join(f"`{k}`" for k in keys)
        at = [str(lines[k]) for k in keys if k in lines]
        on_lines = ""
        if len(at) == len(keys):
            distinct = list(dict.fromkeys(at))
            on_lines = (
                f" (both on line {at[0]})" if len(distinct) == 1 else f" (lines {' and '.join(at)})"
            )
        found.append(
            Problem(
                where,
                f"{named} are the same {what}{on_lines}; only one of them would be used",
                "Keep one of them.",
            )
        )
    return found


def instant(
    value: Any, where: str, problems: ProblemCollector, *, bare_date_hour: int = 8
) -> datetime | None:
    """A UTC datetime from a YAML date or datetime, or an ISO 8601 string (:data:`ACCEPTED_DATES`).

    A bare date is ``bare_date_hour``:00 UTC (08:00, when contracts expire, unless the caller
    says otherwise); a time without an offset is UTC. Anything else (``20241227``,
    ``27/12/2024``, an impossible day) is a problem naming ``where``.
    """
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, bare_date_hour, tzinfo=timezone.utc)
    text = value.strip() if isinstance(value, str) else ""
    if not _ISO_INSTANT.fullmatch(text):
        problems.add(where, f"{describe(value)} is not a date", f"Use {ACCEPTED_DATES}.")
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, bare_date_hour, tzinfo=timezone.utc)
        return _utc(datetime.fromisoformat(text.upper().replace("Z", "+00:00")))
    except ValueError as exc:
        problems.add(where, f"impossible date {describe(value)} ({exc})", f"Use {ACCEPTED_DATES}.")
        return None


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)
