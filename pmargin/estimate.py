"""Historical volatility and correlation from daily closes (SPEC §11).

The closes are read by :mod:`pmargin.io.price_history` into a :class:`PriceHistory`; over a window
of its rows, :func:`estimate` measures

* daily log returns ``r_t = ln(P_t / P_{t−1})`` between consecutive rows, which must be
  consecutive calendar days (crypto trades every day, so a year is 365 returns);
* ``sample``: vol = ``std(r, ddof=1)·√365``; correlation = the sample (Pearson) correlation;
* ``ewma`` (RiskMetrics, decay λ): variance ``σ²_t = λ·σ²_{t−1} + (1 − λ)·r_t²`` and covariance
  ``c_t = λ·c_{t−1} + (1 − λ)·r_t·s_t`` (zero mean), seeded with the sample (co)variance
  (``ddof=1``) of the first :data:`MIN_RETURNS` returns and updated with each later one;
  vol = ``√(365·σ²_T)``, correlation = ``c_T / (σ_T·s_T)``.

A coin may start late (empty cells before its first close) or end early (after its last); an
empty cell between two closes is a gap, an error. A vol uses the coin's own returns, a
correlation the returns the two coins share; each needs at least :data:`MIN_RETURNS`. Pairwise
estimates over different spans need not form a positive semi-definite matrix: such a matrix is
replaced by the nearest correlation matrix (:mod:`pmargin.nearest_correlation`), and the
estimate's ``repair`` says by how much. :func:`fill_market` turns an estimate into a market
snapshot, or fills a base snapshot's gaps with it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

import numpy as np

from .errors import InputError, MarketDataError, Problem, ProblemCollector
from .historical import date_window
from .market import Market, UnderlyingMarket
from .nearest_correlation import Repair, positive_semi_definite
from .values import VOL_MAX, check_keys, number, whole_number

ANNUALISATION_DAYS = 365.0
MIN_RETURNS = 30
DEFAULT_DECAY = 0.94
METHODS = ("sample", "ewma")
#: keys of a model file's ``estimate:`` block (see :func:`estimate_options`)
OPTION_KEYS = ("method", "lambda", "window")
MAX_PROBLEMS_PER_COLUMN = 10
ONE_DAY = np.timedelta64(86400, "s")


@dataclass(frozen=True)
class PriceHistory:
    """Daily closes in memory, sorted by date.

    ``closes`` maps a coin to its closes (USD, > 0), NaN where the file has none; ``lines`` holds
    the source line of each row (as an editor numbers them), so messages can name it.
    """

    source: str
    dates: np.ndarray  # datetime64[s], ascending
    closes: dict[str, np.ndarray]
    lines: np.ndarray

    def where(self, first: int, last: int | None = None) -> str:
        """``file:line`` of row ``first``, or ``file:line-line`` through row ``last``."""
        if last is None or self.lines[last] == self.lines[first]:
            return f"{self.source}:{self.lines[first]}"
        return f"{self.source}:{self.lines[first]}-{self.lines[last]}"

    def day(self, row: int) -> str:
        return str(np.datetime_as_string(self.dates[row], unit="D"))


@dataclass(frozen=True)
class Estimate:
    """Annualised vols and a correlation matrix (PSD, unit diagonal) from daily log returns.

    ``window`` is the number of daily returns between the window's first and last dates;
    ``returns`` how many of them each coin's vol used; ``spot`` each coin's last close (USD).
    """

    source: str
    method: str
    decay: float | None  # λ of ewma, None for sample
    window: int
    first_date: np.datetime64
    last_date: np.datetime64
    underlyings: tuple[str, ...]
    vols: np.ndarray  # (U,) decimal, annualised
    correlation: np.ndarray  # (U, U)
    spot: np.ndarray  # (U,)
    returns: np.ndarray  # (U,)
    repair: Repair | None = None
    notes: tuple[str, ...] = ()

    @property
    def as_of(self) -> datetime:
        """The window's last date at 08:00 UTC."""
        day = self.last_date.astype("datetime64[D]").item()
        return datetime(day.year, day.month, day.day, 8, tzinfo=timezone.utc)

    def describe(self) -> str:
        """``ewma (λ = 0.94) of 1,832 daily log returns, 2017-11-09 → 2022-11-15, file.csv``."""
        method = self.method if self.decay is None else f"{self.method} (λ = {self.decay:g})"
        first, last = np.datetime_as_string([self.first_date, self.last_date], unit="D")
        return f"{method} of {self.window:,} daily log returns, {first} → {last}, {self.source}"

    def correlation_pairs(self) -> dict[tuple[str, str], float]:
        """``{(a, b): ρ}`` for every pair of different coins, both orders."""
        return {
            (a, b): float(self.correlation[i, j])
            for i, a in enumerate(self.underlyings)
            for j, b in enumerate(self.underlyings)
            if i != j
        }

    def draw_inputs(self, underlyings: tuple[str, ...], set_name: str):
        """(vols (U,), correlation (U, U)) of ``underlyings``, for a Monte Carlo set."""
        missing = [u for u in underlyings if u not in self.underlyings]
        if missing:
            raise MarketDataError(
                Problem(
                    self.source,
                    f"no closes for {', '.join(missing)}, whose vols and correlations Monte "
                    f"Carlo set {set_name} estimates from this file",
                    f"Add a column of daily closes named {missing[0]}.",
                )
            )
        index = [self.underlyings.index(u) for u in underlyings]
        return self.vols[index], self.correlation[np.ix_(index, index)]


