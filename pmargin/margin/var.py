"""VaR/ES margin (STANS-style): expected shortfall of the book's P&L over a few days.

Scenarios move spots (and forwards) only: no vol or theta shocks. ``scenarios: montecarlo`` is a
:class:`~pmargin.montecarlo.MonteCarloSet` (correlated log returns over ``horizon_days`` from the
market's vols and correlations, normal or Student-t, seeded; with ``montecarlo: {estimate:
{method, lambda, window}}`` the vols and correlations are instead estimated from the
``historical:`` prices by :mod:`pmargin.estimate`, so both variants draw on one file);
``historical`` a :class:`~pmargin.historical.HistoricalSet` of the overlapping
``horizon_days``-row returns of the ``prices`` CSV (``date`` — or ``date_column`` — and daily
closes per underlying, beside the model YAML), where an empty cell is a missing close and
returns across it are skipped (an estimate, which needs every close, calls a gap an error).

ES and VaR are :mod:`pmargin.risk_measures`' (of the k = ⌈(1 − confidence)·N⌉ worst scenarios: ES
the mean loss, VaR the k-th largest), floored at 0. Initial margin = the book's ES;
``by_underlying`` holds each underlying's stand-alone ES and ``diversification`` (≤ 0, ES is
sub-additive) reconciles them with the total. Maintenance = ``maintenance_ratio`` × initial (0.8:
pmargin's choice, as deribit; STANS sets one requirement). Isolated margin is each position's own
ES, from the ES of ±1 contract (ES is homogeneous). A model *of* OCC's STANS, not a replication.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..book import Book
from ..engine import instrument_pnl, instrument_pnl_chunks, underlying_matrix
from ..errors import MarketDataError, Problem, ProblemCollector
from ..estimate import Estimate
from ..historical import HistoricalSet
from ..market import Market
from ..montecarlo import MonteCarloSet
from ..risk_measures import expected_shortfall, tail_count, value_at_risk
from ..scenarios import Shocks
from ..values import DAYS_MAX, number, section
from .base import Requirement, cached_pnl, isolated_from_unit, keep_pnl
from .batch import Allocation, BatchMargin, OpenOrders, QuantityBatch
from .liquidation_parameters import LiquidationParameters, parse_liquidation
from .var_parameters import (
    HISTORICAL_KEYS,
    KEYS,
    check_var_keys,
    montecarlo_parameters,
)

#: instruments × scenarios valued at a time (bounds memory for large books)
CHUNK_CELLS = 2_000_000
#: instruments × scenarios P&L kept for later books on the same instruments (64 MB)
KEEP_CELLS = 8_000_000
#: memo key of the ES of +1 and −1 contract of each instrument, kept with the P&L
UNIT_SHORTFALLS = "var unit shortfalls"
#: P&L cells (changed instruments × scenarios) a batch of candidate books keeps (128 MB)
CHANGED_CELLS = 16_000_000
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
    liquidation: LiquidationParameters = field(default_factory=LiquidationParameters)

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

    def _pnl_chunks(self, book: Book):
        """The shocks and the (I, S) P&L per contract in pieces of rows that bound memory.

        Up to :data:`KEEP_CELLS` cells the pieces are joined and kept in ``table.memo`` (as the
        other scenario models keep theirs), so books on the same table — the accounts of a
        book, the steps of a liquidation — are not priced again.
        """
        table = book.instruments
        cached = cached_pnl(self, table)
        if cached is not None:
            return cached[0], [(slice(None), cached[1])]
        shocks = self.shocks(table.underlyings, book.market)
        size = CHUNK_CELLS // max(shocks.count, 1)  # instruments per chunk bounds memory
        chunks = instrument_pnl_chunks(table, shocks, along="instruments", size=size)
        if len(table) * shocks.count > KEEP_CELLS:
            return shocks, chunks
        pnl = np.empty((len(table), shocks.count))
        for rows, piece in chunks:
            pnl[rows] = piece
        return shocks, [(slice(None), keep_pnl(self, table, shocks, pnl)[1])]

    def requirement(self, book: Book) -> Requirement:
        table = book.instruments
        shocks, chunks = self._pnl_chunks(book)
        q = book.net_quantity
        matrix = underlying_matrix(book)
        by_underlying = np.zeros((len(table.underlyings), shocks.count))
        kept = table.memo.get(UNIT_SHORTFALLS)  # ES of ±1 contract: quantities do not matter
        if kept is not None and kept[0] is self:
            long_unit, short_unit = kept[1], kept[2]
        else:
            long_unit, short_unit = np.zeros(len(table)), np.zeros(len(table))
        for rows, pnl in chunks:
            # pnl: (rows, S) USD per contract
            if kept is None or kept[0] is not self:
                long_unit[rows] = self.expected_shortfall(pnl)
                short_unit[rows] = self.expected_shortfall(-pnl)
            by_underlying += (matrix[:, rows] * q[rows]) @ pnl
        if cached_pnl(self, table) is not None:
            table.memo[UNIT_SHORTFALLS] = (self, long_unit, short_unit)
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

    def _kept_pnl(self, table) -> dict[bytes, np.ndarray]:
        """Scenario P&L (S,) of the last :data:`KEPT_BOOKS` books margined on ``table``, by
        their net quantities, so that a what-if or an attribution after a margin run does not
        price the book again."""
        key = (self.method, "book pnl")
        kept = table.memo.get(key)
        if kept is None or kept[0] is not self:
            kept = table.memo[key] = (self, _LastFew(KEPT_BOOKS))
        return kept[1]

    def _books_pnl(self, book: Book, quantities: np.ndarray, changed: np.ndarray):
        """The shocks, the P&L (B, S) of books with net quantities ``quantities`` (B, I) on
        ``book``'s instruments, and the P&L (T, S) of the instruments ``changed`` (None when
        they would take more than :data:`CHANGED_CELLS`), in at most one pass over the
        instruments (none when the P&L per contract is kept)."""
        table = book.instruments
        kept = self._kept_pnl(table)
        known = [kept.get(row.tobytes()) for row in quantities]
        missing = [b for b, pnl in enumerate(known) if pnl is None]
        if not missing and cached_pnl(self, table) is None:  # price what changes only
            shocks = self.shocks(table.underlyings, book.market)
            books = np.array(known).reshape(-1, shocks.count)
            if len(changed) * shocks.count > CHANGED_CELLS:
                return shocks, books, None
            return shocks, books, self._pnl(table, changed, shocks)
        shocks, chunks = self._pnl_chunks(book)
        keep = len(changed) * shocks.count <= CHANGED_CELLS
        books = np.zeros((len(quantities), shocks.count))
        for b, pnl in enumerate(known):
            if pnl is not None:
                books[b] = pnl
        changed_pnl = np.zeros((len(changed), shocks.count)) if keep else None
        for rows, pnl in chunks:
            start, stop, _ = rows.indices(len(table))
            books[missing] += quantities[missing][:, rows] @ pnl
            if changed_pnl is not None:
                inside = (changed >= start) & (changed < stop)
                changed_pnl[inside] = pnl[changed[inside] - start]
        return shocks, books, changed_pnl

    def _pnl(self, table, instruments: np.ndarray, shocks: Shocks) -> np.ndarray:
        """P&L per contract (T, S) of the ``instruments`` of ``table``: kept, else priced."""
        cached = cached_pnl(self, table)
        if cached is not None:
            return cached[1][instruments]
        pnl = np.zeros((len(instruments), shocks.count))
        size = max(CHUNK_CELLS // max(shocks.count, 1), 1)
        for rows, piece in instrument_pnl_chunks(
            table.rows(instruments), shocks, along="instruments", size=size
        ):
            pnl[rows] = piece
        return pnl

    def batch_margin(
        self, book: Book, batch: QuantityBatch, orders: OpenOrders | None = None
    ) -> BatchMargin:
        """ES of each candidate book of ``batch``: the base books' P&L (kept from their margin
        run, else priced) and the P&L of the instruments the candidates change (re-priced per
        chunk of candidates when it would take more than :data:`CHANGED_CELLS`); no (candidates ×
        instruments) matrix, at most one pass over the book."""
        table = book.instruments
        changed = batch.changed_instruments()
        shocks, base_pnl, changed_pnl = self._books_pnl(book, batch.base, changed)
        initial = np.zeros(batch.count)
        size = max(CHUNK_CELLS // max(shocks.count, 1), 1)
        for start in range(0, batch.count, size):
            part = batch.take(slice(start, start + size))
            kept = changed_pnl is not None
            columns = changed if kept else part.changed_instruments()
            total = base_pnl[part.book_of]
            if len(columns):
                pnl = changed_pnl if kept else self._pnl(table, columns, shocks)
                total = total + part.change[:, columns] @ pnl
            initial[start : start + size] = self.expected_shortfall(total)
        return BatchMargin(initial, self.maintenance_ratio * initial)

    def allocation(self, book: Book) -> Allocation:
        """Each position's mean loss over the tail scenarios of the book's P&L (the k worst
        that the expected shortfall averages), so the contributions add up to the ES."""
        table = book.instruments
        none = np.zeros(0, np.int64)
        shocks, books, _ = self._books_pnl(book, book.net_quantity[None, :], none)
        total = books[0]
        basis_text = "no loss in the tail"
        contribution = np.zeros(len(book.quantity))
        if self.expected_shortfall(total) > 0:
            k = tail_count(shocks.count, self.confidence)
            tail = np.argpartition(total, k - 1)[:k]
            cached = cached_pnl(self, table)
            tail_pnl = (
                cached[1][:, tail]
                if cached is not None
                else instrument_pnl(table, shocks.take(tail))
            )
            tail_loss = -tail_pnl.mean(axis=1)  # per contract
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


def build(
    document: dict[str, Any],
    where: str,
    problems: ProblemCollector,
    *,
    price_history: HistoricalSet | None = None,
    estimated_inputs: Estimate | None = None,
) -> VarModel | None:
    """A VarModel from a parsed model YAML (see ``pmargin/models/var.yaml``).

    ``price_history`` is the replay of the ``historical:`` block's CSV of daily closes, read by
    :mod:`pmargin.io.model_file` (needed when ``scenarios: historical``); ``estimated_inputs``
    the vols and correlations estimated from it (needed with ``montecarlo.estimate``).
    """
    check_var_keys(document, KEYS, f"{where}: ", problems)
    name = str(document.get("name", "var"))
    confidence = number(document.get("confidence", 0.99), f"{where}: confidence", problems)
    if confidence is not None and not 0.5 <= confidence < 1:
        problems.add(f"{where}: confidence", f"must be in [0.5, 1), found {confidence}")
    horizon = number(
        document.get("horizon_days", 2),
        f"{where}: horizon_days",
        problems,
        positive=True,
        maximum=DAYS_MAX,
    )
    kind = str(document.get("scenarios", "montecarlo"))
    if kind not in ("montecarlo", "historical"):
        problems.add(f"{where}: scenarios", f"unknown {kind!r}", "Use montecarlo or historical.")
    montecarlo = montecarlo_parameters(document, where, problems)
    ratio = number(
        document.get("maintenance_ratio", 0.8), f"{where}: maintenance_ratio", problems, minimum=0
    )
    liquidation = parse_liquidation(document, where, problems)
    scenario_set = None
    if kind == "historical":
        hist = section(document, "historical", where, problems)
        check_var_keys(hist, HISTORICAL_KEYS, f"{where}: historical.", problems)
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
    wants_estimate = "estimate" in (document.get("montecarlo") or {})
    if kind == "montecarlo" and wants_estimate and estimated_inputs is None and not problems:
        problems.add(
            f"{where}: montecarlo.estimate",
            "no estimate of the price history was made for this model",
            "Load the model with pmargin.io.model_file.load_model.",
        )
    if problems:
        return None
    if kind == "montecarlo":
        scenario_set = MonteCarloSet(
            name=name,
            horizon_days=float(horizon),
            source=where,
            estimate=estimated_inputs,
            **montecarlo,
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
        liquidation=liquidation,
    )
