"""What every margin model gives, and helpers shared by the scenario-based models."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..book import Book, InstrumentTable
from ..engine import instrument_pnl
from ..scenarios import Shocks
from .liquidation_parameters import LiquidationParameters


@dataclass(frozen=True)
class Requirement:
    """A model's margin for one book, USD, all ≥ 0.

    ``position_initial`` is the model applied to each position row alone (its isolated margin);
    ``by_underlying`` splits ``initial`` where the model adds per-underlying parts.
    ``worst_scenario`` is the scenario whose counted loss is largest (``name``, ``pnl`` = raw P&L,
    ``weight``), or None for models without scenarios.
    """

    initial: float
    maintenance: float
    position_initial: np.ndarray
    components: dict[str, float] = field(default_factory=dict)
    by_underlying: dict[str, float] = field(default_factory=dict)
    worst_scenario: dict[str, Any] | None = None


class MarginModel(Protocol):
    """A named, documented parameter set with a method that turns a book into a requirement."""

    name: str
    method: str
    description: str
    source: str
    parameters: dict[str, Any]
    #: how the model's venue liquidates (fees, step size, buffer)
    liquidation: LiquidationParameters

    def requirement(self, book: Book) -> Requirement: ...


def worst_loss(weighted_pnl: np.ndarray) -> np.ndarray:
    """Largest counted loss along the last axis, floored at 0 (a requirement is never < 0)."""
    if weighted_pnl.shape[-1] == 0:
        return np.zeros(weighted_pnl.shape[:-1])
    return np.maximum(-weighted_pnl.min(axis=-1), 0.0)


def isolated_from_unit(book: Book, long_unit: np.ndarray, short_unit: np.ndarray) -> np.ndarray:
    """Per-position margin from the margin of +1 and −1 contract of each instrument.

    Valid for models that are positively homogeneous in a single position.
    """
    q = book.quantity
    unit = np.where(q > 0, long_unit[book.instrument], short_unit[book.instrument])
    return np.abs(q) * unit


def model_pnl(
    model: MarginModel, table: InstrumentTable, build_shocks
) -> tuple[Shocks, np.ndarray]:
    """``model``'s shocks and the P&L per contract (I, S) they give on ``table``.

    Computed once per table and model and kept in ``table.memo``, so the book and each of its
    accounts (which share the table) are priced in one pass. ``build_shocks()`` makes the shocks.
    """
    cached = cached_pnl(model, table)
    if cached is None:
        shocks = build_shocks()
        cached = keep_pnl(model, table, shocks, instrument_pnl(table, shocks))
    return cached


def keep_pnl(
    model: MarginModel, table: InstrumentTable, shocks: Shocks, pnl: np.ndarray
) -> tuple[Shocks, np.ndarray]:
    """Keep ``model``'s shocks and (I, S) P&L per contract in ``table.memo``; return them."""
    table.memo[model.method] = (model, shocks, pnl)
    return shocks, pnl


def cached_pnl(model: MarginModel, table: InstrumentTable) -> tuple[Shocks, np.ndarray] | None:
    """The shocks and (I, S) P&L per contract that ``model`` kept for ``table``, if it did.

    Scenario models keep them (see :func:`model_pnl`) once they have margined a book on
    ``table``; models without scenarios (standard) keep none.
    """
    cached = table.memo.get(model.method)
    if cached is None or cached[0] is not model:
        return None
    return cached[1], cached[2]
