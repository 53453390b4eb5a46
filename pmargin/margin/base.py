"""What every margin model gives, and helpers shared by the scenario-based models.

Besides ``requirement(book)`` every bundled model gives

* ``batch_margin(book, batch)``: the initial and maintenance margin of many candidate books that
  differ from ``book`` only in their net quantities (a :class:`QuantityBatch`), in one
  vectorised pass over the instruments × scenarios P&L that ``book`` was priced with
  (``pmargin whatif``);
* ``allocation(book)``: each position row's contribution to ``requirement(book).initial``
  (an :class:`Allocation`; the contributions add up to the margin, ``pmargin explain``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
from scipy import sparse

from ..book import Book, InstrumentTable
from ..engine import instrument_pnl
from ..scenarios import Shocks


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
    cached = table.memo.get(model.method)
    if cached is None or cached[0] is not model:
        shocks = build_shocks()
        cached = table.memo[model.method] = (model, shocks, instrument_pnl(table, shocks))
    return cached[1], cached[2]


@dataclass(frozen=True)
class QuantityBatch:
    """Net contracts per distinct instrument of C candidate books, as base books plus changes.

    Candidate ``c`` holds ``base[book_of[c]] + change[c]`` contracts of each instrument of the
    table the books share: ``base`` is (B, I) dense (a few base books, e.g. one per account),
    ``book_of`` (C,) picks each candidate's base, ``change`` is a sparse (C, I) matrix (a trade
    touches one instrument). Products with a per-instrument matrix cost B·I plus the changes'
    non-zeros, not C·I.
    """

    base: np.ndarray
    book_of: np.ndarray
    change: sparse.csr_array

    def __post_init__(self) -> None:
        if self.change.shape != (len(self.book_of), self.base.shape[1]):
            raise ValueError("`change` must be (candidates, instruments)")
        self.change.sum_duplicates()

    @property
    def count(self) -> int:
        return len(self.book_of)

    def dot(self, matrix: np.ndarray) -> np.ndarray:
        """Σᵢ qᶜᵢ · matrix[i] for every candidate: shape (C, *matrix.shape[1:])."""
        return self._dot(matrix, lambda q: q)

    def dot_long(self, matrix: np.ndarray) -> np.ndarray:
        """Σᵢ max(qᶜᵢ, 0) · matrix[i]: long contracts only."""
        return self._dot(matrix, lambda q: np.maximum(q, 0.0))

    def dot_short(self, matrix: np.ndarray) -> np.ndarray:
        """Σᵢ max(−qᶜᵢ, 0) · matrix[i]: short contracts only (as a positive count)."""
        return self._dot(matrix, lambda q: np.maximum(-q, 0.0))

    def _dot(self, matrix: np.ndarray, part) -> np.ndarray:
        flat = np.asarray(matrix, dtype=np.float64).reshape(len(matrix), -1)
        result = (part(self.base) @ flat)[self.book_of]
        coo = self.change.tocoo()
        if coo.nnz:
            before = self.base[self.book_of[coo.row], coo.col]
            moved = part(before + coo.data) - part(before)
            correction = sparse.csr_array((moved, (coo.row, coo.col)), shape=self.change.shape)
            result = result + correction @ flat
        return result.reshape((self.count, *np.shape(matrix)[1:]))

    def take(self, candidates: slice | np.ndarray) -> QuantityBatch:
        """The candidates ``candidates`` of this batch (same bases)."""
        return QuantityBatch(self.base, self.book_of[candidates], self.change[candidates])

    def changed_instruments(self) -> np.ndarray:
        """Indices of the instruments some candidate changes, ascending."""
        return np.unique(self.change.tocoo().col)

    def with_base(self, base: np.ndarray) -> QuantityBatch:
        """The same changes on other base books (e.g. the bases without their open orders)."""
        return replace(self, base=base)


@dataclass(frozen=True)
class BatchMargin:
    """Initial and maintenance margin of each candidate of a :class:`QuantityBatch`, USD (C,)."""

    initial: np.ndarray
    maintenance: np.ndarray


@dataclass(frozen=True)
class Allocation:
    """Each position row's contribution to a book's initial margin, USD (N,), and per underlying
    a sentence saying what was allocated (the worst scenario, a minimum, ...)."""

    contribution: np.ndarray
    basis: dict[str, str] = field(default_factory=dict)


def by_underlying_columns(table: InstrumentTable, matrix: np.ndarray) -> np.ndarray:
    """(I, U, S) from an (I, S) matrix: each instrument's row under its own underlying, zeros
    under the others, so that ``quantities @ result`` is the (U, S) P&L per underlying."""
    spread = np.zeros((len(table), len(table.underlyings), matrix.shape[-1]))
    spread[np.arange(len(table)), table.underlying_index] = matrix
    return spread


def worst_scenario_allocation(
    book: Book, by_underlying: np.ndarray, counted_pnl: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Euler allocation of Σ over underlyings of the largest counted loss.

    ``by_underlying`` is the book's counted P&L (U, S), ``counted_pnl`` the counted P&L per
    contract (I, S). In each underlying with a loss, a position's contribution is its own counted
    loss in that underlying's worst scenario (the derivative of a maximum of linear losses), so
    the underlying's contributions add up to its largest loss. Returns the contributions (N,),
    each underlying's worst scenario (U,) and whether it has a loss (U,).
    """
    if by_underlying.shape[-1] == 0:
        empty = np.zeros(len(by_underlying), bool)
        return np.zeros(len(book.quantity)), np.zeros(len(by_underlying), int), empty
    worst = np.argmin(by_underlying, axis=1)
    has_loss = worst_loss(by_underlying) > 0
    row_underlying = book.instruments.underlying_index[book.instrument]
    contribution = -book.quantity * counted_pnl[book.instrument, worst[row_underlying]]
    return np.where(has_loss[row_underlying], contribution, 0.0), worst, has_loss


def per_instrument_allocation(
    book: Book, long_unit: np.ndarray, short_unit: np.ndarray
) -> np.ndarray:
    """Euler allocation of Σ over instruments of f(net quantity), f(q) = q·long_unit for q > 0,
    −q·short_unit for q < 0: each row gets f'(net) × its own quantity, i.e. its signed share of
    its instrument's amount (a row against its instrument's net position gets a negative one)."""
    net = book.net_quantity[book.instrument]
    slope = np.where(
        net > 0, long_unit[book.instrument], np.where(net < 0, -short_unit[book.instrument], 0.0)
    )
    return book.quantity * slope
