"""Turn rows of text fields (from CSV or YAML) into validated position columns.

Validation runs on **distinct values**: the columns that define an instrument (``instrument``,
``underlying``, ``kind``, ``expiry``, ``strike``, ``right``, ``multiplier``, ``settlement``) are
factorized together, so a book of a million rows over two thousand contracts checks and expands
two thousand combinations; ``quantity``, ``mark_price`` and ``entry_price`` are each factorized
alone. The results are mapped back to the rows by their codes, and every bad row is still
reported with its own ``file:line`` (or YAML key) and column, at most :data:`MAX_ROW_PROBLEMS`
rows per kind of problem, in file order. :class:`RowProblems` keeps that count over the chunks of
a file read in pieces, so a chunked read reports exactly what a whole read does.
"""

from __future__ import annotations

import difflib
import functools
from datetime import date, datetime

import numpy as np
import pandas as pd

from ..errors import Problem, ProblemCollector
from ..instruments import INVERSE_FACE_USD, KINDS, SETTLEMENTS, Instrument, parse_symbol
from ..portfolio import INSTRUMENT_KEY, POSITION_COLUMNS, columns_frame
from ..values import (
    ACCEPTED_DATES,
    ISO_INSTANT,
    MULTIPLIER_MAX,
    MULTIPLIER_MIN,
    PRICE_MAX,
    PRICE_MIN,
    QUANTITY_MAX,
    describe,
)

#: columns a portfolio file may have (SPEC §3); anything else is an error
KNOWN_COLUMNS = (
    "instrument",
    "underlying",
    "kind",
    "expiry",
    "strike",
    "right",
    "quantity",
    "multiplier",
    "settlement",
    "mark_price",
    "entry_price",
    "account",
    "id",
)
#: the columns that together say which instrument a row holds (validated once per combination)
INSTRUMENT_COLUMNS = (
    "instrument",
    "underlying",
    "kind",
    "expiry",
    "strike",
    "right",
    "multiplier",
    "settlement",
)
#: common names from other tools, and the column they mean
COLUMN_ALIASES = {
    "qty": "quantity",
    "amount": "quantity",
    "position": "quantity",
    "symbol": "instrument",
    "ticker": "instrument",
    "instrument_name": "instrument",
    "type": "kind",
    "expiration": "expiry",
    "maturity": "expiry",
    "expiry_date": "expiry",
    "option_type": "right",
    "cp": "right",
    "put_call": "right",
    "strike_price": "strike",
    "contract_size": "multiplier",
    "mark": "mark_price",
    "entry": "entry_price",
    "avg_price": "entry_price",
    "average_price": "entry_price",
}
#: the hint for a `size` column: Deribit's sizes are not contract counts
SIZE_HINT = (
    "A `size` column looks like a Deribit export, whose sizes are not contract counts: inverse "
    "futures and perpetuals are sized in USD (BTC-PERPETUAL size -250000 is -25000 contracts "
    "of 10 USD; ETH contracts are 1 USD), options and USDC contracts in coins. Read the file "
    "with `--from deribit`, or write `quantity` in contracts"
)
MAX_ROW_PROBLEMS = 25
_DATE_ONLY = r"^\d{4}-\d{2}-\d{2}$"


