"""VaR/ES margin (STANS-style): expected shortfall of the book's P&L over a few days.

Scenarios move spots (and forwards) only: no vol or theta shocks. ``scenarios: montecarlo`` is a
:class:`~pmargin.montecarlo.MonteCarloSet` (correlated log returns over ``horizon_days`` from the
market's vols and correlations, normal or Student-t, seeded); ``historical`` a
:class:`~pmargin.historical.HistoricalSet` of the overlapping ``horizon_days``-row returns of the
``prices`` CSV (``date`` — or ``date_column`` — and daily closes per underlying, beside the model
YAML), where an empty cell is a missing close and returns across it are skipped.

ES and VaR are :mod:`pmargin.risk_measures`' (of the k = ⌈(1 − confidence)·N⌉ worst scenarios: ES
the mean loss, VaR the k-th largest), floored at 0. Initial margin = the book's ES;
``by_underlying`` holds each underlying's stand-alone ES and ``diversification`` (≤ 0, ES is
sub-additive) reconciles them with the total. Maintenance = ``maintenance_ratio`` × initial (0.8:
pmargin's choice, as deribit; STANS sets one requirement). Isolated margin is each position's own
ES, from the ES of ±1 contract (ES is homogeneous). A model *of* OCC's STANS, not a replication.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..book import Book
from ..engine import instrument_pnl, instrument_pnl_chunks, underlying_matrix
from ..errors import MarketDataError, Problem, ProblemCollector
from ..historical import HistoricalSet
from ..market import Market
from ..montecarlo import DISTRIBUTIONS, MonteCarloSet
from ..risk_measures import expected_shortfall, tail_count, value_at_risk
from ..scenarios import Shocks
from ..values import number, section, unknown_key_problem
from .base import Allocation, BatchMargin, QuantityBatch, Requirement, isolated_from_unit

KEYS = (
    "name",
    "method",
    "description",
    "source",
    "confidence",
    "horizon_days",
    "scenarios",
    "montecarlo",
    "historical",
    "maintenance_ratio",
)
MONTECARLO_KEYS = ("paths", "seed", "distribution", "df")
HISTORICAL_KEYS = ("prices", "date_column")
#: keys of earlier versions of this model, and why they went
REMOVED_KEYS = {
    "returns": "Monte Carlo moves are log returns (S' = S·eˣ)",
    "days_per_year": "Monte Carlo vols scale by √(horizon_days / 365)",
}
#: instruments × scenarios valued at a time (bounds memory for large books)
CHUNK_CELLS = 2_000_000
#: instruments × scenarios of P&L a batch of candidate books keeps between passes (128 MB)
KEPT_CELLS = 16_000_000
#: books whose scenario P&L is kept per instrument table (a what-if after a margin run)
KEPT_BOOKS = 8


@dataclass(frozen=True)
class VarModel:
    name: str
    description: str
    source: str
    parameters: dict[str, Any]
    path: str
    confidence: float
    scenario_set: MonteCarloSet | HistoricalSet
    maintenance_ratio: float
    method: str = "var"

    @property
    def kind(self) -> str:
        return self.scenario_set.kind

    def shocks(self, underlyings: tuple[str, ...], market: Market) -> Shocks:
        """Spot moves (U, S) for ``underlyings``: the set's, less historical returns with a gap."""
        if isinstance(self.scenario_set, MonteCarloSet):
            return self.scenario_set.shocks(underlyings, market)
        return _complete_returns(self.scenario_set, underlyings, market)

    def expected_shortfall(self, pnl: np.ndarray) -> np.ndarray:
        """ES along the last axis of ``pnl`` (USD), floored at 0."""
        return np.maximum(expected_shortfall(pnl, self.confidence), 0.0)

    def requirement(self, book: Book) -> Requirement:
        table = book.instruments
        shocks = self.shocks(table.underlyings, book.market)
        q = book.net_quantity
        matrix = underlying_matrix(book)
        by_underlying = np.zeros((len(table.underlyings), shocks.count))
        long_unit, short_unit = np.zeros(len(table)), np.zeros(len(table))
        for rows, pnl in self._pnl_chunks(table, shocks):
            # pnl: (rows, S) USD per contract
            long_unit[rows] = self.expected_shortfall(pnl)
            short_unit[rows] = self.expected_shortfall(-pnl)
            by_underlying += matrix[:, rows] @ (q[rows, None] * pnl)
        total = by_underlying.sum(axis=0)
        self._kept_pnl(table)[q.tobytes()] = total
        es_total = float(self.expected_shortfall(total))
        es_underlying = self.expected_shortfall(by_underlying)
        worst = int(np.argmin(total))
        return Requirement(
            initial=es_total,
            maintenance=self.maintenance_ratio * es_total,
            position_initial=isolated_from_unit(book, long_unit, short_unit),
            components={
                "expected_shortfall": es_total,
                "value_at_risk": float(np.maximum(value_at_risk(total, self.confidence), 0.0)),
                "diversification": es_total - float(es_underlying.sum()),
            },
            by_underlying=dict(zip(table.underlyings, es_underlying.tolist())),
            worst_scenario={"name": shocks.names[worst], "pnl": float(total[worst]), "weight": 1.0},
        )

    @staticmethod
    def _pnl_chunks(table, shocks: Shocks):
        """``instrument_pnl`` in pieces of whole instruments that bound memory."""
        size = CHUNK_CELLS // max(shocks.count, 1)
        return instrument_pnl_chunks(table, shocks, along="instruments", size=size)

    def _kept_pnl(self, table) -> dict[bytes, np.ndarray]:
        """Scenario P&L (S,) of the last :data:`KEPT_BOOKS` books margined on ``table``, by
        their net quantities, so that a what-if or an attribution after a margin run does not
        price the book again."""
        key = (self.method, "book pnl")
        kept = table.memo.get(key)
        if kept is None or kept[0] is not self:
            kept = table.memo[key] = (self, _LastFew(KEPT_BOOKS))
        return kept[1]

    def _books_pnl(self, table, shocks: Shocks, quantities: np.ndarray, changed: np.ndarray):
        """P&L (B, S) of books with net quantities ``quantities`` (B, I), and the P&L (T, S) of
        the instruments ``changed`` (None when they would take more than :data:`KEPT_CELLS`),
        in at most one pass over the instruments."""
        kept = self._kept_pnl(table)
        books = np.zeros((len(quantities), shocks.count))
        missing = []
        for b, row in enumerate(quantities):
            known = kept.get(row.tobytes())
            if known is None:
                missing.append(b)
            else:
                books[b] = known
        keep = len(changed) * shocks.count <= KEPT_CELLS
        changed_pnl = None
        if keep and not missing:
            changed_pnl = np.zeros((len(changed), shocks.count))
            for rows, pnl in self._pnl_chunks(table.rows(changed), shocks):
                changed_pnl[rows] = pnl
            return books, changed_pnl
        if keep:
            changed_pnl = np.zeros((len(changed), shocks.count))
        for rows, pnl in self._pnl_chunks(table, shocks):
            books[missing] += quantities[missing][:, rows] @ pnl
            if keep:
                inside = (changed >= rows.start) & (changed < rows.stop)
                changed_pnl[inside] = pnl[changed[inside] - rows.start]
        return books, changed_pnl

    def batch_margin(self, book: Book, batch: QuantityBatch) -> BatchMargin:
        """ES of each candidate book of ``batch``: the base books' P&L (kept from their margin
        run, else priced) and the P&L of the instruments the candidates change (re-priced per
        chunk of candidates when it would take more than :data:`KEPT_CELLS`); no (candidates ×
        instruments) matrix, at most one pass over the book."""
        table = book.instruments
        shocks = self.shocks(table.underlyings, book.market)
        changed = batch.changed_instruments()
        base_pnl, changed_pnl = self._books_pnl(table, shocks, batch.base, changed)
        initial = np.zeros(batch.count)
        size = max(CHUNK_CELLS // max(shocks.count, 1), 1)
        for start in range(0, batch.count, size):
            part = batch.take(slice(start, start + size))
            kept = changed_pnl is not None
            columns = changed if kept else part.changed_instruments()
            total = base_pnl[part.book_of]
            if len(columns):
                pnl = changed_pnl if kept else instrument_pnl(table.rows(columns), shocks)
                total = total + part.change[:, columns] @ pnl
            initial[start : start + size] = self.expected_shortfall(total)
        return BatchMargin(initial, self.maintenance_ratio * initial)

    def allocation(self, book: Book) -> Allocation:
        """Each position's mean loss over the tail scenarios of the book's P&L (the k worst
        that the expected shortfall averages), so the contributions add up to the ES."""
        table = book.instruments
        shocks = self.shocks(table.underlyings, book.market)
        none = np.zeros(0, np.int64)
        total = self._books_pnl(table, shocks, book.net_quantity[None, :], none)[0][0]
        basis_text = "no loss in the tail"
        contribution = np.zeros(len(book.quantity))
        if self.expected_shortfall(total) > 0:
            k = tail_count(shocks.count, self.confidence)
            tail = np.argpartition(total, k - 1)[:k]
            tail_loss = -instrument_pnl(table, shocks.take(tail)).mean(axis=1)  # per contract
            contribution = book.quantity * tail_loss[book.instrument]
            basis_text = f"mean loss over the {k} tail scenarios of {shocks.count:,}"
        return Allocation(contribution, {u: basis_text for u in table.underlyings})


class _LastFew(OrderedDict):
    """A dict that keeps only its ``size`` most recently set entries."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


def _complete_returns(
    history: HistoricalSet, underlyings: tuple[str, ...], market: Market
) -> Shocks:
    """The set's shocks for ``underlyings``, keeping only returns with every needed close."""
    missing = [u for u in underlyings if u not in history.spot]
    if missing:
        raise MarketDataError(
            Problem(
                history.prices,
                f"no price column for {', '.join(missing)}",
                f"Add a `{missing[0]}` column of daily closes (USD).",
            )
        )
    shocks = history.shocks(underlyings, market)
    keep = np.flatnonzero(np.isfinite(shocks.spot).all(axis=0))
    if len(keep) < 2:
        raise MarketDataError(
            Problem(
                history.prices,
                f"fewer than 2 {history.horizon_days}-day returns with closes for all of "
                f"{', '.join(underlyings)}",
                "Add more rows of daily closes.",
            )
        )
    return shocks if len(keep) == shocks.count else shocks.take(keep)


def _check_keys(block, valid: tuple[str, ...], where: str, problems: ProblemCollector) -> None:
    for key in block:
        if key in REMOVED_KEYS:
            problems.add(
                f"{where}{key}", f"no longer a parameter: {REMOVED_KEYS[key]}", "Delete it."
            )
        elif key not in valid:
            problems.append(unknown_key_problem(f"{where}{key}", key, valid))


def _montecarlo_parameters(
    document: dict[str, Any], where: str, problems: ProblemCollector
) -> dict[str, Any]:
    """The ``montecarlo:`` block as MonteCarloSet keywords (paths, seed, distribution, df)."""
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
    if paths is None or seed is None or df is None:
        return {}
    return {"paths": int(paths), "seed": int(seed), "distribution": distribution, "df": float(df)}


def build(
    document: dict[str, Any],
    where: str,
    problems: ProblemCollector,
    *,
    price_history: HistoricalSet | None = None,
) -> VarModel | None:
    """A VarModel from a parsed model YAML (see ``pmargin/models/var.yaml``).

    ``price_history`` is the replay of the ``historical:`` block's CSV of daily closes, read by
    :mod:`pmargin.io.model_file` (needed when ``scenarios: historical``).
    """
    _check_keys(document, KEYS, f"{where}: ", problems)
    name = str(document.get("name", "var"))
    confidence = number(document.get("confidence", 0.99), f"{where}: confidence", problems)
    if confidence is not None and not 0.5 <= confidence < 1:
        problems.add(f"{where}: confidence", f"must be in [0.5, 1), found {confidence}")
    horizon = number(
        document.get("horizon_days", 2), f"{where}: horizon_days", problems, positive=True
    )
    kind = str(document.get("scenarios", "montecarlo"))
    if kind not in ("montecarlo", "historical"):
        problems.add(f"{where}: scenarios", f"unknown {kind!r}", "Use montecarlo or historical.")
    montecarlo = _montecarlo_parameters(document, where, problems)
    ratio = number(
        document.get("maintenance_ratio", 0.8), f"{where}: maintenance_ratio", problems, minimum=0
    )
    scenario_set = None
    if kind == "historical":
        hist = section(document, "historical", where, problems)
        _check_keys(hist, HISTORICAL_KEYS, f"{where}: historical.", problems)
        if horizon is not None and horizon != int(horizon):
            problems.add(
                f"{where}: horizon_days",
                f"must be a whole number of rows for historical scenarios, found {horizon}",
            )
        elif horizon is not None:
            scenario_set = price_history
            if price_history is None and not problems:
                problems.add(
                    f"{where}: historical.prices",
                    "no price history was read for this model",
                    "Load the model with pmargin.io.model_file.load_model.",
                )
    if problems:
        return None
    if kind == "montecarlo":
        scenario_set = MonteCarloSet(
            name=name, horizon_days=float(horizon), source=where, **montecarlo
        )
    return VarModel(
        name=name,
        description=str(document.get("description", "")),
        source=str(document.get("source", "")),
        parameters=document,
        path=where,
        confidence=float(confidence),
        scenario_set=scenario_set,
        maintenance_ratio=float(ratio),
    )
