"""Limits file loader (YAML) for ``pmargin check``: every problem names the file and key.

Format (SPEC §3)::

    model: deribit                       # optional; bundled name or model YAML (beside this file)
    scenarios: [crash, my_crash.yaml]    # scenario sets for max_loss: bundled names or files
    limits:                              # every limit optional; all must be numbers ≥ 0
      max_margin: 250000                 # USD
      max_margin_to_equity: 0.8          # a ratio
      max_loss: 100000                   # USD, over every scenario of the listed sets
      max_delta: {BTC: 25, ETH: 300, total: 5000000}   # a number, or per underlying + `total`
      max_gamma: 50000
      max_vega: 20000
      min_excess: 0                      # USD

A greek limit is a plain number (a gross total over underlyings, in USD) or a mapping of
underlying codes (case-insensitive) to bounds in the greek's own units, where the key ``total``
is the gross USD number. ``model:`` and scenario file names resolve beside the limits file; the
model is loaded once here so that a bad one is reported against this file. What each limit
bounds, and how it is checked, is in :mod:`pmargin.limits`.
"""

from __future__ import annotations

import difflib
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem, ProblemCollector
from ..limits import GREEK_LIMITS, LIMIT_NAMES, TOTAL, GreekLimit, Limits
from ..values import finite_number, same_key_problems, unknown_key_problem
from .model_file import load_model
from .project_config import resolve_model_reference, scenario_references
from .scenario_file import load_scenarios
from .yaml_safe import load_yaml

FILE_KEYS = ("model", "scenarios", "limits")


def load_limits(path: str | Path) -> Limits:
    """Load and validate a limits file; every problem names the file and key."""
    path = Path(path)
    return limits_from_document(load_yaml(path, "limits"), path)


def limits_from_document(document: Any, path: str | Path, where: str | None = None) -> Limits:
    """Validate the limits file's structure (a dict); ``model:`` and scenario files resolve
    beside ``path``; problems name ``where`` (default: ``path``)."""
    path = Path(path)
    where = str(path) if where is None else where
    if not isinstance(document, dict):
        kind = "empty" if document is None else type(document).__name__
        raise InputError(
            Problem(where, f"expected a mapping with `limits:`, found {kind}", _EXAMPLE_FIX)
        )
    problems = ProblemCollector()
    for key in document:
        if key not in FILE_KEYS:
            problems.append(unknown_key_problem(f"{where}: {key}", str(key), FILE_KEYS))
    model = None
    if document.get("model") is not None:
        model = resolve_model_reference(path, document["model"], f"{where}: model", problems)
    references = scenario_references(
        path, document.get("scenarios"), f"{where}: scenarios", problems
    )
    values = _limit_values(document.get("limits"), f"{where}: limits", problems)
    problems.raise_if_any()
    if model is not None:
        _check_model(model, f"{where}: model")
    return Limits(
        source=where,
        model=model,
        scenario_sets=tuple(load_scenarios(ref) for ref in references),
        **values,
    )


_EXAMPLE_FIX = "e.g. `limits: {max_margin: 250000, max_delta: {BTC: 25}}`"


def _check_model(model: str, where: str) -> None:
    try:
        load_model(model)
    except InputError as exc:
        raise InputError([replace(p, where=f"{where} ({p.where})") for p in exc.problems]) from None


def _limit_values(raw: Any, where: str, problems: ProblemCollector) -> dict[str, Any]:
    if raw is None or raw == {}:
        problems.add(where, "missing or empty; nothing to check", _EXAMPLE_FIX)
        return {}
    if isinstance(raw, str):
        problems.add(
            where,
            f"expected a mapping of limit names to numbers, found the file name {raw!r}",
            "That is how pmargin.yaml names a limits file; a limits file lists the limits "
            "themselves, " + _EXAMPLE_FIX,
        )
        return {}
    if not isinstance(raw, dict):
        problems.add(where, f"expected a mapping of limits, found {type(raw).__name__}")
        return {}
    values: dict[str, Any] = {}
    for name, value in raw.items():
        key = f"{where}.{name}"
        if name not in LIMIT_NAMES:
            close = difflib.get_close_matches(str(name), LIMIT_NAMES, n=1, cutoff=0.5)
            fix = f"Did you mean `{close[0]}`?" if close else f"Valid: {', '.join(LIMIT_NAMES)}."
            problems.add(key, f"unknown limit `{name}`", fix)
        elif name in GREEK_LIMITS:
            values[name] = _greek_limit(value, key, problems)
        else:
            values[name] = finite_number(value, key, problems, minimum=0)
    return values


def _greek_limit(value: Any, where: str, problems: ProblemCollector) -> GreekLimit | None:
    if not isinstance(value, dict):
        total = finite_number(value, where, problems, minimum=0)
        return None if total is None else GreekLimit(total=total)
    per_underlying: dict[str, float] = {}
    total = None
    problems.extend(same_key_problems(value, where, "underlying"))
    for underlying, bound in value.items():
        name = str(underlying)
        number = finite_number(bound, f"{where}.{name}", problems, minimum=0)
        if number is None:
            continue
        if name.lower() == TOTAL:
            total = number
        else:
            per_underlying[name.upper()] = number
    if not value:
        problems.add(where, "expected a number or a mapping such as {BTC: 25, ETH: 300}")
        return None
    return GreekLimit(per_underlying=per_underlying, total=total)
