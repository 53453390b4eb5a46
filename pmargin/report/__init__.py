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
import orjson

from .records import Records


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
    """``data`` as indented JSON (orjson); :class:`Records` values (large lists kept column-wise,
    one level below the top) are written one object a line, without a dict per row."""
    large: dict[str, Records] = {}

    def placeholder(value: Any) -> Any:
        if isinstance(value, Records):
            token = f"\x00records{len(large)}\x00"
            large[token] = value
            return token
        if isinstance(value, dict):
            return {k: placeholder(v) for k, v in value.items()}
        return value

    options = orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY
    text = orjson.dumps(placeholder(data), option=options).decode()
    for token, records in large.items():
        quoted = orjson.dumps(token).decode()
        indent = _key_indent(text, text.index(quoted))
        text = text.replace(quoted, records.json(indent), 1)
    return text + "\n"


def _key_indent(text: str, position: int) -> str:
    """The spaces that start the line of ``position`` in ``text``."""
    line = text[text.rindex("\n", 0, position) + 1 : position]
    return line[: len(line) - len(line.lstrip(" "))]


def to_csv(rows: list[dict[str, Any]] | Records) -> str:
    """Rows of flat dicts as CSV (nested values are JSON-encoded); Records by pandas' writer."""
    if isinstance(rows, Records):
        return rows.csv()
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