def log_returns(closes: np.ndarray) -> np.ndarray:
    """Daily log returns ``ln(P_t / P_{t−1})`` along the last axis (NaN next to a missing close)."""
    return np.diff(np.log(closes), axis=-1)


def ewma_covariance(returns: np.ndarray, decay: float) -> np.ndarray:
    """RiskMetrics covariance (k, k) of ``returns`` (k, T), T ≥ :data:`MIN_RETURNS`.

    Seeded with ``np.cov(ddof=1)`` of the first MIN_RETURNS returns; each later return updates
    ``C ← λ·C + (1 − λ)·r·rᵀ``, i.e. ``C_T = λⁿ·C_seed + Σ (1 − λ)·λ^(T−t)·r_t·r_tᵀ``.
    """
    seed, later = returns[:, :MIN_RETURNS], returns[:, MIN_RETURNS:]
    count = later.shape[1]
    weights = (1.0 - decay) * decay ** np.arange(count - 1, -1, -1, dtype=np.float64)
    return decay**count * np.cov(seed, ddof=1) + (later * weights) @ later.T


def _vol(returns: np.ndarray, method: str, decay: float) -> float:
    if method == "sample":
        return float(np.std(returns, ddof=1) * np.sqrt(ANNUALISATION_DAYS))
    return float(np.sqrt(ewma_covariance(returns[None, :], decay)[0, 0] * ANNUALISATION_DAYS))


def _correlation(first: np.ndarray, second: np.ndarray, method: str, decay: float) -> float:
    if method == "sample":
        return float(np.corrcoef(first, second)[0, 1])
    cov = ewma_covariance(np.vstack([first, second]), decay)
    return float(np.clip(cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]), -1.0, 1.0))


