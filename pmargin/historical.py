"""Historical scenario sets: replay real moves from a file of daily closes.

The YAML format and the CSV of closes are read by :mod:`pmargin.io.historical_file`; this
module builds the set from closes already in memory.

Within the window, with closes ``P`` sorted by date, the scenario starting at row ``t`` is

* spot shock ``P[t + h] / P[t] − 1`` (a relative move, exactly the file's h-row return);
* vol shock ``V[t + h] / V[t] − 1`` (relative) for underlyings with a vol column, else none.

``h`` counts rows, i.e. days for daily closes with no gaps. Consecutive dates more than
:data:`MAX_GAP_DAYS` apart (a missing stretch of closes, whose h-row move spans more than h days)
give a warning naming the dates (``HistoricalSet.warnings``). Moves are applied instantaneously
(``days: 0``, no theta) unless the file sets ``days``. An underlying the portfolio holds needs a
column or a proxy; without one the replay would leave it unshocked, so that is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from .errors import InputError, Problem
from .market import Market
from .scenarios import DEFAULT_KEY, ScenarioSet, Shocks

#: consecutive closes further apart than this (days) are a gap worth a warning; 3 days lets a
#: file of weekday closes (Friday to Monday) through
MAX_GAP_DAYS = 3
#: gaps named in one warning (the count says how many more)
GAPS_SHOWN = 5


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
    #: gaps in the dates (see :data:`MAX_GAP_DAYS`), for the caller to show
    warnings: tuple[str, ...] = ()

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


def date_window(dates: np.ndarray, start: datetime | None, end: datetime | None) -> np.ndarray:
    """Mask of the ``dates`` (datetime64[s], UTC) from ``start`` to ``end``, both inclusive; an
    ``end`` with no time of day includes that whole day."""
    in_window = np.ones(len(dates), dtype=bool)
    if start is not None:
        in_window &= dates >= np.datetime64(start, "s")
    if end is not None and end == datetime(end.year, end.month, end.day):
        in_window &= dates < np.datetime64(end + timedelta(days=1), "s")  # the whole end day
    elif end is not None:
        in_window &= dates <= np.datetime64(end, "s")
    return in_window


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
        warnings=gap_warnings(dates, prices or source, horizon_days),
    )


def gap_warnings(dates: np.ndarray, where: str, horizon_days: int) -> tuple[str, ...]:
    """One warning naming the consecutive dates more than :data:`MAX_GAP_DAYS` apart, if any."""
    dates = np.asarray(dates, dtype="datetime64[s]")
    if len(dates) < 2:
        return ()
    step = np.diff(dates) / np.timedelta64(1, "D")
    gaps = np.flatnonzero(step > MAX_GAP_DAYS)
    if not len(gaps):
        return ()
    day = np.datetime_as_string(dates.astype("datetime64[D]"))
    shown = ", ".join(f"{day[i]} → {day[i + 1]} ({step[i]:g} days)" for i in gaps[:GAPS_SHOWN])
    more = f" and {len(gaps) - GAPS_SHOWN} more" if len(gaps) > GAPS_SHOWN else ""
    return (
        f"{where}: {len(gaps)} gap{'s' if len(gaps) > 1 else ''} longer than {MAX_GAP_DAYS} "
        f"days between closes: {shown}{more}; a {horizon_days}-row move across a gap spans "
        f"more than {horizon_days} day{'s' if horizon_days > 1 else ''}",
    )


def _scenario_names(start: np.ndarray, end: np.ndarray) -> tuple[str, ...]:
    whole_days = bool(np.all(start.astype("datetime64[D]") == start)) and bool(
        np.all(end.astype("datetime64[D]") == end)
    )
    unit = "D" if whole_days else "m"
    first = np.datetime_as_string(start, unit=unit)
    last = np.datetime_as_string(end, unit=unit)
    return tuple(f"{a} → {b}" for a, b in zip(first, last))