class RowProblems:
    """Problems of rows, in file order, at most :data:`MAX_ROW_PROBLEMS` rows per kind of
    problem (a column and a message) over the whole file, then one "... and N more" line.

    A file read in chunks calls :meth:`begin` for each chunk (its rows' sources and where the
    chunk starts) and :meth:`flush` once at the end.
    """

    def __init__(self, problems: ProblemCollector):
        self.problems = problems
        self.found: list[tuple[int, Problem]] = []
        self.counts: dict[tuple, int] = {}
        self.sources = np.empty(0, dtype=object)
        self.offset = 0
        self.skip = np.zeros(0, bool)  # rows whose symbol failed: no follow-on noise

    def begin(self, sources, offset: int = 0) -> None:
        """Start a chunk: ``sources`` names each row (``file:line``); row 0 is file row
        ``offset``."""
        self.sources = np.asarray(sources, dtype=object)
        self.offset = offset
        self.skip = np.zeros(len(self.sources), bool)

    def add(self, mask, column: str, message, fix: str = "", codes=None) -> None:
        """A problem for every row in ``mask``; with ``codes``, ``mask`` and ``message`` are over
        distinct values and ``codes`` maps each row to its value."""
        mask = np.asarray(mask, bool)
        if codes is not None:
            mask = mask[codes]
        rows = np.flatnonzero(mask if column == "instrument" else mask & ~self.skip)
        key = (column, getattr(message, "__code__", message), fix)
        seen = self.counts.get(key, 0)
        self.counts[key] = seen + len(rows)
        for row in rows[: max(MAX_ROW_PROBLEMS - seen, 0)]:
            at = row if codes is None else codes[row]
            text = message(at) if callable(message) else message
            where = f"{self.sources[row]}: column `{column}`"
            self.found.append((self.offset + int(row), Problem(where, text, fix)))

    def flush(self) -> None:
        """Record the problems found, in file order, then the "... and N more" lines."""
        self.found.sort(key=lambda item: item[0])
        self.problems.extend([problem for _, problem in self.found])
        for (column, _, _), count in self.counts.items():
            if count > MAX_ROW_PROBLEMS:
                more = f"... and {count - MAX_ROW_PROBLEMS} more rows like these"
                self.problems.add(f"column `{column}`", more)
        self.found, self.counts = [], {}


class _Distinct:
    """:class:`RowProblems` seen through ``codes``: masks and messages over distinct values."""

    def __init__(self, rows: RowProblems, codes: np.ndarray, size: int = 0):
        self.rows = rows
        self.codes = codes
        self.flagged = np.zeros(size, bool)  # values with a problem

    def add(self, mask, column: str, message, fix: str = "") -> None:
        mask = np.asarray(mask, bool)
        if len(self.flagged) == len(mask):
            self.flagged |= mask
        self.rows.add(mask, column, message, fix, codes=self.codes)

    def skip_values(self, mask: np.ndarray) -> None:
        """Rows holding these values get no follow-on problems."""
        self.rows.skip |= np.asarray(mask, bool)[self.codes]


def check_columns(columns: list[str], where: str, problems: ProblemCollector) -> bool:
    """Record unknown, duplicate or missing columns; True when the rows can be read."""
    for name in columns:
        if name == "size":
            problems.add(where, "unknown column `size`", SIZE_HINT + ".")
        elif name not in KNOWN_COLUMNS:
            close = (
                [COLUMN_ALIASES[name]]
                if name in COLUMN_ALIASES
                else (difflib.get_close_matches(name, KNOWN_COLUMNS, n=1))
            )
            fix = f"Did you mean `{close[0]}`?" if close else f"Known: {', '.join(KNOWN_COLUMNS)}."
            problems.add(where, f"unknown column `{name}`", fix)
    for name in {c for c in columns if columns.count(c) > 1}:
        problems.add(where, f"column `{name}` appears more than once", "Keep one.")
    ok = True
    if "quantity" not in columns:
        if "size" not in columns:  # else the `size` hint says what to do
            problems.add(where, "missing required column `quantity`", "Add signed contracts.")
        ok = False
    if "instrument" not in columns and not {"underlying", "kind"} <= set(columns):
        problems.add(
            where,
            "no `instrument` column and no `underlying` + `kind` columns",
            "Give exchange symbols (BTC-27DEC24-60000-C) or underlying, kind, expiry, ...",
        )
        ok = False
    return ok and not problems