def estimate(
    history: PriceHistory,
    *,
    method: str = "sample",
    decay: float = DEFAULT_DECAY,
    window: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Estimate:
    """Vols and correlations of every coin of ``history`` over a window of its rows.

    The rows from ``start`` to ``end`` (both inclusive; naive datetimes are UTC), then the last
    ``window`` returns of them (all when None). Raises :class:`InputError` naming the file and
    lines: a missing calendar day, a gap in a column, fewer than MIN_RETURNS returns for a coin
    or a pair.
    """
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS}, found {method!r}")
    if not 0.0 < decay < 1.0:
        raise ValueError(f"`decay` must be in (0, 1), found {decay}")
    rows = _window_rows(history, window, start, end)
    problems = ProblemCollector()
    _check_calendar(history, rows, problems)
    coins = tuple(history.closes)
    spans = [_span(history, coin, rows, problems) for coin in coins]
    problems.raise_if_any()
    closes = np.vstack([history.closes[coin][rows] for coin in coins])
    returns = log_returns(closes)  # (U, T), finite exactly inside each coin's span
    has_return = np.isfinite(returns)
    vols = np.array([_vol(r[ok], method, decay) for r, ok in zip(returns, has_return)])
    for coin, vol in zip(coins, vols):
        if vol > VOL_MAX:  # a snapshot could not hold it, nor a Monte Carlo draw use it
            problems.add(
                f"{history.source}: column `{coin}`",
                f"the estimated vol of {coin} is {vol:,.0%}, above the {VOL_MAX:,.0%} a market "
                "snapshot holds",
                "Check the closes for a misplaced decimal point or a wrong column.",
            )
    correlation = np.eye(len(coins))
    for i in range(len(coins)):
        for j in range(i + 1, len(coins)):
            shared = has_return[i] & has_return[j]
            if _enough_shared(history, rows, coins[i], coins[j], shared, problems):
                correlation[i, j] = correlation[j, i] = _correlation(
                    returns[i, shared], returns[j, shared], method, decay
                )
    problems.raise_if_any()
    correlation, repair = positive_semi_definite(correlation, coins)
    last_rows = np.array([last for _, last in spans])
    notes = _early_ends(history, rows, coins, last_rows)
    if repair is not None:
        notes.append(repair.message())
    return Estimate(
        source=history.source,
        method=method,
        decay=decay if method == "ewma" else None,
        window=len(rows) - 1,
        first_date=history.dates[rows[0]],
        last_date=history.dates[rows[-1]],
        underlyings=coins,
        vols=vols,
        correlation=correlation,
        spot=closes[np.arange(len(coins)), last_rows],
        returns=has_return.sum(axis=1),
        repair=repair,
        notes=tuple(notes),
    )


def _window_rows(
    history: PriceHistory, window: int | None, start: datetime | None, end: datetime | None
) -> np.ndarray:
    """Row indices of the window; an InputError when it holds fewer than MIN_RETURNS returns."""
    rows = np.flatnonzero(date_window(history.dates, start, end))
    if not len(rows):
        raise InputError(
            Problem(history.source, "no closes in the window", "Check --start and --end.")
        )
    span = f"{history.day(rows[0])} → {history.day(rows[-1])}"
    if window is not None and len(rows) < window + 1:
        raise InputError(
            Problem(
                history.where(rows[0], rows[-1]),
                f"a window of {window:,} returns needs {window + 1:,} daily closes; there are "
                f"{len(rows):,} ({span})",
                "Shorten --window, or widen --start/--end.",
            )
        )
    rows = rows if window is None else rows[len(rows) - window - 1 :]
    if len(rows) - 1 < MIN_RETURNS:
        raise InputError(
            Problem(
                history.where(rows[0], rows[-1]),
                f"the window holds {len(rows) - 1} daily returns ({history.day(rows[0])} → "
                f"{history.day(rows[-1])}); the estimators need at least {MIN_RETURNS}",
                "Widen the window (--start, --end, --window) or add closes.",
            )
        )
    return rows


def _check_calendar(history: PriceHistory, rows: np.ndarray, problems: ProblemCollector) -> None:
    """A problem for every row that is not one calendar day after the row before it."""
    steps = np.diff(history.dates[rows])
    for index in np.flatnonzero(steps != ONE_DAY)[:MAX_PROBLEMS_PER_COLUMN]:
        before, row = rows[index], rows[index + 1]
        days = steps[index] / ONE_DAY
        problems.add(
            f"{history.where(row)}: date",
            f"{history.day(row)} comes {days:g} days after {history.day(before)} (line "
            f"{history.lines[before]}); daily returns need one close per calendar day",
            "Add the missing closes, or start the window after them (--start).",
        )


def _span(
    history: PriceHistory, coin: str, rows: np.ndarray, problems: ProblemCollector
) -> tuple[int, int]:
    """(first, last) window position of the coin's closes; problems for gaps and short spans."""
    present = np.isfinite(history.closes[coin][rows])
    where = f"{history.source}: column `{coin}`"
    if not present.any():
        problems.add(where, "no closes in the window", "Widen the window or drop the column.")
        return 0, 0
    first, last = np.flatnonzero(present)[[0, -1]]
    gaps = first + np.flatnonzero(~present[first:last])
    for gap in gaps[:MAX_PROBLEMS_PER_COLUMN]:
        problems.add(
            f"{history.where(rows[gap])}: column `{coin}`",
            "no close (empty cell) between two closes: a gap",
            "Fill the gap, or start the window after it (--start).",
        )
    if len(gaps) > MAX_PROBLEMS_PER_COLUMN:
        problems.add(where, f"... and {len(gaps) - MAX_PROBLEMS_PER_COLUMN} more gaps")
    if not len(gaps) and last - first < MIN_RETURNS:
        problems.add(
            f"{history.where(rows[first], rows[last])}: column `{coin}`",
            f"{last - first} daily returns in the window ({history.day(rows[first])} → "
            f"{history.day(rows[last])}); a vol needs at least {MIN_RETURNS}",
            "Widen the window (--start, --end, --window) or add closes.",
        )
    return int(first), int(last)


