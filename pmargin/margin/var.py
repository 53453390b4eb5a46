"""VaR/ES margin (STANS-style): expected shortfall of the book over a horizon of a few days.

Scenarios move every underlying's spot (and its forwards) by a relative amount; implied vols and
the valuation date stay as they are (no vol or theta shocks). Two ways to get the moves:

* ``montecarlo`` — correlated returns over ``horizon_days`` (of ``days_per_year``, 365 for crypto):
  x = σ·√(h/365)·z with z standard normal, or Student-t with ``df`` degrees of freedom scaled to
  unit variance (one shared chi-square draw per path: a multivariate t, so tails move together).
  σ is the underlying's flat ``vol`` in the market, else its smile's ATM vol at a 30-day expiry;
  z is correlated with the market's ``correlations`` (a missing pair or a matrix that is not
  positive semi-definite is an error). ``returns: log`` applies S' = S·eˣ, ``relative``
  S' = S·(1 + x) (floored at a −99.9% move).
  Draws come from ``numpy.random.default_rng(seed)``, so a result is reproducible.
* ``historical`` — the ``prices`` file (CSV: ``date`` and one column of daily closes per
  underlying, resolved beside the model YAML): every overlapping ``horizon_days``-row return
  P[t+h]/P[t] − 1 is one scenario; rows missing a needed close are skipped.

With N scenarios and k = ⌊(1 − confidence)·N⌋ (at least 1), **ES** = the mean of the k largest
losses and **VaR** = the largest loss outside them (the confidence quantile). Initial margin =
the book's ES (≥ 0); ``by_underlying`` holds each underlying's stand-alone ES and the
``diversification`` component (≤ 0, ES is sub-additive) reconciles them with the total.
Maintenance = ``maintenance_ratio`` × initial (0.8 by default: pmargin's choice, the ratio of the
deribit model; STANS itself sets a single requirement). Isolated margin is the ES of each position
alone (ES is homogeneous, so from the ES of ±1 contract).

A model *of* OCC's STANS approach (ES of a simulated multi-day P&L), not an official replication.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from ..book import Book, InstrumentTable
from ..engine import instrument_pnl, underlying_matrix
from ..errors import InputError, MarketDataError, Problem, ProblemCollector
from ..io.common import read_text, resolve_beside, unknown_key_problem
from ..market import Market
from ..scenarios import Shocks
from .base import Requirement, isolated_from_unit

KEYS = (
    "name",
    "method",
    "description",
    "source",
    "confidence",
    "horizon_days",
    "days_per_year",
    "returns",
    "scenarios",
    "montecarlo",
    "historical",
    "maintenance_ratio",
)
MONTECARLO_KEYS = ("paths", "seed", "distribution", "df")
HISTORICAL_KEYS = ("prices",)
DISTRIBUTIONS = ("normal", "student_t")
ATM_DAYS = 30
#: instruments × scenarios valued at a time (bounds memory for large books)
CHUNK_CELLS = 2_000_000


def tail_size(count: int, confidence: float) -> int:
    """k: how many of ``count`` scenarios lie beyond the ``confidence`` quantile (≥ 1)."""
    return max(1, min(count - 1, math.floor((1.0 - confidence) * count + 1e-9)))


def expected_shortfall(pnl: np.ndarray, confidence: float) -> np.ndarray:
    """ES along the last axis: mean of the k largest losses (−P&L), floored at 0. USD."""
    count = pnl.shape[-1]
    k = tail_size(count, confidence)
    losses = np.partition(-pnl, count - k, axis=-1)[..., count - k :]
    return np.maximum(losses.mean(axis=-1), 0.0)


def value_at_risk(pnl: np.ndarray, confidence: float) -> np.ndarray:
    """VaR along the last axis: the largest loss outside the ES tail, floored at 0. USD."""
    count = pnl.shape[-1]
    k = tail_size(count, confidence)
    return np.maximum(np.partition(-pnl, count - k - 1, axis=-1)[..., count - k - 1], 0.0)


@dataclass(frozen=True)
class PriceHistory:
    """Daily closes from a CSV: ``dates`` (N,) and ``closes`` {underlying: (N,) USD, NaN = gap}."""

    path: str
    dates: tuple[str, ...]
    closes: dict[str, np.ndarray]

    def moves(
        self, underlyings: tuple[str, ...], horizon: int
    ) -> tuple[tuple[str, ...], np.ndarray]:
        """Scenario names and relative spot moves (U, S): P[t+h]/P[t] − 1 for every t."""
        missing = [u for u in underlyings if u not in self.closes]
        if missing:
            raise MarketDataError(
                Problem(
                    self.path,
                    f"no price column for {', '.join(missing)}",
                    f"Add a `{missing[0]}` column of daily closes (USD).",
                )
            )
        closes = np.array([self.closes[u] for u in underlyings]).reshape(len(underlyings), -1)
        moves = closes[:, horizon:] / closes[:, :-horizon] - 1.0
        keep = np.isfinite(moves).all(axis=0)
        if keep.sum() < 2:
            raise MarketDataError(
                Problem(
                    self.path,
                    f"fewer than 2 {horizon}-day returns with closes for all of "
                    f"{', '.join(underlyings)}",
                    "Add more rows of daily closes.",
                )
            )
        names = tuple(f"{self.dates[t]} to {self.dates[t + horizon]}" for t in np.flatnonzero(keep))
        return names, moves[:, keep]


@dataclass(frozen=True)
class VarModel:
    name: str
    description: str
    source: str
    parameters: dict[str, Any]
    path: str
    confidence: float
    horizon_days: float
    days_per_year: float
    returns: str
    scenarios: str
    paths: int
    seed: int
    distribution: str
    df: float
    history: PriceHistory | None
    maintenance_ratio: float
    method: str = "var"

    @property
    def kind(self) -> str:
        return self.scenarios

    def spot_moves(
        self, underlyings: tuple[str, ...], market: Market
    ) -> tuple[tuple[str, ...], np.ndarray]:
        """Scenario names and relative spot moves, shape (U, S)."""
        if self.scenarios == "historical":
            assert self.history is not None
            return self.history.moves(underlyings, int(self.horizon_days))
        returns = self.simulated_returns(underlyings, market)
        moves = np.expm1(returns) if self.returns == "log" else np.maximum(returns, -0.999)
        return tuple(f"path {i + 1}" for i in range(self.paths)), moves

    def simulated_returns(self, underlyings: tuple[str, ...], market: Market) -> np.ndarray:
        """Correlated horizon returns x (U, paths), from the market's vols and correlations."""
        vols = np.array([atm_vol(market, u) for u in underlyings])
        factor = correlation_factor(market, underlyings)
        rng = np.random.default_rng(self.seed)
        z = factor @ rng.standard_normal((len(underlyings), self.paths))
        if self.distribution == "student_t":
            z *= np.sqrt((self.df - 2.0) / rng.chisquare(self.df, self.paths))
        return vols[:, None] * math.sqrt(self.horizon_days / self.days_per_year) * z

    def shocks(self, underlyings: tuple[str, ...], market: Market) -> Shocks:
        names, moves = self.spot_moves(underlyings, market)
        count = moves.shape[1]
        zeros = np.zeros_like(moves)
        return Shocks(
            names, tuple(underlyings), moves, zeros, zeros, np.zeros(count), np.ones(count)
        )

    def requirement(self, book: Book) -> Requirement:
        table = book.instruments
        shocks = self.shocks(table.underlyings, book.market)
        q = book.net_quantity
        matrix = underlying_matrix(book)
        by_underlying = np.zeros((len(table.underlyings), shocks.count))
        long_unit, short_unit = np.zeros(len(table)), np.zeros(len(table))
        size = max(1, CHUNK_CELLS // max(shocks.count, 1))
        for start in range(0, len(table), size):  # chunks of instruments bound memory
            rows = np.arange(start, min(start + size, len(table)))
            pnl = instrument_pnl(_table_rows(table, rows), shocks)  # (rows, S) USD per contract
            long_unit[rows] = expected_shortfall(pnl, self.confidence)
            short_unit[rows] = expected_shortfall(-pnl, self.confidence)
            by_underlying += matrix[:, rows] @ (q[rows, None] * pnl)
        total = by_underlying.sum(axis=0)
        es_total = float(expected_shortfall(total, self.confidence))
        es_underlying = expected_shortfall(by_underlying, self.confidence)
        worst = int(np.argmin(total))
        return Requirement(
            initial=es_total,
            maintenance=self.maintenance_ratio * es_total,
            position_initial=isolated_from_unit(book, long_unit, short_unit),
            components={
                "expected_shortfall": es_total,
                "value_at_risk": float(value_at_risk(total, self.confidence)),
                "diversification": es_total - float(es_underlying.sum()),
            },
            by_underlying=dict(zip(table.underlyings, es_underlying.tolist())),
            worst_scenario={"name": shocks.names[worst], "pnl": float(total[worst]), "weight": 1.0},
        )


def _table_rows(table: InstrumentTable, rows: np.ndarray) -> InstrumentTable:
    """The instruments ``rows`` of ``table`` (same underlyings)."""
    values = {f.name: getattr(table, f.name) for f in fields(table)}
    return InstrumentTable(
        **{k: v[rows] if isinstance(v, np.ndarray) else v for k, v in values.items()}
    )


def atm_vol(market: Market, underlying: str) -> float:
    """The underlying's flat vol, else its smile's ATM vol at a 30-day expiry (decimal)."""
    data = market.underlyings[underlying]
    if data.vol is not None:
        return float(data.vol)
    if data.smile is not None:
        expiry = np.array([market.as_of64 + np.timedelta64(ATM_DAYS, "D")])
        return float(market.vols(underlying, expiry, np.array([data.spot]))[0])
    raise MarketDataError(
        Problem(
            f"{market.source}: underlyings.{underlying}",
            f"no vol for {underlying}, which Monte Carlo needs",
            f"Add `vol:` (or a `smile:`) for {underlying} under `underlyings:`.",
        )
    )


def correlation_factor(market: Market, underlyings: tuple[str, ...]) -> np.ndarray:
    """A matrix A with A·Aᵀ = the correlation matrix of ``underlyings`` (PSD check included)."""
    count = len(underlyings)
    matrix = np.eye(count)
    problems = ProblemCollector(MarketDataError)
    for i in range(count):  # underlyings, not positions or scenarios
        for j in range(i + 1, count):
            a, b = underlyings[i], underlyings[j]
            rho = market.correlation(a, b)
            if rho is None:
                problems.add(
                    f"{market.source}: correlations",
                    f"no correlation for the pair {a}/{b}",
                    f"Add it under correlations:, e.g. `{a}: {{{b}: 0.8}}`.",
                )
                continue
            matrix[i, j] = matrix[j, i] = rho
    problems.raise_if_any()
    eigenvalues, vectors = np.linalg.eigh(matrix)
    if eigenvalues.min() < -1e-10:
        raise InputError(
            Problem(
                f"{market.source}: correlations",
                f"the correlations of {', '.join(underlyings)} do not form a valid (positive "
                f"semi-definite) correlation matrix; smallest eigenvalue {eigenvalues.min():.3g}",
                "Make them mutually consistent (e.g. two pairs highly correlated need the third "
                "pair positively correlated too).",
            )
        )
    return vectors * np.sqrt(np.maximum(eigenvalues, 0.0))


def load_price_history(path: Path, problems: ProblemCollector) -> PriceHistory | None:
    """Read a CSV of ``date`` and one column of daily closes (USD) per underlying."""
    try:
        text = read_text(path, "price history")
    except InputError as exc:
        for problem in exc.problems:
            problems.add(problem.where, problem.message, problem.fix)
        return None
    lines = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        problems.add(str(path), "no rows", "Give a header `date,BTC,...` and daily closes.")
        return None
    header_line, header = lines[0]
    columns = [c.strip() for c in next(csv.reader(io.StringIO(header)))]
    if "date" not in columns or len(columns) < 2:
        problems.add(
            f"{path}:{header_line}",
            f"expected a `date` column and one column per underlying, found {columns}",
            "Use a header like `date,BTC,ETH`.",
        )
        return None
    dates, rows = [], []
    for number, line in lines[1:]:
        cells = [c.strip() for c in next(csv.reader(io.StringIO(line)))]
        record = dict(zip(columns, cells))
        try:
            dates.append(date.fromisoformat(record.get("date", "")))
        except ValueError:
            problems.add(
                f"{path}:{number}: `date`", f"not a YYYY-MM-DD date: {record.get('date')!r}"
            )
            continue
        values = {}
        for column in columns:
            if column == "date":
                continue
            cell = record.get(column, "")
            try:
                value = float(cell) if cell else math.nan
            except ValueError:
                value = -1.0
            if not (math.isnan(value) or (math.isfinite(value) and value > 0)):
                problems.add(
                    f"{path}:{number}: `{column}`",
                    f"expected a positive price, found {cell!r}",
                    "Leave the cell empty for a missing close.",
                )
            values[column.upper()] = value
        rows.append(values)
    if len(set(dates)) != len(dates):
        problems.add(str(path), "repeated dates", "Give one row per date.")
    if problems:
        return None
    order = np.argsort(np.array(dates, dtype="datetime64[D]"), kind="stable")
    closes = {
        column.upper(): np.array([rows[i][column.upper()] for i in order])
        for column in columns
        if column != "date"
    }
    return PriceHistory(str(path), tuple(dates[i].isoformat() for i in order), closes)


def _add(problems: ProblemCollector, problem: Problem) -> None:
    problems.add(problem.where, problem.message, problem.fix)


def _check_keys(block: dict, valid: tuple[str, ...], where: str, problems) -> None:
    for key in block:
        if key not in valid:
            _add(problems, unknown_key_problem(f"{where}{key}", key, valid))


def build(document: dict[str, Any], where: str, problems: ProblemCollector) -> VarModel | None:
    """A VarModel from a parsed model YAML (see ``pmargin/models/var.yaml``)."""
    from .params import number, section

    _check_keys(document, KEYS, f"{where}: ", problems)
    confidence = number(document.get("confidence", 0.99), f"{where}: confidence", problems)
    if confidence is not None and not 0.5 <= confidence < 1:
        problems.add(f"{where}: confidence", f"must be in [0.5, 1), found {confidence}")
    horizon = number(
        document.get("horizon_days", 2), f"{where}: horizon_days", problems, positive=True
    )
    per_year = number(
        document.get("days_per_year", 365), f"{where}: days_per_year", problems, positive=True
    )
    returns = str(document.get("returns", "log"))
    if returns not in ("log", "relative"):
        problems.add(f"{where}: returns", f"unknown {returns!r}", "Use log or relative.")
    kind = str(document.get("scenarios", "montecarlo"))
    if kind not in ("montecarlo", "historical"):
        problems.add(f"{where}: scenarios", f"unknown {kind!r}", "Use montecarlo or historical.")
    mc = section(document, "montecarlo", where, problems)
    _check_keys(mc, MONTECARLO_KEYS, f"{where}: montecarlo.", problems)
    paths = number(mc.get("paths", 20000), f"{where}: montecarlo.paths", problems, minimum=100)
    seed = number(mc.get("seed", 0), f"{where}: montecarlo.seed", problems, minimum=0)
    for key, value in (("paths", paths), ("seed", seed)):
        if value is not None and value != int(value):
            problems.add(f"{where}: montecarlo.{key}", f"must be a whole number, found {value}")
    distribution = str(mc.get("distribution", "normal"))
    if distribution not in DISTRIBUTIONS:
        problems.add(
            f"{where}: montecarlo.distribution",
            f"unknown {distribution!r}",
            f"Use {' or '.join(DISTRIBUTIONS)}.",
        )
    df = number(mc.get("df", 5), f"{where}: montecarlo.df", problems)
    if df is not None and df <= 2:
        problems.add(f"{where}: montecarlo.df", f"must be above 2 (finite variance), found {df}")
    history = None
    if kind == "historical":
        hist = section(document, "historical", where, problems)
        _check_keys(hist, HISTORICAL_KEYS, f"{where}: historical.", problems)
        if not isinstance(hist.get("prices"), str):
            problems.add(
                f"{where}: historical.prices",
                "missing: the CSV of daily closes",
                "Give `historical: {prices: closes.csv}` (resolved beside this file).",
            )
        else:
            history = load_price_history(resolve_beside(where, hist["prices"]), problems)
        if horizon is not None and horizon != int(horizon):
            problems.add(
                f"{where}: horizon_days",
                f"must be a whole number of rows for historical scenarios, found {horizon}",
            )
    ratio = number(
        document.get("maintenance_ratio", 0.8), f"{where}: maintenance_ratio", problems, minimum=0
    )
    if problems:
        return None
    return VarModel(
        name=str(document.get("name", "var")),
        description=str(document.get("description", "")),
        source=str(document.get("source", "")),
        parameters=document,
        path=where,
        confidence=float(confidence),
        horizon_days=float(horizon),
        days_per_year=float(per_year),
        returns=returns,
        scenarios=kind,
        paths=int(paths),
        seed=int(seed),
        distribution=distribution,
        df=float(df),
        history=history,
        maintenance_ratio=float(ratio),
    )
