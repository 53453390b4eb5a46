"""Results as plain data: the dicts ``--format json`` prints and the text of csv/markdown.

These functions are the single source of the machine-readable output (SPEC §4); the CLI prints
exactly what they return. Shared helpers live here; each command's report has its own module.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import numpy as np


def clean(value: Any) -> Any:
    """numpy scalars -> Python; non-finite floats are a bug, so they fail loudly here."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"non-finite number in a result: {number}")
        return 0.0 if number == 0 else number
    return value


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


def to_csv(rows: list[dict[str, Any]]) -> str:
    """Rows of flat dicts as CSV (nested values are JSON-encoded)."""
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in row.items()}
        )
    return buffer.getvalue()


def markdown_table(headers: list[str], rows: list[list[Any]]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:,.2f}"
        return "" if value is None else str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


#: a margin status as words (JSON keeps the key)
STATUS_WORDS = {"ok": "ok", "margin_call": "margin call", "liquidation": "liquidation"}


def status_words(status: str | None) -> str:
    """``margin_call`` -> ``margin call``; None (no collateral stated) -> ``—``."""
    return "—" if status is None else STATUS_WORDS.get(status, status.replace("_", " "))


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 open order``, ``3 open orders`` (``nouns`` for irregular plurals)."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


def limits_headline(passed: bool, breaches: int, total: int) -> str:
    """``all 6 limits hold`` / ``the 1 limit holds`` / ``2 of 6 limits breached``."""
    if passed:
        return "the 1 limit holds" if total == 1 else f"all {total} limits hold"
    if total == 1:
        return "the 1 limit is breached"
    return f"{breaches} of {total} limits breached"


def percent(fraction: float, *, signed: bool = True) -> str:
    """A move as a percentage a reader takes in: ``-16%``, ``+12.5%``, ``-34.5%``, ``+0.04%``
    (one decimal, none when whole; two significant digits under 1%); never ``-0%``."""
    value = fraction * 100
    if abs(value) < 5e-10:
        return "0%"
    sign = "+" if signed else ""
    text = f"{value:{sign}.2g}" if abs(value) < 0.95 else f"{value:{sign}.1f}".removesuffix(".0")
    return f"{text}%"