def _enough_shared(history, rows, first, second, shared, problems: ProblemCollector) -> bool:
    """True when the pair shares MIN_RETURNS returns, else a problem naming the pair."""
    count = int(shared.sum())
    if count >= MIN_RETURNS:
        return True
    where = history.source
    if count:
        positions = np.flatnonzero(shared)  # return t runs from row t to row t + 1
        where = history.where(rows[positions[0]], rows[positions[-1] + 1])
    problems.add(
        f"{where}: columns `{first}`, `{second}`",
        f"{first} and {second} share {count} daily returns; a correlation needs at least "
        f"{MIN_RETURNS}",
        "Widen the window so both have closes over 30 common days, or drop one column.",
    )
    return False


def _early_ends(history, rows, coins, last_rows) -> list[str]:
    """Notes for coins whose closes end before the window does (their spot is older)."""
    return [
        f"{coin}'s last close in the window is on {history.day(rows[last])} "
        f"({history.where(rows[last])}), before the window's last date "
        f"{history.day(rows[-1])}; its spot is that close"
        for coin, last in zip(coins, last_rows)
        if last < len(rows) - 1
    ]


def fill_market(estimate: Estimate, base: Market | None = None) -> Market:
    """A market snapshot from ``estimate``, or ``base`` with its gaps filled.

    Without a base: as of the estimate's last date at 08:00 UTC, rate 0, each coin's spot its
    last close and vol its estimate, and the estimated correlations. With a base: its as_of,
    rate, spots, forwards, carry and smiles stay; a coin with no ``vol`` gets the estimate; a coin
    it lacks is added (spot = last close); the estimated pairs replace the base's, and the base's
    other pairs stay.
    """
    estimated = {
        u: UnderlyingMarket(spot=float(s), vol=float(v))
        for u, s, v in zip(estimate.underlyings, estimate.spot, estimate.vols)
    }
    if base is None:
        return Market(estimate.as_of, 0.0, estimated, estimate.correlation_pairs(), estimate.source)
    underlyings = dict(base.underlyings)
    for code, filled in estimated.items():
        held = underlyings.get(code)
        if held is None:
            underlyings[code] = filled
        elif held.vol is None:
            underlyings[code] = replace(held, vol=filled.vol)
    correlations = {**base.correlations, **estimate.correlation_pairs()}
    return replace(base, underlyings=underlyings, correlations=correlations)


def estimate_options(block: Any, where: str, problems: ProblemCollector) -> dict[str, Any]:
    """Keyword arguments of :func:`estimate` from a mapping ``{method, lambda, window}``."""
    if not isinstance(block, dict):
        problems.add(where, "expected a mapping such as {method: ewma, lambda: 0.94, window: 365}")
        return {}
    check_keys(block, OPTION_KEYS, where, problems, sep=".")
    method = str(block.get("method", "sample"))
    if method not in METHODS:
        problems.add(f"{where}.method", f"unknown {method!r}", f"Use {' or '.join(METHODS)}.")
    options: dict[str, Any] = {"method": method}
    if "lambda" in block:
        decay = number(block["lambda"], f"{where}.lambda", problems, positive=True)
        if method != "ewma":
            problems.add(f"{where}.lambda", "only applies to `method: ewma`")
        elif decay is not None and decay >= 1:
            problems.add(f"{where}.lambda", f"must be below 1, found {decay:g}", "E.g. 0.94.")
        options["decay"] = decay
    if "window" in block:
        options["window"] = whole_number(
            block["window"], f"{where}.window", problems, minimum=MIN_RETURNS
        )
    return options
