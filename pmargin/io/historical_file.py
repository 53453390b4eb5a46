"""Historical scenario sets from YAML, and the CSV of daily closes they replay.

File format (SPEC §3; the replay itself is documented in :mod:`pmargin.historical`)::

    kind: historical
    prices: btc_eth_daily.csv        # relative paths resolve against this YAML file's folder
    start: 2020-03-01                # optional window on the date column, both ends inclusive
    end: 2020-03-31                  # (a date without a time includes that whole day, UTC)
    horizon_days: 1                  # h: overlapping h-row returns, one scenario per start date
    vol_columns: {BTC: BTC_DVOL}     # optional implied-vol index columns -> relative vol shocks
    proxies: {SOL: ETH, "*": ETH}    # optional: an underlying with no column takes another's moves
    date_column: date                # optional, default `date`
    days: 0                          # optional, as in every set: time shock, weight, vol_term

The prices file is a CSV with a date column (ISO 8601: ``YYYY-MM-DD`` or a full UTC timestamp)
and one column of closes per underlying, named by its code (``BTC``, ``ETH``); columns named in
``vol_columns`` hold an implied-vol index (e.g. DVOL, in any unit: only its ratios are used).
Blank lines and lines starting with ``#`` are skipped; rows may come in any date order.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ProblemCollector
from ..historical import HistoricalSet, date_window, historical_set
from ..scenarios import COMMON_SET_KEYS, DEFAULT_KEY, VolTerm
from ..values import (
    ACCEPTED_DATES,
    DAYS_MAX,
    ISO_INSTANT,
    PRICE_MAX,
    PRICE_MIN,
    WEIGHT_MAX,
    check_keys,
    describe,
    finite_number,
    instant,
    is_price,
    same_key_problems,
)
from .common import read_text, resolve_beside

SPECIFIC_KEYS = (
    "prices",
    "start",
    "end",
    "horizon_days",
    "vol_columns",
    "proxies",
    "date_column",
)
MAX_ROW_PROBLEMS = 10


@dataclass(frozen=True)
class Closes:
    """A prices CSV read but not yet checked: dates sorted, raw cells per column, line numbers."""

    path: Path
    dates: np.ndarray  # datetime64[s], ascending
    columns: dict[str, np.ndarray]  # column -> raw strings, in date order
    lines: np.ndarray  # source line number of each row, in date order


@dataclass(frozen=True)
class _Options:
    """The keys of a historical set other than the prices file, checked."""

    horizon: int | None
    start: datetime | None
    end: datetime | None
    days: float | None
    weight: float | None
    vol_term: VolTerm | None
    date_column: str
    vol_columns: dict[str, str]
    proxies: dict[str, str]


def build_historical(
    document: dict, where: str, path: Path, problems: ProblemCollector
) -> HistoricalSet | None:
    """``kind: historical`` builder for :data:`pmargin.io.scenario_file.KINDS`."""
    check_keys(document, (*COMMON_SET_KEYS, *SPECIFIC_KEYS), where, problems)
    options = _options(document, where, problems)
    if "prices" not in document:
        problems.add(f"{where}: prices", "missing", "Name the CSV file of daily closes.")
        return None
    prices = resolve_beside(path, str(document["prices"]))
    if not prices.is_file():
        problems.add(
            f"{where}: prices",
            f"prices file {prices} not found",
            "Check the path; a relative path is read from the scenario file's folder.",
        )
        return None
    if problems or options.horizon is None:
        return None
    closes = read_closes(prices, options.date_column, f"`date_column:` in {where}", problems)
    if closes is None:
        return None
    rows = _window_rows(closes, options, where, problems)
    if rows is None:
        return None
    series = _close_series(closes, rows, options, where, problems)
    if series is None:
        return None
    spot, vols = series
    return historical_set(
        str(document.get("name") or path.stem),
        closes.dates[rows],
        spot,
        horizon_days=options.horizon,
        vol_index=vols,
        proxies=options.proxies,
        days=options.days or 0.0,
        weight=1.0 if options.weight is None else options.weight,
        vol_term=options.vol_term,
        description=str(document.get("description") or ""),
        source=where,
        prices=str(prices),
    )


def _options(document: dict, where: str, problems: ProblemCollector) -> _Options:
    horizon = _whole_number(document.get("horizon_days", 1), f"{where}: horizon_days", problems)
    start = _instant(document.get("start"), f"{where}: start", problems)
    end = _instant(document.get("end"), f"{where}: end", problems)
    if start is not None and end is not None and end < start:
        problems.add(f"{where}: end", f"end {end.date()} is before start {start.date()}")
    days = finite_number(
        document.get("days", 0), f"{where}: days", problems, minimum=0, maximum=DAYS_MAX
    )
    weight = finite_number(
        document.get("weight", 1), f"{where}: weight", problems, minimum=0, maximum=WEIGHT_MAX
    )
    vol_term = VolTerm.parse(document.get("vol_term"), f"{where}: vol_term", problems)
    vol_columns = _mapping(document.get("vol_columns"), f"{where}: vol_columns", problems)
    proxies = {
        (k if k == DEFAULT_KEY else k.upper()): v.upper()
        for k, v in _mapping(document.get("proxies"), f"{where}: proxies", problems).items()
    }
    return _Options(
        horizon=horizon,
        start=start,
        end=end,
        days=days,
        weight=weight,
        vol_term=vol_term,
        date_column=str(document.get("date_column", "date")),
        vol_columns=vol_columns,
        proxies=proxies,
    )


def _window_rows(
    closes: Closes, options: _Options, where: str, problems: ProblemCollector
) -> np.ndarray | None:
    """Indices of the rows inside ``start``/``end``; a problem when too few for the horizon."""
    start, end, horizon = options.start, options.end, options.horizon
    in_window = date_window(closes.dates, start, end)
    window = _window_text(start, end)
    if in_window.sum() <= horizon:
        problems.add(
            f"{where}: start/end" if window else f"{where}: prices",
            f"{closes.path} has {int(in_window.sum())} rows {window or 'of closes'}; "
            f"horizon_days {horizon} needs at least {horizon + 1}",
            "Widen the window or check the dates in the file.",
        )
        return None
    return np.flatnonzero(in_window)


def _close_series(
    closes: Closes, rows: np.ndarray, options: _Options, where: str, problems: ProblemCollector
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]] | None:
    """Positive closes and vol-index values per underlying over ``rows``, or None."""
    prices, columns, vol_columns = closes.path, closes.columns, options.vol_columns
    close_columns = {c.upper(): c for c in columns if c not in vol_columns.values()}
    vol_for = {}
    for underlying, column in vol_columns.items():
        code = underlying.upper()
        key = f"{where}: vol_columns.{underlying}"
        if column not in columns:
            problems.add(
                key, f"no column `{column}` in {prices}", f"Columns: {', '.join(columns)}."
            )
        elif code not in close_columns:
            problems.add(key, f"{prices} has no close column for {code}")
        else:
            vol_for[code] = column
    for alias, target in options.proxies.items():
        if target not in close_columns:
            problems.add(f"{where}: proxies.{alias}", f"{prices} has no column {target}")
    if problems:
        return None
    lines = closes.lines[rows]
    spot = {
        code: _positive(columns[c][rows], lines, prices, c, problems)
        for code, c in close_columns.items()
    }
    vols = {
        code: _positive(columns[c][rows], lines, prices, c, problems) for code, c in vol_for.items()
    }
    if problems:
        return None
    return spot, vols


def read_closes(
    prices: Path, date_column: str, where: str, problems: ProblemCollector
) -> Closes | None:
    """The prices CSV sorted by date (cells still raw text), or None after a problem.

    Blank and ``#`` lines are skipped; every row needs the header's field count, a date in ISO
    8601 and a date of its own (a repeated date is a problem naming both lines). ``where`` is
    where the date column can be renamed (a YAML file's ``date_column:``, or an option).
    """
    lines = [
        (number, text)
        for number, text in enumerate(read_text(prices, "prices").splitlines(), 1)
        if text.strip() and not text.lstrip().startswith("#")
    ]
    if len(lines) < 2:
        problems.add(str(prices), "no rows of closes", "Give a header and one row per date.")
        return None
    rows = list(csv.reader(text for _, text in lines))
    header = [h.strip() for h in rows[0]]
    if date_column not in header:
        problems.add(
            f"{prices}: header",
            f"no `{date_column}` column (columns: {', '.join(header)})",
            f"Name the date column `{date_column}` or set {where}.",
        )
        return None
    problems.extend(
        same_key_problems(
            dict.fromkeys(h for h in header if h), f"{prices}:{lines[0][0]}: header", "column"
        )
    )
    for (number, _), row in zip(lines[1:], rows[1:]):
        if len(row) != len(header):
            problems.add(f"{prices}:{number}", f"{len(row)} fields, the header has {len(header)}")
    if problems:
        return None
    frame = pd.DataFrame(rows[1:], columns=header)
    line_numbers = np.array([number for number, _ in lines[1:]])
    dates = _dates(frame[date_column], line_numbers, prices, date_column, problems)
    if dates is None:
        return None
    order = np.argsort(dates, kind="stable")
    dates, line_numbers = dates[order], line_numbers[order]
    repeated = np.flatnonzero(dates[1:] == dates[:-1])
    for row in repeated[:MAX_ROW_PROBLEMS]:
        problems.add(
            f"{prices}:{line_numbers[row + 1]}: column `{date_column}`",
            f"date {np.datetime_as_string(dates[row + 1], unit='D')} repeats line "
            f"{line_numbers[row]}",
            "Keep one close per date.",
        )
    if problems:
        return None
    columns = {
        c: frame[c].to_numpy(str)[order] for c in header if c != date_column and c.strip() != ""
    }
    return Closes(prices, dates, columns, line_numbers)


def _dates(
    raw: pd.Series, lines: np.ndarray, prices: Path, column: str, problems: ProblemCollector
) -> np.ndarray | None:
    """The date column as datetime64[s] UTC; a problem per cell that is not an ISO date."""
    text = raw.str.strip()
    iso = text.str.fullmatch(ISO_INSTANT)
    parsed = pd.to_datetime(text.where(iso), format="ISO8601", errors="coerce", utc=True)
    bad = np.flatnonzero(parsed.isna().to_numpy())
    for row in bad[:MAX_ROW_PROBLEMS]:
        problems.add(
            f"{prices}:{lines[row]}: column `{column}`",
            f"{describe(str(text.iloc[row]))} is not a date",
            f"Write dates as {ACCEPTED_DATES}.",
        )
    if len(bad) > MAX_ROW_PROBLEMS:
        problems.add(f"{prices}: column `{column}`", f"... and {len(bad) - 10} more dates")
    if problems:
        return None
    return parsed.dt.tz_convert(None).to_numpy().astype("datetime64[s]")


def _positive(raw: np.ndarray, lines: np.ndarray, prices: Path, column: str, problems):
    values = pd.to_numeric(pd.Series(raw).str.strip(), errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(~is_price(values))
    for row in bad[:MAX_ROW_PROBLEMS]:
        text = str(raw[row]).strip()
        problems.add(
            f"{prices}:{lines[row]}: column `{column}`",
            f"{describe(text)} is not a positive price ({PRICE_MIN:g} to {PRICE_MAX:g} USD)"
            if text
            else "no price (empty cell)",
            "Fill the gap, or move `start:` past it.",
        )
    if len(bad) > MAX_ROW_PROBLEMS:
        problems.add(f"{prices}: column `{column}`", f"... and {len(bad) - 10} more bad values")
    return values


def _whole_number(value: Any, where: str, problems: ProblemCollector) -> int | None:
    number = finite_number(value, where, problems, strictly_positive=True, maximum=DAYS_MAX)
    if number is None:
        return None
    if number != int(number):
        problems.add(where, f"must be a whole number of rows (days), found {describe(value)}")
        return None
    return int(number)


def _instant(value: Any, where: str, problems: ProblemCollector) -> datetime | None:
    """A window bound as a naive UTC datetime; a bare date is that day's midnight."""
    if value is None:
        return None
    moment = instant(value, where, problems, bare_date_hour=0)
    return None if moment is None else moment.replace(tzinfo=None)


def _mapping(value: Any, where: str, problems: ProblemCollector) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        problems.add(where, "expected a mapping such as {BTC: BTC_DVOL}")
        return {}
    problems.extend(same_key_problems(value, where, "underlying"))
    return {str(k): v for k, v in value.items()}


def _window_text(start: datetime | None, end: datetime | None) -> str:
    if start is None and end is None:
        return ""
    first = f"{start:%Y-%m-%d}" if start else "the first row"
    last = f"{end:%Y-%m-%d}" if end else "the last row"
    return f"from {first} to {last}"