def factorize_stripped(column: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """``codes`` and distinct values of a text column, cells stripped of surrounding spaces:
    ``values.take(codes)`` is the stripped column. Stripping the distinct values (not every cell)
    is what makes a large file cheap."""
    codes, uniques = pd.factorize(column.to_numpy(object))
    stripped = pd.Series(uniques, dtype=object).str.strip()
    merged, values = pd.factorize(stripped.to_numpy(object))
    if len(values) == len(uniques):
        return codes, pd.Series(values, dtype=object)
    return merged[codes] if len(codes) else codes, pd.Series(values, dtype=object)


def _combined_codes(columns: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the distinct combinations of several factorized columns, and the first row of
    each combination. ``columns`` holds (codes, number of values) per column."""
    codes = np.zeros(len(columns[0][0]), dtype=np.int64)
    size = 1
    for column_codes, count in columns:
        if size * max(count, 1) >= 2**62:  # keep the mixed-radix key inside int64
            codes, uniques = pd.factorize(codes)
            size = len(uniques)
        codes = codes * max(count, 1) + column_codes
        size *= max(count, 1)
    combined, _ = pd.factorize(codes)
    first = np.zeros(combined.max(initial=-1) + 1, dtype=np.int64)
    first[combined[::-1]] = np.arange(len(combined))[::-1]
    return combined, first


def build_positions(*args, **kwargs) -> pd.DataFrame:
    """:func:`position_columns` as a frame."""
    return columns_frame(position_columns(*args, **kwargs))


def position_columns(
    frame: pd.DataFrame,
    sources,
    problems: ProblemCollector,
    *,
    default_account: str = "",
    is_order: bool = False,
    default_ids=None,
    as_of: datetime | None = None,
    rows: RowProblems | None = None,
    offset: int = 0,
    strings: dict[str, str] | None = None,
) -> dict[str, np.ndarray]:
    """Validate rows of text fields and return position columns (:data:`POSITION_COLUMNS`).

    ``frame`` holds text cells ("" where empty; surrounding spaces are stripped here), one
    column per file column; ``sources`` gives each row's ``file:line`` for messages. With
    ``as_of``, a contract expired at that instant is a problem too. Problems are recorded in
    ``problems`` (or, for a file read in chunks, in ``rows``, which the caller flushes); the
    returned columns are only meaningful when none were recorded. ``strings``, kept by the caller
    over the chunks of a file, holds one copy of each account and symbol, so that their memory
    grows with the distinct values, not the rows. A file with an ``account`` column names the
    account of every row (an empty cell is a problem) unless ``default_account`` fills the gaps.
    """
    own_rows = rows is None
    if rows is None:
        rows = RowProblems(problems)
    sources = np.asarray(sources, dtype=object)
    rows.begin(sources, offset)
    count = len(frame)
    text: dict[str, tuple[np.ndarray, pd.Series]] = {}
    for column in KNOWN_COLUMNS:
        if column in frame.columns:
            text[column] = factorize_stripped(frame[column].astype(object))
        else:
            text[column] = (np.zeros(count, dtype=np.int64), pd.Series([""], dtype=object))

    codes, first = _combined_codes([(text[c][0], len(text[c][1])) for c in INSTRUMENT_COLUMNS])
    distinct = pd.DataFrame(
        {c: text[c][1].to_numpy(object)[text[c][0][first]] for c in INSTRUMENT_COLUMNS}
    )
    instruments = _instruments(distinct, _Distinct(rows, codes, len(distinct)), as_of)
    for column in ("instrument", "underlying"):
        instruments[column] = _interned(instruments[column].to_numpy(object), strings)
    out = {column: instruments[column].to_numpy()[codes] for column in instruments.columns}

    quantity_codes, quantity_text = text["quantity"]
    out["quantity"] = _quantity(quantity_text, _Distinct(rows, quantity_codes))[quantity_codes]
    for column in ("mark_price", "entry_price"):
        value_codes, values = text[column]
        checked = _numeric(
            values, column, _Distinct(rows, value_codes), positive=column != "mark_price"
        )
        out[column] = checked[value_codes]
    account_codes, accounts = text["account"]
    if "account" in frame.columns and not default_account:  # an empty cell: a stray account
        _Distinct(rows, account_codes).add(
            (accounts == "").to_numpy(),
            "account",
            "missing (the file has an `account` column)",
            "Name the account of every row, or drop the column for a single-account file.",
        )
    out["account"] = accounts.where(accounts != "", default_account).to_numpy(object)[account_codes]
    id_codes, ids = text["id"]
    given_ids = ids.to_numpy(object)[id_codes]
    fallback = sources if default_ids is None else np.asarray(default_ids, dtype=object)
    out["id"] = np.where(given_ids != "", given_ids, fallback) if count else given_ids
    out["is_order"] = np.full(count, is_order)
    out["source"] = sources
    if own_rows:
        rows.flush()
    return {column: out[column] for column in POSITION_COLUMNS}


def _interned(values: np.ndarray, strings: dict[str, str] | None) -> np.ndarray:
    """``values`` with each string replaced by the first copy ``strings`` holds of it."""
    if strings is None:
        return values
    return np.array([strings.setdefault(value, value) for value in values.tolist()], object)


def _instruments(distinct: pd.DataFrame, rows: _Distinct, as_of) -> pd.DataFrame:
    """Instrument fields of each distinct combination of the instrument columns."""
    fields = _Fields(distinct, _expand_symbols(distinct["instrument"], rows))
    out = pd.DataFrame(index=distinct.index)
    _classify(fields, out, rows)
    _option_terms(fields, out, rows)
    _multiplier(fields, out, rows)
    if as_of is not None:
        _expired(out, rows, as_of)
    symbol = distinct["instrument"].str.upper()
    out["instrument"] = symbol
    named = (symbol == "").to_numpy() & ~rows.flagged  # a symbol for each valid combination
    if named.any():
        out.loc[named, "instrument"] = _symbols(out[named])
    return out


def _numeric(
    text: pd.Series, column: str, rows: _Distinct, *, positive: bool = False
) -> np.ndarray:
    """Parse distinct text values to float; empty -> NaN; anything else non-finite, negative
    (or not positive) or above :data:`PRICE_MAX` is a problem."""
    values = np.array(pd.to_numeric(text, errors="coerce"), dtype=np.float64)
    given = (text != "").to_numpy()
    bad = given & ~np.isfinite(values)
    raw = text.to_numpy()
    rows.add(bad, column, lambda r: f"{describe(raw[r])} is not a finite number")
    if positive:
        rows.add(given & ~bad & (values <= 0), column, lambda r: f"must be > 0, found {raw[r]}")
    else:
        rows.add(given & ~bad & (values < 0), column, lambda r: f"must be ≥ 0, found {raw[r]}")
    low = PRICE_MIN if positive else 0.0
    rows.add(
        given & ~bad & (values > 0) & (values < low),
        column,
        lambda r: f"must be ≥ {PRICE_MIN:g}, found {raw[r]}",
    )
    rows.add(
        given & ~bad & (values > PRICE_MAX),
        column,
        lambda r: f"must be ≤ {PRICE_MAX:g}, found {raw[r]}",
    )
    values[bad] = np.nan
    return values


def _quantity(text: pd.Series, rows: _Distinct) -> np.ndarray:
    """Signed contracts: required, finite, at most :data:`QUANTITY_MAX` in size."""
    values = np.array(pd.to_numeric(text, errors="coerce"), dtype=np.float64)
    given = (text != "").to_numpy()
    bad = given & ~np.isfinite(values)
    raw = text.to_numpy()
    rows.add(bad, "quantity", lambda r: f"{describe(raw[r])} is not a finite number")
    rows.add(
        given & ~bad & (np.abs(values) > QUANTITY_MAX),
        "quantity",
        lambda r: f"{raw[r]} is too large (at most {QUANTITY_MAX:g} contracts)",
    )
    rows.add(~given, "quantity", "missing", "Give signed contracts: + long, − short.")
    values[bad] = np.nan
    return values


def _expand_symbols(symbols: pd.Series, rows: _Distinct) -> pd.DataFrame:
    """Fields implied by each symbol; empty strings where no symbol or a bad one."""
    fields = pd.DataFrame(
        "", index=symbols.index, columns=["underlying", "kind", "settlement", "right"]
    )
    fields["expiry"] = pd.Series(pd.NaT, index=symbols.index, dtype="datetime64[s]")
    fields["strike"] = np.nan
    fields["multiplier"] = np.nan
    parsed = {symbol: _parsed_symbol(symbol) for symbol in pd.unique(symbols[symbols != ""])}
    failed = {symbol: error for symbol, error in parsed.items() if isinstance(error, str)}
    errors = symbols.map(failed).fillna("") if failed else pd.Series("", index=symbols.index)
    bad = (errors != "").to_numpy()
    rows.add(bad, "instrument", lambda r: errors.iloc[r])
    rows.skip_values(bad)
    good = pd.DataFrame(
        [{"symbol": s, **f} for s, f in parsed.items() if isinstance(f, dict)],
        columns=[
            "symbol",
            "underlying",
            "kind",
            "settlement",
            "right",
            "expiry",
            "strike",
            "multiplier",
        ],
    )
    if good.empty:
        return fields
    good["expiry"] = pd.to_datetime(good["expiry"], utc=True).dt.tz_localize(None)
    good = good.set_index("symbol")
    matched = symbols.isin(good.index)
    looked_up = good.reindex(symbols[matched])
    for column in fields.columns:
        values = looked_up[column].to_numpy()
        if column in ("underlying", "kind", "settlement", "right"):
            values = np.where(pd.isna(values), "", values)
        fields.loc[matched, column] = values
    fields["expiry"] = fields["expiry"].astype("datetime64[s]")
    return fields


@functools.lru_cache(maxsize=2**16)
def _parsed_symbol(symbol: str) -> dict | str:
    """A symbol's fields, or the reason it cannot be read (kept across the chunks of a file)."""
    try:
        return parse_symbol(symbol)
    except ValueError as exc:
        return str(exc)


def _parse_expiry(text: pd.Series, rows: _Distinct) -> pd.Series:
    """ISO 8601 expiries (:data:`~pmargin.values.ACCEPTED_DATES`); a bare date is 08:00 UTC.
    Anything else, ``20241227`` included, is a problem (never a guess at midnight)."""
    given = text != ""
    iso = text.str.fullmatch(ISO_INSTANT)
    date_only = text.str.match(_DATE_ONLY)
    parsed = pd.to_datetime(text.where(given & iso), utc=True, format="ISO8601", errors="coerce")
    parsed = parsed.dt.tz_localize(None) + pd.to_timedelta(np.where(date_only, 8, 0), unit="h")
    bad = (given & parsed.isna()).to_numpy()
    raw = text.to_numpy()
    rows.add(
        bad, "expiry", lambda r: f"cannot read date {describe(raw[r])}", f"Use {ACCEPTED_DATES}."
    )
    return parsed.astype("datetime64[s]")


class _Fields:
    """A row's own cells, falling back to what its instrument symbol says (explicit wins)."""

    def __init__(self, frame: pd.DataFrame, from_symbol: pd.DataFrame):
        self.frame = frame
        self.from_symbol = from_symbol

    def text(self, column: str) -> pd.Series:
        own = self.frame[column]
        if column not in self.from_symbol:
            return own
        return own.where(own != "", self.from_symbol[column])


def _classify(fields: _Fields, out: pd.DataFrame, rows: _Distinct) -> None:
    """``underlying``, ``kind`` and ``settlement``: present and known."""
    out["underlying"] = fields.text("underlying").str.upper()
    out["kind"] = fields.text("kind").str.lower()
    out["settlement"] = fields.text("settlement").str.lower().replace("", "linear")
    rows.add(
        (out["underlying"] == "").to_numpy(),
        "underlying",
        "missing",
        "Give the underlying (BTC, ETH, ...) or an instrument symbol.",
    )
    rows.add(
        ~out["kind"].isin((*KINDS, "")).to_numpy(),
        "kind",
        lambda r: f"unknown kind {describe(out['kind'].iloc[r])}",
        f"Use one of {', '.join(KINDS)}.",
    )
    rows.add((out["kind"] == "").to_numpy(), "kind", "missing", f"Use one of {', '.join(KINDS)}.")
    rows.add(
        ~out["settlement"].isin(SETTLEMENTS).to_numpy(),
        "settlement",
        lambda r: f"unknown settlement {describe(out['settlement'].iloc[r])}",
        "Use linear or inverse.",
    )


def _option_terms(fields: _Fields, out: pd.DataFrame, rows: _Distinct) -> None:
    """``right``, ``strike`` and ``expiry``: required where the kind needs them, else empty."""
    frame, from_symbol = fields.frame, fields.from_symbol
    is_option = (out["kind"] == "option").to_numpy()
    dated = out["kind"].isin(("future", "option")).to_numpy()

    right_text = fields.text("right")
    right = right_text.str.lower().map({"c": "call", "call": "call", "p": "put", "put": "put"})
    right_given = (right_text != "").to_numpy()
    rows.add(
        right_given & right.isna().to_numpy(),
        "right",
        lambda r: f"unknown right {describe(right_text.iloc[r])}",
        "Use call or put (C/P).",
    )
    rows.add(is_option & ~right_given, "right", "missing for an option", "Use call or put.")
    rows.add(~is_option & right_given, "right", "given for a non-option", "Leave it empty.")
    out["right"] = right.fillna("").where(is_option, "")

    own_strike = frame["strike"] != ""
    strike = np.where(
        own_strike.to_numpy(),
        _numeric(frame["strike"], "strike", rows, positive=True),
        from_symbol["strike"].to_numpy(np.float64),
    )
    rows.add(
        is_option & np.isnan(strike) & ~own_strike.to_numpy(),
        "strike",
        "missing for an option",
        "Give the strike in USD.",
    )
    rows.add(
        ~is_option & np.isfinite(strike), "strike", "given for a non-option", "Leave it empty."
    )
    out["strike"] = np.where(is_option, strike, np.nan)

    own_expiry = _parse_expiry(frame["expiry"], rows)
    expiry = own_expiry.where(own_expiry.notna(), from_symbol["expiry"])
    rows.add(
        dated & expiry.isna().to_numpy() & (frame["expiry"] == "").to_numpy(),
        "expiry",
        lambda r: f"missing for a {out['kind'].iloc[r]}",
        "Use YYYY-MM-DD.",
    )
    rows.add(
        ~dated & expiry.notna().to_numpy() & out["kind"].isin(KINDS).to_numpy(),
        "expiry",
        lambda r: f"given for a {out['kind'].iloc[r]}",
        "Leave it empty.",
    )
    out["expiry"] = expiry.where(dated).astype("datetime64[s]")


def _multiplier(fields: _Fields, out: pd.DataFrame, rows: _Distinct) -> None:
    """``multiplier``: the file's, else the symbol's, else the kind's default; in
    [:data:`MULTIPLIER_MIN`, :data:`MULTIPLIER_MAX`]."""
    text = fields.frame["multiplier"]
    multiplier = _numeric_in(text, "multiplier", rows, MULTIPLIER_MIN, MULTIPLIER_MAX)
    defaults = _default_multipliers(out)
    symbol_multiplier = fields.from_symbol["multiplier"].to_numpy(np.float64)
    fallback = np.where(np.isfinite(symbol_multiplier), symbol_multiplier, defaults)
    out["multiplier"] = np.where(np.isfinite(multiplier), multiplier, fallback)
    rows.add(
        ((out["kind"] == "spot") & (out["settlement"] == "inverse")).to_numpy(),
        "settlement",
        "spot cannot be inverse",
        "Use linear or leave it empty.",
    )


def _numeric_in(text: pd.Series, column: str, rows: _Distinct, low: float, high: float):
    """A positive number in [``low``, ``high``]; messages as :func:`_numeric`'s."""
    values = np.array(pd.to_numeric(text, errors="coerce"), dtype=np.float64)
    given = (text != "").to_numpy()
    bad = given & ~np.isfinite(values)
    raw = text.to_numpy()
    rows.add(bad, column, lambda r: f"{describe(raw[r])} is not a finite number")
    rows.add(given & ~bad & (values <= 0), column, lambda r: f"must be > 0, found {raw[r]}")
    out_of_range = given & ~bad & (values > 0) & ((values < low) | (values > high))
    rows.add(
        out_of_range, column, lambda r: f"must be between {low:g} and {high:g}, found {raw[r]}"
    )
    values[bad | out_of_range] = np.nan
    return values


def _expired(out: pd.DataFrame, rows: _Distinct, as_of: datetime) -> None:
    """Dated contracts that expired at or before ``as_of`` (the market's)."""
    as_of64 = np.datetime64(as_of.replace(tzinfo=None), "s")
    expiry = out["expiry"].to_numpy("datetime64[s]")
    expired = ~np.isnat(expiry) & (expiry <= as_of64)
    rows.add(
        expired,
        "expiry",
        lambda r: (
            f"expired at {pd.Timestamp(expiry[r])} UTC, before the market's "
            f"as_of {as_of:%Y-%m-%d %H:%M} UTC"
        ),
        "Remove it or use a later market.",
    )


def _default_multipliers(out: pd.DataFrame) -> np.ndarray:
    """:func:`default_multiplier` for every row, as one vectorised expression."""
    face = out["underlying"].map(INVERSE_FACE_USD).fillna(1.0).to_numpy(np.float64)
    inverse_linear = (out["settlement"] == "inverse") & out["kind"].isin(("future", "perpetual"))
    return np.where(inverse_linear.to_numpy(), face, 1.0)


def _symbols(positions: pd.DataFrame) -> np.ndarray:
    """Exchange-style names built from the fields, one per distinct instrument."""
    key = list(INSTRUMENT_KEY)
    codes = positions.groupby(key, dropna=False, sort=False).ngroup().to_numpy()
    first = np.unique(codes, return_index=True)[1]
    uniques = positions[key].iloc[first].itertuples(index=False, name=None)
    names = []
    for underlying, kind, expiry, strike, right, multiplier, settlement in uniques:
        instrument = Instrument(
            underlying=underlying,
            kind=kind,
            expiry=None if pd.isna(expiry) else pd.Timestamp(expiry).to_pydatetime(),
            strike=None if pd.isna(strike) else float(strike),
            right=right or None,
            multiplier=float(multiplier),
            settlement=settlement,
        )
        names.append(instrument.symbol)
    return np.asarray(names, dtype=object)[codes]


def positions_from_frame(
    frame: pd.DataFrame, problems: ProblemCollector, *, source: str = "DataFrame"
) -> pd.DataFrame:
    """Position columns from a user's DataFrame with the CSV's columns (any order, any case),
    validated by the same code as a CSV file; problems name ``<source> row <index label>``.

    Cells may be numbers, strings, dates or timestamps; empty cells are NaN/None/"". A date, or a
    timestamp at midnight without a time zone, is an expiry date (08:00 UTC, as in a CSV).
    """
    header = [str(name).strip().lower() for name in frame.columns]
    if not check_columns(header, source, problems):
        return pd.DataFrame()
    text = pd.DataFrame(
        {name: _text_column(frame.iloc[:, i]) for i, name in enumerate(header)},
        index=frame.index,
    )
    # rows are named by their index labels, or by position when the labels repeat (so that the
    # default ids, like a CSV's file:line, are one per row)
    labels = [str(label) for label in (frame.index if frame.index.is_unique else range(len(frame)))]
    sources = pd.Series([f"{source} row {label}" for label in labels], dtype=str)
    ids = pd.Series([f"{source}:{label}" for label in labels], dtype=str)
    return build_positions(text, sources, problems, default_ids=ids)


def _text_column(column: pd.Series) -> pd.Series:
    """A column of any dtype as the stripped strings a CSV reader gives ("" where empty)."""
    missing = column.isna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        stamps = column.dt.tz_convert("UTC").dt.tz_localize(None) if column.dt.tz else column
        text = stamps.dt.strftime("%Y-%m-%dT%H:%M:%S")
        midnight = (stamps == stamps.dt.normalize()) & (column.dt.tz is None)
        text = text.where(~midnight, stamps.dt.strftime("%Y-%m-%d"))
    elif pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column):
        text = column.astype(np.float64).map(repr)
    else:
        text = column.map(_text_cell)
    return text.where(~missing, "").astype(str)


def _text_cell(value) -> str:
    if isinstance(value, (pd.Timestamp, datetime)):
        return _text_column(pd.Series([pd.Timestamp(value)])).iloc[0]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value).strip()
