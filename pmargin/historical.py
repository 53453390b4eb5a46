"""Historical scenario sets: replay real moves from a file of daily closes.

File format (SPEC §3)::

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

Within the window, with closes ``P`` sorted by date, the scenario starting at row ``t`` is

* spot shock ``P[t + h] / P[t] − 1`` (a relative move, exactly the file's h-row return);
* vol shock ``V[t + h] / V[t] − 1`` (relative) for underlyings with a vol column, else none.

``h`` counts rows, i.e. days for daily closes with no gaps. Moves are applied instantaneously
(``days: 0``, no theta) unless the file sets ``days``. An underlying the portfolio holds needs a
column or a proxy; without one the replay would leave it unshocked, so that is an error.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError, Problem, ProblemCollector
from .io.common import finite_number, read_text, resolve_beside, unknown_key_problem
from .market import Market
from .scenarios import DEFAULT_KEY, ScenarioSet, Shocks

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
class HistoricalSet(ScenarioSet):
    """A :class:`ScenarioSet` of replayed h-day moves, one scenario per start date.

    ``spot`` and ``vol`` map an underlying to its relative moves (S,); an underlying with neither
    its own column, a proxy nor a ``"*"`` proxy cannot be shocked, and :meth:`shocks` says so.
    """

    prices: str = ""
    horizon_days: int = 1
    start_dates: np.ndarray | None = None  # datetime64[s], (S,)
    end_dates: np.ndarray | None = None
    proxies: tuple[tuple[str, str], ...] = ()

    def shocks(self, underlyings: tuple[str, ...], market: Market | None = None) -> Shocks:
        missing = [u for u in underlyings if u not in self.spot and DEFAULT_KEY not in self.spot]
        if missing:
            columns = sorted(u for u in self.spot if u != DEFAULT_KEY)
            listed = ", ".join(columns) or "none"
            proxy = columns[0] if columns else "BTC"
            raise InputError(
                Problem(
                    f"{self.source}: prices",
                    f"the portfolio holds {', '.join(missing)} but {self.prices} has no "
                    f"{'column' if len(missing) == 1 else 'columns'} for "
                    f"{', '.join(missing)} (it has {listed})",
                    f"Add a close column named {missing[0]} to the prices file, or map it to "
                    f"another in the set, e.g. `proxies: {{{missing[0]}: {proxy}}}` or "
                    f'`{{"*": {proxy}}}`.',
                )
            )
        return super().shocks(underlyings, market)


def relative_returns(closes: np.ndarray, horizon: int) -> np.ndarray:
    """Overlapping ``horizon``-row relative moves ``P[t + h] / P[t] − 1`` along the last axis."""
    closes = np.asarray(closes, dtype=np.float64)
    return closes[..., horizon:] / closes[..., :-horizon] - 1.0


def historical_set(
    name: str,
    dates: np.ndarray,
    closes: dict[str, np.ndarray],
    *,
    horizon_days: int = 1,
    vol_index: dict[str, np.ndarray] | None = None,
    proxies: dict[str, str] | None = None,
    days: float = 0.0,
    weight: float = 1.0,
    vol_term=None,
    description: str = "",
    source: str = "",
    prices: str = "",
) -> HistoricalSet:
    """Build a historical set from closes already in memory (sorted by ``dates``, all > 0)."""
    dates = np.asarray(dates, dtype="datetime64[s]")
    if len(dates) <= horizon_days:
        raise ValueError(f"need more than {horizon_days} rows of closes, found {len(dates)}")
    spot = {u: relative_returns(p, horizon_days) for u, p in closes.items()}
    vol = {u: relative_returns(v, horizon_days) for u, v in (vol_index or {}).items()}
    for alias, target in (proxies or {}).items():
        spot[alias] = spot[target]
        if target in vol:
            vol[alias] = vol[target]
    start, end = dates[:-horizon_days], dates[horizon_days:]
    count = len(start)
    return HistoricalSet(
        name=name,
        scenario_names=_scenario_names(start, end),
        spot=spot,
        vol=vol,
        days=np.full(count, float(days)),
        weight=np.full(count, float(weight)),
        vol_term=vol_term,
        description=description,
        kind="historical",
        source=source,
        prices=prices,
        horizon_days=horizon_days,
        start_dates=start,
        end_dates=end,
        proxies=tuple(sorted((proxies or {}).items())),
    )


def _scenario_names(start: np.ndarray, end: np.ndarray) -> tuple[str, ...]:
    whole_days = bool(np.all(start.astype("datetime64[D]") == start)) and bool(
        np.all(end.astype("datetime64[D]") == end)
    )
    unit = "D" if whole_days else "m"
    first = np.datetime_as_string(start, unit=unit)
    last = np.datetime_as_string(end, unit=unit)
    return tuple(f"{a} → {b}" for a, b in zip(first, last))


# --- the YAML builder -------------------------------------------------------------------------


def build(document: dict, where: str, path: Path, problems: ProblemCollector):
    """``kind: historical`` builder for :data:`pmargin.io.scenario_file.KINDS`."""
    from .io.scenario_file import COMMON_KEYS, _vol_term  # deferred: that module imports this one

    valid = (*COMMON_KEYS, *SPECIFIC_KEYS)
    for key in document:
        if key not in valid:
            problems.problems.append(unknown_key_problem(where, str(key), valid))
    horizon = _whole_number(document.get("horizon_days", 1), f"{where}: horizon_days", problems)
    start = _instant(document.get("start"), f"{where}: start", problems)
    end = _instant(document.get("end"), f"{where}: end", problems)
    if start is not None and end is not None and end < start:
        problems.add(f"{where}: end", f"end {end.date()} is before start {start.date()}")
    days = finite_number(document.get("days", 0), f"{where}: days", problems, minimum=0)
    weight = finite_number(document.get("weight", 1), f"{where}: weight", problems, minimum=0)
    vol_term = _vol_term(document.get("vol_term"), f"{where}: vol_term", problems)
    date_column = str(document.get("date_column", "date"))
    vol_columns = _mapping(document.get("vol_columns"), f"{where}: vol_columns", problems)
    proxies = {
        (k if k == DEFAULT_KEY else k.upper()): v.upper()
        for k, v in _mapping(document.get("proxies"), f"{where}: proxies", problems).items()
    }
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
    if problems or horizon is None:
        return None
    table = _read_closes(prices, date_column, where, problems)
    if table is None:
        return None
    dates, columns, lines = table
    in_window = np.ones(len(dates), dtype=bool)
    if start is not None:
        in_window &= dates >= np.datetime64(start, "s")
    if end is not None and end == datetime(end.year, end.month, end.day):
        in_window &= dates < np.datetime64(end + timedelta(days=1), "s")  # the whole end day
    elif end is not None:
        in_window &= dates <= np.datetime64(end, "s")
    window = _window_text(start, end)
    if in_window.sum() <= horizon:
        problems.add(
            f"{where}: start/end" if window else f"{where}: prices",
            f"{prices} has {int(in_window.sum())} rows {window or 'of closes'}; "
            f"horizon_days {horizon} needs at least {horizon + 1}",
            "Widen the window or check the dates in the file.",
        )
        return None
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
    for alias, target in proxies.items():
        if target not in close_columns:
            problems.add(f"{where}: proxies.{alias}", f"{prices} has no column {target}")
    if problems:
        return None
    rows = np.flatnonzero(in_window)
    closes = {
        code: _positive(columns[c][rows], lines[rows], prices, c, problems)
        for code, c in close_columns.items()
    }
    vols = {
        code: _positive(columns[c][rows], lines[rows], prices, c, problems)
        for code, c in vol_for.items()
    }
    if problems:
        return None
    return historical_set(
        str(document.get("name") or path.stem),
        dates[rows],
        closes,
        horizon_days=horizon,
        vol_index=vols,
        proxies=proxies,
        days=days or 0.0,
        weight=1.0 if weight is None else weight,
        vol_term=vol_term,
        description=str(document.get("description") or ""),
        source=where,
        prices=str(prices),
    )


def _read_closes(prices: Path, date_column: str, where: str, problems: ProblemCollector):
    """(dates sorted, {column: raw strings}, source line numbers) or None after a problem."""
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
            f"Name the date column `{date_column}` or set `date_column:` in {where}.",
        )
        return None
    for (number, _), row in zip(lines[1:], rows[1:]):
        if len(row) != len(header):
            problems.add(f"{prices}:{number}", f"{len(row)} fields, the header has {len(header)}")
    if problems:
        return None
    frame = pd.DataFrame(rows[1:], columns=header)
    line_numbers = np.array([number for number, _ in lines[1:]])
    raw_dates = frame[date_column].str.strip()
    parsed = pd.to_datetime(raw_dates, format="ISO8601", errors="coerce", utc=True)
    bad = np.flatnonzero(parsed.isna().to_numpy())
    for row in bad[:MAX_ROW_PROBLEMS]:
        problems.add(
            f"{prices}:{line_numbers[row]}: column `{date_column}`",
            f"{str(raw_dates.iloc[row])!r} is not a date",
            "Write dates as YYYY-MM-DD (ISO 8601).",
        )
    if len(bad) > MAX_ROW_PROBLEMS:
        problems.add(f"{prices}: column `{date_column}`", f"... and {len(bad) - 10} more dates")
    if problems:
        return None
    dates = parsed.dt.tz_convert(None).to_numpy().astype("datetime64[s]")
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
    return dates, columns, line_numbers


def _positive(raw: np.ndarray, lines: np.ndarray, prices: Path, column: str, problems):
    values = pd.to_numeric(pd.Series(raw).str.strip(), errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(~(np.isfinite(values) & (values > 0)))
    for row in bad[:MAX_ROW_PROBLEMS]:
        text = str(raw[row]).strip()
        problems.add(
            f"{prices}:{lines[row]}: column `{column}`",
            f"{text!r} is not a positive price" if text else "no price (empty cell)",
            "Fill the gap, or move `start:` past it.",
        )
    if len(bad) > MAX_ROW_PROBLEMS:
        problems.add(f"{prices}: column `{column}`", f"... and {len(bad) - 10} more bad values")
    return values


def _whole_number(value: Any, where: str, problems: ProblemCollector) -> int | None:
    number = finite_number(value, where, problems, strictly_positive=True)
    if number is None:
        return None
    if number != int(number):
        problems.add(where, f"must be a whole number of rows (days), found {value!r}")
        return None
    return int(number)


def _instant(value: Any, where: str, problems: ProblemCollector) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    try:
        stamp = pd.Timestamp(str(value))
    except ValueError:
        stamp = pd.NaT
    if pd.isna(stamp):
        problems.add(where, f"{value!r} is not a date", "Write it as YYYY-MM-DD.")
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(None)
    return stamp.to_pydatetime()


def _mapping(value: Any, where: str, problems: ProblemCollector) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        problems.add(where, "expected a mapping such as {BTC: BTC_DVOL}")
        return {}
    return {str(k): v for k, v in value.items()}


def _window_text(start: datetime | None, end: datetime | None) -> str:
    if start is None and end is None:
        return ""
    first = f"{start:%Y-%m-%d}" if start else "the first row"
    last = f"{end:%Y-%m-%d}" if end else "the last row"
    return f"from {first} to {last}"
