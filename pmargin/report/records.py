"""Large lists of JSON objects kept column-wise, and written without a Python dict per row.

A :class:`Records` is a DataFrame plus a *layout*: the JSON object each row becomes. Its text is
built column by column: every column is encoded in one call (numbers by orjson from the numpy
array, strings checked for characters that need escaping in one pass), then the keys and values
of all rows are joined in a single ``str.join``. Fixed nested objects (``worst_scenario``) are
laid out inline; :class:`Present` objects (``by_underlying``) keep only the keys whose value is
not NaN, so an account lists the underlyings it holds.

Numbers must be finite unless their column is declared nullable (NaN is then ``null``): a NaN
elsewhere is a bug, and fails loudly here, as :func:`pmargin.report.clean` does for small dicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

import numpy as np
import orjson
import pandas as pd


@dataclass(frozen=True)
class Field:
    """The JSON key ``key`` holds column ``column``; ``nullable`` allows NaN/None (as null);
    an ``optional`` key is left out of the rows where the value is missing (never the first)."""

    key: str
    column: str
    nullable: bool = False
    optional: bool = False


@dataclass(frozen=True)
class Nested:
    """The JSON key ``key`` holds an object laid out by ``layout`` (the same keys every row);
    with ``when``, null in the rows where column ``when`` is missing."""

    key: str
    layout: tuple[Layout, ...]
    when: str | None = None


@dataclass(frozen=True)
class Present:
    """The JSON key ``key`` holds ``{name: value}`` for the columns ``prefix + name`` whose value
    is not NaN in that row (an empty object when none)."""

    key: str
    prefix: str


@dataclass(frozen=True)
class Constant:
    """The JSON key ``key`` holds ``value``, the same in every row (e.g. a scenario set's name)."""

    key: str
    value: Any


@dataclass(frozen=True)
class Json:
    """The JSON key ``key`` holds column ``column``'s value (dicts, lists, numbers; None as null)
    encoded as it is, one call per row that has one: for a column that few rows fill."""

    key: str
    column: str


@dataclass(frozen=True)
class Items:
    """The JSON key ``key`` holds a list of objects, one per layout of ``layouts``."""

    key: str
    layouts: tuple[tuple[Layout, ...], ...]


Layout = Union[Field, Nested, Present, Constant, Items, Json]  # noqa: UP007 - a runtime alias


def flat(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys (``components.scan_risk``); lists joined with ``; ``."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat(value, f"{name}."))
        elif isinstance(value, (list, tuple)):
            out[name] = "; ".join(str(v) for v in value)
        else:
            out[name] = value
    return out


@dataclass(frozen=True, eq=False)
class Records:
    """A list of JSON objects held as a DataFrame and a layout (see the module doc). Equal to
    the list of dicts it spells (``records == [{...}, ...]``)."""

    frame: pd.DataFrame
    layout: tuple[Layout, ...]

    __hash__ = None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Records):
            return self.rows() == other.rows()
        if isinstance(other, list):
            return self.rows() == other
        return NotImplemented

    def __len__(self) -> int:
        return len(self.frame)

    def head(self, count: int) -> Records:
        return Records(self.frame.iloc[:count], self.layout)

    def largest(self, column: str, count: int) -> Records:
        """The ``count`` rows with the largest ``column`` (ties in row order), largest first."""
        return Records(self.frame.nlargest(count, column, keep="first"), self.layout)

    def rows(self, count: int | None = None) -> list[dict[str, Any]]:
        """The first ``count`` objects (all when None) as dicts, parsed from :meth:`json`."""
        records = self if count is None else self.head(count)
        return orjson.loads(records.json())

    def json(self, indent: str = "") -> str:
        """The JSON array, one object a line (each line starts with ``indent`` + 2 spaces)."""
        return "".join(self.json_parts(indent))

    def json_parts(self, indent: str = "") -> list[str]:
        """The text of :meth:`json` in pieces, to be joined with others in one copy (a result
        of 100k rows is tens of MB: every ``+`` on it is a copy)."""
        count = len(self.frame)
        if count == 0:
            return ["[]"]
        items: list[str | np.ndarray] = []
        _lay_out(self.frame, self.layout, items)
        _append(items, "}")
        items.append(",\n" + indent + "  ")
        width = len(items)
        parts = [""] * (count * width)  # row by row: each item's cells every `width` places
        for column, item in enumerate(items):
            parts[column::width] = [item] * count if isinstance(item, str) else item
        parts[0] = "[\n" + indent + "  " + parts[0]
        parts[-1] = "\n" + indent + "]"
        return parts

    def csv(self) -> str:
        """Every column of the frame as CSV (pandas' writer; NaN and None as empty cells); a
        :class:`Json` column as dotted columns of its values (never JSON in a cell)."""
        frame = self.frame.reset_index(drop=True)
        for item in self.layout:
            if isinstance(item, Json) and item.column in frame:
                values = frame[item.column].to_numpy(object)
                given = np.flatnonzero(pd.notna(values))  # the few rows that have one
                spread = pd.DataFrame(
                    [flat(values[row], f"{item.key}.") for row in given], index=given
                )
                frame = pd.concat(
                    [frame.drop(columns=item.column), spread.reindex(range(len(frame)))], axis=1
                )
        return frame.to_csv(index=False, lineterminator="\n")


def _joined(items: list, count: int) -> np.ndarray:
    """Each row's text (an object array of ``count`` str) from literal text and columns."""
    grid = np.empty((count, len(items)), dtype=object)
    for column, item in enumerate(items):
        grid[:, column] = item
    return np.asarray(["".join(row) for row in grid.tolist()], dtype=object)


def _append(items: list, item: str | np.ndarray) -> None:
    """Add literal text or a column of encoded values; literal text joins the text before it."""
    if isinstance(item, str) and items and isinstance(items[-1], str):
        items[-1] += item
    else:
        items.append(item)


def _lay_out(frame: pd.DataFrame, layout, items: list) -> None:
    """Append the literal text and encoded columns that spell ``layout`` for every row."""
    _append(items, "{")
    for index, item in enumerate(layout):
        label = ("," if index else "") + orjson.dumps(item.key).decode() + ":"
        if isinstance(item, Field) and item.optional:
            if not index:
                raise ValueError("the first key of a layout cannot be optional")
            values = frame[item.column]
            given = values.notna().to_numpy()
            text = np.full(len(frame), "", dtype=object)
            text[given] = label + encode(values[given], nullable=False)
            _append(items, text)
            continue
        _append(items, label)
        if isinstance(item, Field):
            same = _same_text(frame[item.column], nullable=item.nullable)
            if same is not None:  # one value in every row: literal text, not a column
                _append(items, same)
                continue
            text, quoted = _encode(frame[item.column], nullable=item.nullable)
            if quoted:
                _append(items, text)
            else:  # the quotes go in the literal text around the column
                _append(items, '"')
                _append(items, text)
                _append(items, '"')
        elif isinstance(item, Nested):
            missing = None if item.when is None else frame[item.when].isna().to_numpy()
            if missing is not None and missing.any():
                text = np.full(len(frame), "null", dtype=object)
                given = frame[~missing]
                parts: list[str | np.ndarray] = []
                _lay_out(given, item.layout, parts)
                _append(parts, "}")
                text[~missing] = _joined(parts, len(given))
                _append(items, text)
            else:
                _lay_out(frame, item.layout, items)
                _append(items, "}")
        elif isinstance(item, Json):
            values = frame[item.column].to_numpy(object)
            if not pd.notna(values).any():
                _append(items, "null")
                continue
            text = np.full(len(frame), "null", dtype=object)
            for row in np.flatnonzero(pd.notna(values)):  # only the rows that have a value
                text[row] = orjson.dumps(values[row], option=orjson.OPT_SERIALIZE_NUMPY).decode()
            _append(items, text)
        elif isinstance(item, Constant):
            _append(items, orjson.dumps(item.value, option=orjson.OPT_SERIALIZE_NUMPY).decode())
        elif isinstance(item, Items):
            _append(items, "[")
            for position, layout in enumerate(item.layouts):
                _append(items, "," if position else "")
                _lay_out(frame, layout, items)
                _append(items, "}")
            _append(items, "]")
        else:
            _lay_out_present(frame, item.prefix, items)


def _lay_out_present(frame: pd.DataFrame, prefix: str, items: list) -> None:
    """``{"name":value,...}`` per row over the columns ``prefix + name`` that are not NaN.

    A column given in every row, while every row has the same keys before it, is laid out like
    a Field (literal key, encoded column); only the others are joined row by row.
    """
    _append(items, "{")
    started = np.zeros(len(frame), bool)
    for column in (c for c in frame.columns if c.startswith(prefix)):
        values = frame[column]
        given = values.notna().to_numpy()
        if not given.any():
            continue
        key = orjson.dumps(column[len(prefix) :]).decode() + ":"
        if given.all() and (started.all() or not started.any()):
            _append(items, ("," if started.all() else "") + key)
            same = _same_text(values, nullable=False)
            _append(items, encode(values, nullable=False) if same is None else same)
        else:
            cells = np.full(len(frame), "", dtype=object)
            separator = np.where(started[given], ",", "").astype(object)
            cells[given] = separator + key + encode(values[given], nullable=False)
            _append(items, cells)
        started |= given
    _append(items, "}")


def _same_text(values: pd.Series, *, nullable: bool) -> str | None:
    """The JSON text of every value when the column holds one value throughout (a null
    equity, a weight of 1.0), so that it is written as literal text; else None."""
    array = values.to_numpy()
    if not len(array):
        return None
    first = array[0]
    if array.dtype.kind == "f":
        same = np.isnan(array).all() if np.isnan(first) else (array == first).all()
    elif array.dtype.kind in "biu" or isinstance(first, str):
        same = (array == first).all()
    else:
        same = pd.isna(first) and pd.isna(values).all()
    if not same:
        return None
    text, quoted = _encode(values.iloc[:1], nullable=nullable)
    return text[0] if quoted else '"' + text[0] + '"'


def encode(values: pd.Series, *, nullable: bool) -> np.ndarray:
    """Each value of a column as JSON text (an object array of str)."""
    text, quoted = _encode(values, nullable=nullable)
    return text if quoted else '"' + text + '"'


def _encode(values: pd.Series, *, nullable: bool) -> tuple[np.ndarray, bool]:
    """Each value as JSON text, and whether strings carry their quotes (``False``: every value
    is a string that needs none of JSON's escapes, given without its quotes)."""
    array = values.to_numpy()
    if array.dtype.kind == "b":
        return np.where(array, "true", "false").astype(object), True
    if array.dtype.kind in "iu":
        encoded = orjson.dumps(array, option=orjson.OPT_SERIALIZE_NUMPY)
        return np.asarray(_split(encoded), object), True
    if array.dtype.kind == "f":
        missing = ~np.isfinite(array)
        if missing.any() and not (nullable and not np.isinf(array).any()):
            raise ValueError(f"non-finite number in column {values.name!r} of a result")
        clean = np.where(missing, 0.0, array) + 0.0  # + 0.0 turns -0.0 into 0.0
        encoded = orjson.dumps(clean, option=orjson.OPT_SERIALIZE_NUMPY)
        text = np.asarray(_split(encoded), object)
        if missing.any():
            text[missing] = "null"
        return text, True
    codes, uniques = pd.factorize(array)
    missing = codes < 0
    if missing.any() and not nullable:
        raise ValueError(f"missing value in column {values.name!r} of a result")
    if len(uniques) * 2 > len(array):  # mostly distinct (ids): encode every value
        text, quoted = _encode_strings(array[~missing] if missing.any() else array)
        if not missing.any():
            return text, quoted
        full = np.full(len(array), "null", dtype=object)
        full[~missing] = text if quoted else '"' + text + '"'
        return full, True
    text, quoted = _encode_strings(np.asarray(uniques, dtype=object))
    if missing.any():
        text = np.append(text if quoted else '"' + text + '"', "null")
        return text[codes], True  # code -1 takes the appended null
    return text[codes], quoted


def _split(encoded: bytes) -> list[str]:
    """The elements of an orjson array of numbers."""
    return encoded.decode()[1:-1].split(",")


def _encode_strings(array: np.ndarray) -> tuple[np.ndarray, bool]:
    """Strings (no missing values) as JSON text; see :func:`_encode` for ``quoted``."""
    strings = [str(s) for s in array] if array.dtype != object else array.tolist()
    encoded = orjson.dumps(strings)
    plain = "".join(strings).encode()
    if len(encoded) == len(plain) + 3 * len(strings) + 1:  # nothing was escaped
        return np.asarray(encoded.decode()[2:-2].split('","'), dtype=object), False
    return np.asarray([orjson.dumps(s).decode() for s in strings], dtype=object), True
