"""Turn rows of text fields (from CSV or YAML) into validated position columns.

Every check runs over whole columns and records each bad row with its ``file:line`` (or YAML key)
and the column, so one run reports every problem in a file.
"""

from __future__ import annotations

import difflib
from datetime import date, datetime

import numpy as np
import pandas as pd

from ..errors import Problem, ProblemCollector
from ..instruments import INVERSE_FACE_USD, KINDS, SETTLEMENTS, Instrument, parse_symbol
from ..portfolio import INSTRUMENT_KEY, POSITION_COLUMNS

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


class _RowProblems:
    """Adds one problem per bad row, stopping after :data:`MAX_ROW_PROBLEMS` rows a check."""

    def __init__(self, problems: ProblemCollector, sources: pd.Series):
        self.problems = problems
        self.sources = sources.to_numpy()
        self.found: list[tuple[int, Problem]] = []
        self.skip = np.zeros(len(sources), bool)  # rows whose symbol failed: no follow-on noise

    def add(self, mask: np.ndarray, column: str, message, fix: str = "") -> None:
        rows = np.flatnonzero(mask & ~self.skip) if column != "instrument" else np.flatnonzero(mask)
        for row in rows[:MAX_ROW_PROBLEMS]:
            text = message(row) if callable(message) else message
            where = f"{self.sources[row]}: column `{column}`"
            self.found.append((int(row), Problem(where, text, fix)))
        if len(rows) > MAX_ROW_PROBLEMS:
            more = f"... and {len(rows) - MAX_ROW_PROBLEMS} more rows like these"
            self.found.append((len(self.sources), Problem(f"column `{column}`", more)))

    def flush(self) -> None:
        """Record the problems found, in file order."""
        self.found.sort(key=lambda item: item[0])
        self.problems.extend([problem for _, problem in self.found])
        self.found = []


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


def _numeric(
    text: pd.Series, column: str, rows: _RowProblems, *, positive: bool = False
) -> np.ndarray:
    """Parse a text column to float; empty -> NaN; anything else non-finite is a problem."""
    stripped = text
    values = np.array(pd.to_numeric(stripped, errors="coerce"), dtype=np.float64)
    given = (stripped != "").to_numpy()
    bad = given & ~np.isfinite(values)
    raw = stripped.to_numpy()
    rows.add(bad, column, lambda r: f"{raw[r]!r} is not a finite number")
    if positive:
        rows.add(given & ~bad & (values <= 0), column, lambda r: f"must be > 0, found {raw[r]}")
    else:
        rows.add(given & ~bad & (values < 0), column, lambda r: f"must be ≥ 0, found {raw[r]}")
    values[bad] = np.nan
    return values


def _expand_symbols(symbols: pd.Series, rows: _RowProblems) -> pd.DataFrame:
    """Fields implied by each row's symbol; empty strings where no symbol or a bad one."""
    fields = pd.DataFrame(
        "", index=symbols.index, columns=["underlying", "kind", "settlement", "right"]
    )
    fields["expiry"] = pd.Series(pd.NaT, index=symbols.index, dtype="datetime64[s]")
    fields["strike"] = np.nan
    fields["multiplier"] = np.nan
    stripped = symbols
    parsed: dict[str, dict | str] = {}
    for symbol in pd.unique(stripped[stripped != ""]):
        try:
            parsed[symbol] = parse_symbol(symbol)
        except ValueError as exc:
            parsed[symbol] = str(exc)
    failed = {symbol: error for symbol, error in parsed.items() if isinstance(error, str)}
    errors = stripped.map(failed).fillna("") if failed else pd.Series("", index=stripped.index)
    bad = (errors != "").to_numpy()
    rows.add(bad, "instrument", lambda r: errors.iloc[r])
    rows.skip |= bad
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
    matched = stripped.isin(good.index)
    looked_up = good.reindex(stripped[matched])
    for column in fields.columns:
        values = looked_up[column].to_numpy()
        if column in ("underlying", "kind", "settlement", "right"):
            values = np.where(pd.isna(values), "", values)
        fields.loc[matched, column] = values
    fields["expiry"] = fields["expiry"].astype("datetime64[s]")
    return fields


