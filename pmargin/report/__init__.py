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

from ..version import VERSION
from .records import Records, flat


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
    pieces: list[list[str]] = []  # each large list's pieces, with the text around it
    for token, records in large.items():
        quoted = orjson.dumps(token).decode()
        at = text.index(quoted)
        parts = records.json_parts(_key_indent(text, at))
        parts[0] = text[:at] + parts[0]
        pieces.append(parts)
        text = text[at + len(quoted) :]
    if not pieces:
        return text + "\n"
    pieces[-1][-1] += text + "\n"
    if len(pieces) == 1:  # the usual case: the text is copied once
        return "".join(pieces[0])
    return "".join("".join(parts) for parts in pieces)


def _key_indent(text: str, position: int) -> str:
    """The spaces that start the line of ``position`` in ``text``."""
    line = text[text.rindex("\n", 0, position) + 1 : position]
    return line[: len(line) - len(line.lstrip(" "))]


def plain(data: Any) -> Any:
    """``data`` with every :class:`Records` as its list of dicts (for the Python API)."""
    if isinstance(data, Records):
        return data.rows()
    if isinstance(data, dict):
        return {k: plain(v) for k, v in data.items()}
    return data


def to_csv(rows: list[dict[str, Any]] | Records, comments: list[str] = ()) -> str:
    """Rows as CSV: nested values as dotted columns (never JSON in a cell), the union of every
    row's columns in first-seen order; ``comments`` first, as ``# `` lines (readers such as
    ``pandas.read_csv(comment="#")`` and pmargin's own CSV loader skip them). :class:`Records`
    (large results kept column-wise) go through pandas' writer, column by column."""
    header = "".join(f"# {line}\n" for line in comments)
    if isinstance(rows, Records):
        return header + (rows.csv() if len(rows) else "")
    buffer = io.StringIO()
    buffer.write(header)
    flat_rows = [flat(row) for row in rows]
    columns = list(dict.fromkeys(key for row in flat_rows for key in row))
    if not columns:
        return buffer.getvalue()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat_rows)
    return buffer.getvalue()


def run_dict(*, market: Any = None, model: str | None = None) -> dict[str, Any]:
    """What produced a result (SPEC §4 ``run``): pmargin's version, the market's ``as_of`` and
    source, and the model; null where a command uses none."""
    as_of = None if market is None else market.as_of.strftime("%Y-%m-%dT%H:%M:%SZ")
    source = None if market is None else market.source or None
    return {"pmargin": VERSION, "as_of": as_of, "market": source, "model": model}


def run_line(run: dict[str, Any]) -> str:
    """``pmargin 0.1.0 · model deribit · market market.yaml as of 2024-11-25T08:00:00Z``."""
    parts = [f"pmargin {run['pmargin']}"]
    if run.get("model"):
        parts.append(f"model {run['model']}")
    if run.get("market"):
        parts.append(f"market {run['market']} as of {run['as_of']}")
    return " · ".join(parts)


def summary_line(summary: dict[str, Any]) -> str:
    """``portfolio_margin=106252.12, status=ok, worst_scenario="All -50%, vol +80%"`` (numbers
    to the cent; text with spaces or commas quoted)."""

    def text(value: Any) -> str:
        if isinstance(value, bool) or value is None:
            return "" if value is None else str(value).lower()
        if isinstance(value, float):
            return f"{value:.2f}" if abs(value) >= 0.01 or value == 0 else f"{value:.6g}"
        text = str(value)
        return json.dumps(text) if any(c in text for c in ' ,;="') else text

    return ", ".join(f"{key}={text(value)}" for key, value in summary.items())


def markdown_number(value: float) -> str:
    """A figure in markdown: to the cent from 10,000 up (``1,234,567.89``), else to six
    significant digits (``1,234.57``, ``0.213457``, ``5.3e-05``: BTC amounts and gammas keep
    their digits); ``0`` for zero, never ``-0``."""
    if value == 0:
        return "0"
    return f"{value:,.2f}" if abs(value) >= 10_000 else f"{value:,.6g}"


def markdown_table(headers: list[str], rows: list[list[Any]]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return markdown_number(value)
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
