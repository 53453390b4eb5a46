"""``run_stress``: a book's P&L under one or more scenario sets.

Each set is resolved into shocks for the book's underlyings and valued in one engine pass; the
result keeps the P&L per scenario, per underlying and (on demand) per position, and the worst
scenario over all sets. P&L is shocked − base value in USD; a loss is negative.

Large sets (Monte Carlo) are valued in chunks of at most :data:`CHUNK_CELLS` instrument ×
scenario values to bound the memory of the engine's temporaries; the (instruments × scenarios)
P&L a set keeps is at most :data:`MAX_PNL_CELLS` values (400 MB), else the set is refused with a
message naming it, before anything is priced. Historical and Monte Carlo sets also carry VaR and ES
(:mod:`pmargin.risk_measures`). Problems that do not stop the run (a set shocking an underlying
the portfolio does not hold) come back as ``SetResult.warnings`` for the caller to show.

Open orders are valued as if filled (the worst case, as margin treats them); coin collateral is
shocked with its coin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from .book import Book, bind
from .engine import Valuation, instrument_pnl_chunks
from .errors import InputError, Problem
from .market import Market
from .portfolio import Portfolio
from .risk_measures import TailRisk
from .scenarios import DEFAULT_KEY, ScenarioSource, Shocks

#: scenarios valued per engine call: 2,000 × 2,000 instruments ≈ 32 MB per temporary array
CHUNK_SCENARIOS = 2_000
#: instrument × scenario values per engine call (fewer scenarios a call for a larger book)
CHUNK_CELLS = 4_000_000
#: the largest (instruments × scenarios) P&L matrix one set may need (float64: 400 MB)
MAX_PNL_CELLS = 50_000_000
#: kinds whose scenarios are a sample of outcomes, so VaR and ES mean something
SAMPLED_KINDS = ("historical", "montecarlo")

#: progress(set_name, scenarios_done, scenarios_in_set), called after each chunk
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class SetResult:
    """One scenario set's P&L. ``pnl`` is (S,), ``by_underlying`` (U, S) in USD."""

    scenario_set: Any
    valuation: Valuation
    warnings: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.scenario_set.name

    @property
    def names(self) -> tuple[str, ...]:
        return self.valuation.shocks.names

    @cached_property
    def pnl(self) -> np.ndarray:
        return self.valuation.pnl

    @cached_property
    def by_underlying(self) -> np.ndarray:
        return self.valuation.by_underlying()

    @cached_property
    def tail_risk(self) -> TailRisk | None:
        """VaR and ES at 95/99% for historical and Monte Carlo sets, else None."""
        if getattr(self.scenario_set, "kind", "") not in SAMPLED_KINDS:
            return None
        return TailRisk.of(self.pnl)

    def position_pnl(self, index: int) -> np.ndarray:
        """P&L of every position row (N,) in scenario ``index``, USD."""
        book = self.valuation.book
        return book.quantity * self.valuation.instrument_pnl[book.instrument, index]

    @property
    def worst_index(self) -> int:
        return int(np.argmin(self.pnl))


@dataclass(frozen=True)
class StressResult:
    book: Book
    sets: list[SetResult]

    @property
    def underlyings(self) -> tuple[str, ...]:
        return self.book.instruments.underlyings

    def worst(self) -> tuple[SetResult, int]:
        """The set and scenario index with the lowest P&L over all sets."""
        return min(((s, s.worst_index) for s in self.sets), key=lambda p: p[0].pnl[p[1]])

    @property
    def worst_loss(self) -> float:
        """Largest loss over all scenarios, USD, ≥ 0."""
        result, index = self.worst()
        return max(-float(result.pnl[index]), 0.0)


def stress_book(
    book: Book, scenario_sets: list[ScenarioSource], *, progress: Progress | None = None
) -> StressResult:
    """Value a bound book under each scenario set."""
    underlyings = book.instruments.underlyings
    results = []
    for scenario_set in scenario_sets:
        cells = len(book.instruments) * scenario_set.count
        if cells > MAX_PNL_CELLS:
            raise InputError(
                Problem(
                    getattr(scenario_set, "source", "") or f"scenario set {scenario_set.name}",
                    f"{scenario_set.count:,} scenarios × {len(book.instruments):,} instruments "
                    f"is {cells:,} P&L values, more than the {MAX_PNL_CELLS:,} one set may use",
                    "Use fewer scenarios (paths) or split the book.",
                )
            )
        shocks = scenario_set.shocks(underlyings, book.market)
        pnl = _chunked_pnl(book, shocks, scenario_set.name, progress)
        warnings = (
            *getattr(scenario_set, "warnings", ()),
            *underlying_warnings(scenario_set, book),
        )
        results.append(SetResult(scenario_set, Valuation(book, shocks, pnl), warnings))
    return StressResult(book, results)


def run_stress(
    portfolio: Portfolio,
    market: Market,
    scenario_sets: list[ScenarioSource],
    *,
    progress: Progress | None = None,
) -> StressResult:
    """P&L of ``portfolio`` under every scenario of every set."""
    return stress_book(bind(portfolio, market), scenario_sets, progress=progress)


def _chunked_pnl(book: Book, shocks: Shocks, name: str, progress: Progress | None) -> np.ndarray:
    """The engine's (I, S) instrument P&L, computed CHUNK_CELLS values at a time."""
    pnl = np.empty((len(book.instruments), shocks.count))
    size = min(CHUNK_SCENARIOS, max(CHUNK_CELLS // max(len(book.instruments), 1), 1))
    chunks = instrument_pnl_chunks(book.instruments, shocks, along="scenarios", size=size)
    for columns, chunk in chunks:
        pnl[:, columns] = chunk
        if progress is not None:
            progress(name, columns.stop, shocks.count)
    return pnl


def underlying_warnings(scenario_set: ScenarioSource, book: Book) -> tuple[str, ...]:
    """Mismatches between the underlyings a set names and those the book holds.

    A named underlying the portfolio does not hold is ignored (the market may lack it too); that
    is a warning for the user's own files (a typo such as ``XBT`` shows up), not for the bundled
    library, whose sets name BTC and ETH for every book. An explicit or grid set that neither
    names nor defaults (``"*"``) an underlying the portfolio holds leaves it unshocked. Sets that
    cannot leave one unshocked (historical) raise in ``shocks`` instead.
    """
    held = set(book.instruments.underlyings)
    label = f"scenario set {scenario_set.name}"
    source = getattr(scenario_set, "source", "")
    if source:
        label += f" ({source})"
    warnings = []
    named = set(getattr(scenario_set, "named_underlyings", set()))
    if getattr(scenario_set, "bundled", False):
        named = set()
    for underlying in sorted(named - held):
        reason = (
            f"the portfolio holds no {underlying}"
            if underlying in book.market.underlyings
            else f"neither the portfolio nor the market has {underlying}"
        )
        warnings.append(f"{label}: shocks for {underlying} are ignored; {reason}")
    tables = [getattr(scenario_set, k, None) for k in ("spot", "vol", "vol_shift")]
    if all(isinstance(t, dict) for t in tables):
        covered = {u for t in tables for u in t}
        if DEFAULT_KEY not in covered:
            for underlying in sorted(held - covered):
                warnings.append(
                    f"{label}: does not shock {underlying}, which the portfolio holds "
                    f'(no {underlying} or "*" entry); its P&L there is 0'
                )
    return tuple(warnings)