def _parse_expiry(text: pd.Series, rows: _RowProblems) -> pd.Series:
    stripped = text
    given = stripped != ""
    date_only = stripped.str.match(_DATE_ONLY)
    parsed = pd.to_datetime(stripped.where(given), utc=True, format="ISO8601", errors="coerce")
    parsed = parsed.dt.tz_localize(None) + pd.to_timedelta(np.where(date_only, 8, 0), unit="h")
    bad = (given & parsed.isna()).to_numpy()
    raw = stripped.to_numpy()
    rows.add(bad, "expiry", lambda r: f"cannot read date {raw[r]!r}", "Use YYYY-MM-DD.")
    return parsed.astype("datetime64[s]")


def build_positions(
    frame: pd.DataFrame,
    sources: pd.Series,
    problems: ProblemCollector,
    *,
    default_account: str = "",
    is_order: bool = False,
    default_ids: pd.Series | None = None,
) -> pd.DataFrame:
    """Validate rows of text fields and return position columns (:data:`POSITION_COLUMNS`).

    ``frame`` holds stripped strings ("" where empty), one column per file column (the readers
    strip cells once, which is much faster than pandas' ``str.strip``); ``sources`` gives each
    row's ``file:line`` for messages. Problems are recorded in ``problems``; the returned frame is
    only meaningful when none were recorded.
    """
    frame = frame.reset_index(drop=True).astype(str)
    sources = sources.reset_index(drop=True)
    for column in KNOWN_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    rows = _RowProblems(problems, sources)
    fields = _Fields(frame, _expand_symbols(frame["instrument"], rows))
    out = pd.DataFrame(index=frame.index)
    _classify(fields, out, rows)
    _option_terms(fields, out, rows)
    _sizes(fields, out, rows)
    out["mark_price"] = _numeric(frame["mark_price"], "mark_price", rows)
    out["entry_price"] = _numeric(frame["entry_price"], "entry_price", rows)
    account = frame["account"]
    out["account"] = account.where(account != "", default_account)
    ids = frame["id"]
    out["id"] = ids.where(ids != "", sources if default_ids is None else default_ids)
    out["is_order"] = is_order
    out["source"] = sources
    symbol = frame["instrument"].str.upper()
    out["instrument"] = symbol
    rows.flush()
    if not problems:
        missing_symbol = (symbol == "").to_numpy()
        if missing_symbol.any():
            out.loc[missing_symbol, "instrument"] = _symbols(out[missing_symbol])
    return out[list(POSITION_COLUMNS)]


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


def _classify(fields: _Fields, out: pd.DataFrame, rows: _RowProblems) -> None:
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
        lambda r: f"unknown kind {out['kind'].iloc[r]!r}",
        f"Use one of {', '.join(KINDS)}.",
    )
    rows.add((out["kind"] == "").to_numpy(), "kind", "missing", f"Use one of {', '.join(KINDS)}.")
    rows.add(
        ~out["settlement"].isin(SETTLEMENTS).to_numpy(),
        "settlement",
        lambda r: f"unknown settlement {out['settlement'].iloc[r]!r}",
        "Use linear or inverse.",
    )


def _option_terms(fields: _Fields, out: pd.DataFrame, rows: _RowProblems) -> None:
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
        lambda r: f"unknown right {right_text.iloc[r]!r}",
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


def _sizes(fields: _Fields, out: pd.DataFrame, rows: _RowProblems) -> None:
    """``quantity`` (signed, required) and ``multiplier`` (the symbol's or the kind's default)."""
    frame = fields.frame
    quantity_text = frame["quantity"]
    quantity = _numeric_signed(quantity_text, "quantity", rows)
    rows.add(
        (quantity_text == "").to_numpy(),
        "quantity",
        "missing",
        "Give signed contracts: + long, − short.",
    )
    out["quantity"] = quantity

    multiplier = _numeric(frame["multiplier"], "multiplier", rows, positive=True)
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


def _numeric_signed(text: pd.Series, column: str, rows: _RowProblems) -> np.ndarray:
    stripped = text
    values = np.array(pd.to_numeric(stripped, errors="coerce"), dtype=np.float64)
    bad = (stripped != "").to_numpy() & ~np.isfinite(values)
    raw = stripped.to_numpy()
    rows.add(bad, column, lambda r: f"{raw[r]!r} is not a finite number")
    values[bad] = np.nan
    return values


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
    labels = [str(label) for label in frame.index]
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
