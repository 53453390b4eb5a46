"""``run_stress``: a book's P&L under one or more scenario sets.

Each set is resolved into shocks for the book's underlyings and valued in one engine pass; the
result keeps the P&L per scenario, per underlying and (on demand) per position, and the worst
scenario over all sets. P&L is shocked − base value in USD; a loss is negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .book import Book, bind
from .engine import Valuation, value
from .market import Market
from .portfolio import Portfolio
from .scenarios import ScenarioSource


@dataclass(frozen=True)
class SetResult:
    """One scenario set's P&L. ``pnl`` is (S,), ``by_underlying`` (U, S) in USD."""

    scenario_set: Any
    valuation: Valuation

    @property
    def name(self) -> str:
        return self.scenario_set.name

    @property
    def names(self) -> tuple[str, ...]:
        return self.valuation.shocks.names

    @property
    def pnl(self) -> np.ndarray:
        return self.valuation.pnl

    @property
    def by_underlying(self) -> np.ndarray:
        return self.valuation.by_underlying()

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


def stress_book(book: Book, scenario_sets: list[ScenarioSource]) -> StressResult:
    """Value a bound book under each scenario set."""
    underlyings = book.instruments.underlyings
    results = [SetResult(s, value(book, s.shocks(underlyings, book.market))) for s in scenario_sets]
    return StressResult(book, results)


def run_stress(
    portfolio: Portfolio, market: Market, scenario_sets: list[ScenarioSource]
) -> StressResult:
    """P&L of ``portfolio`` under every scenario of every set."""
    return stress_book(bind(portfolio, market), scenario_sets)
