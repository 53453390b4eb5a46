"""Many candidate books at once (``pmargin whatif``) and Euler allocation (``pmargin explain``).

Candidate books that differ from ``book`` only in their net quantities (a :class:`QuantityBatch`)
are margined by :func:`batch_margin` as accounts: every bundled model margins many accounts at
once (``requirements``, what ``compute`` runs), so a what-if's thousands of candidates cost one
vectorised pass over what the model priced ``book``'s instruments with, by the same code;
``orders`` are the open orders inside each base book, for a model that margins open orders its
own way (deribit); the others margin a candidate as it is. A model without ``requirements`` may
give its own ``batch_margin(book, batch, orders)``. Every bundled model also gives
``allocation(book)``: each position row's contribution to ``requirement(book).initial`` (an
:class:`Allocation`; the contributions add up to the margin).

:func:`candidate_margins` puts the two sides of SPEC §3 on top (open orders margined filled or
not filled, whichever is higher), as :func:`pmargin.portfolio_margin.requirement_with_orders`
does for one book.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import sparse

from ..accounts import Holdings
from ..book import Book
from .base import MarginModel, requirements_in_chunks, worst_loss


def net_contracts(quantity: np.ndarray) -> np.ndarray:
    """Signed quantities as they are (the default ``part`` of :class:`QuantityBatch` products)."""
    return quantity


def long_contracts(quantity: np.ndarray) -> np.ndarray:
    """The long part of signed quantities (a ``part`` for :class:`QuantityBatch` products)."""
    return np.maximum(quantity, 0.0)


def short_contracts(quantity: np.ndarray) -> np.ndarray:
    """The short part of signed quantities, as a positive count."""
    return np.maximum(-quantity, 0.0)


@dataclass(frozen=True)
class QuantityBatch:
    """Net contracts per distinct instrument of C candidate books, as base books plus changes.

    Candidate ``c`` holds ``base[book_of[c]] + change[c]`` contracts of each instrument of the
    table the books share: ``base`` is (B, I) dense (a few base books, e.g. one per account),
    ``book_of`` (C,) picks each candidate's base, ``change`` is a sparse (C, I) matrix (a trade
    touches one instrument). Products with a per-instrument matrix cost B·I plus the changes'
    non-zeros, never C·I.
    """

    base: np.ndarray
    book_of: np.ndarray
    change: sparse.csr_array

    def __post_init__(self) -> None:
        if self.change.shape != (len(self.book_of), self.base.shape[1]):
            raise ValueError("`change` must be (candidates, instruments)")
        self.change.sum_duplicates()

    @classmethod
    def of(cls, quantities: np.ndarray) -> QuantityBatch:
        """Each row of ``quantities`` (B, I) — or one book's (I,) — as a candidate, unchanged."""
        base = np.atleast_2d(np.asarray(quantities, dtype=np.float64))
        return cls(base, np.arange(len(base)), sparse.csr_array(base.shape))

    @property
    def count(self) -> int:
        return len(self.book_of)

    def dot(self, matrix: np.ndarray, part: Callable = net_contracts) -> np.ndarray:
        """Σᵢ part(qᶜᵢ) · matrix[i] for every candidate: shape (C, *matrix.shape[1:])."""
        matrix = np.asarray(matrix, dtype=np.float64)
        flat = matrix.reshape(len(matrix), int(np.prod(matrix.shape[1:])))  # 0 instruments too
        group = np.zeros(len(flat), np.int64)
        result = self.grouped_dot(flat, group, 1, part)[:, 0]
        return result.reshape((self.count, *np.shape(matrix)[1:]))

    def grouped_dot(
        self, matrix: np.ndarray, group: np.ndarray, count: int, part: Callable = net_contracts
    ) -> np.ndarray:
        """Σ over the instruments of each group of part(qᶜᵢ) · matrix[i]: (C, count, S).

        ``matrix`` is (I, S), ``group`` (I,) each instrument's group in ``range(count)`` (its
        underlying, settlement pair, expiry, ...); nothing of size I × count × S is formed.
        """
        matrix = np.asarray(matrix, dtype=np.float64)
        width = matrix.shape[1]
        held = part(self.base)
        rows, columns = np.nonzero(held)
        by_base = sparse.csr_array(
            (held[rows, columns], (rows * count + group[columns], columns)),
            shape=(len(self.base) * count, len(matrix)),
        )
        result = (by_base @ matrix).reshape(len(self.base), count, width)[self.book_of]
        coo = self.change.tocoo()
        if coo.nnz:
            before = self.base[self.book_of[coo.row], coo.col]
            moved = part(before + coo.data) - part(before)
            correction = sparse.csr_array(
                (moved, (coo.row * count + group[coo.col], coo.col)),
                shape=(self.count * count, len(matrix)),
            )
            result = result + (correction @ matrix).reshape(self.count, count, width)
        return result

    def instrument_sum(self, amount: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
        """Σᵢ amount(i, qᶜᵢ) for every candidate (C,), for an ``amount(instruments,
        quantities)`` of each instrument's net quantity alone with ``amount(i, 0) = 0``."""
        instruments = np.broadcast_to(np.arange(self.base.shape[1]), self.base.shape)
        result = amount(instruments.ravel(), self.base.ravel()).reshape(self.base.shape)
        result = result.sum(axis=1)[self.book_of]
        coo = self.change.tocoo()
        if coo.nnz:
            before = self.base[self.book_of[coo.row], coo.col]
            moved = amount(coo.col, before + coo.data) - amount(coo.col, before)
            result = result + np.bincount(coo.row, moved, minlength=self.count)
        return result

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
class OpenOrders:
    """The open orders inside each base book of a :class:`QuantityBatch`, contracts per
    instrument (B, I): every buy order (≥ 0) and every sell order (≤ 0)."""

    buys: np.ndarray
    sells: np.ndarray

    @classmethod
    def of(cls, book: Book, base_of_row: np.ndarray, bases: int) -> OpenOrders:
        """The orders of ``book``'s rows, each row in base ``base_of_row`` (−1: in none)."""
        shape = (bases, len(book.instruments))
        buys, sells = np.zeros(shape), np.zeros(shape)
        order = book.is_order & (base_of_row >= 0)
        for side, rows in (
            (buys, order & (book.quantity > 0)),
            (sells, order & (book.quantity < 0)),
        ):
            np.add.at(side, (base_of_row[rows], book.instrument[rows]), book.quantity[rows])
        return cls(buys, sells)

    @property
    def net(self) -> np.ndarray:
        return self.buys + self.sells

    def any(self) -> bool:
        return bool(self.buys.any() or self.sells.any())


@dataclass(frozen=True)
class BatchMargin:
    """Initial and maintenance margin of each candidate of a :class:`QuantityBatch`, USD (C,)."""

    initial: np.ndarray
    maintenance: np.ndarray


@dataclass(frozen=True)
class Allocation:
    """Each position row's contribution to a book's initial margin, USD (N,), and per underlying
    (or settlement currency) a sentence saying what was allocated (the worst scenario, ...)."""

    contribution: np.ndarray
    basis: dict[str, str] = field(default_factory=dict)


def candidate_margins(
    model: MarginModel, book: Book, batch: QuantityBatch, orders: OpenOrders | None = None
) -> BatchMargin:
    """Initial and maintenance margin (C,) of each candidate book of ``batch`` on ``book``'s
    instruments, priced once.

    ``orders`` are the open orders within each base book of ``batch``: as
    :func:`pmargin.portfolio_margin.requirement_with_orders` does, a candidate is margined with
    its orders filled or not filled, whichever margins higher (the not-filled side's figures
    are taken only where its initial margin is strictly higher). Models with ``batch_margin``
    (every bundled one) do all candidates in one vectorised pass; any other model is run once
    per candidate.
    """
    filled = _batch_margin(model, book, batch, orders)
    if orders is None or not orders.any():
        return filled
    unfilled = _batch_margin(model, book, batch.with_base(batch.base - orders.net), None)
    use = unfilled.initial > filled.initial
    return BatchMargin(
        np.where(use, unfilled.initial, filled.initial),
        np.where(use, unfilled.maintenance, filled.maintenance),
    )


def batch_margin(
    model: MarginModel, book: Book, batch: QuantityBatch, orders: OpenOrders | None = None
) -> BatchMargin:
    """Initial and maintenance margin (C,) of each candidate book of ``batch`` (with the open
    orders ``orders`` of its base book, filled) under a model that margins accounts: the
    candidates are accounts of one :class:`~pmargin.accounts.Holdings` that keeps the batch
    (products cost the base books and the changes), margined by ``model.requirements`` from
    what the model priced ``book``'s instruments with — the same code as ``compute``'s."""
    holdings = Holdings.of_batch(batch, book.instruments, book.market, orders)
    scenarios = model.scenario_pnl(book.instruments, book.market)
    margins = requirements_in_chunks(model, holdings, scenarios)
    return BatchMargin(margins.initial, margins.maintenance)


def _batch_margin(
    model: MarginModel, book: Book, batch: QuantityBatch, orders: OpenOrders | None
) -> BatchMargin:
    if hasattr(model, "requirements"):  # every bundled model: the candidates are accounts
        return batch_margin(model, book, batch, orders)
    batch_margin_of = getattr(model, "batch_margin", None)
    if batch_margin_of is not None:
        return batch_margin_of(book, batch, orders)
    # a model without a batch method: one requirement per candidate, each instrument's net
    # quantity (orders filled) on its first position row
    first_row = np.full(len(book.instruments), -1)
    first_row[book.instrument[::-1]] = np.arange(len(book.instrument))[::-1]
    held = first_row >= 0
    initial, maintenance = np.zeros(batch.count), np.zeros(batch.count)
    for c in range(batch.count):  # the slow path, for models that cannot batch
        net = batch.base[batch.book_of[c]] + batch.change[[c]].toarray()[0]
        rows = np.zeros(len(book.quantity))
        rows[first_row[held]] = net[held]
        requirement = model.requirement(
            replace(book, quantity=rows, is_order=np.zeros(len(rows), bool))
        )
        initial[c], maintenance[c] = requirement.initial, requirement.maintenance
    return BatchMargin(initial, maintenance)


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


def pro_rata(share: np.ndarray, total: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """``amount`` split by signed shares: share / total × amount, 0 where ``total`` is 0 (then
    the shares add up to 0 and so, by the caller's rule, does the amount)."""
    safe = np.where(total != 0, total, 1.0)
    return np.where(total != 0, share / safe * amount, 0.0)


def per_instrument_allocation(book: Book, amount: np.ndarray) -> np.ndarray:
    """Allocation of Σ over instruments of ``amount`` (I,), each instrument's margin on its net
    quantity: split over its position rows pro rata to their signed quantities (a row against
    its instrument's net position gets a negative share). Where the amount is linear in the
    net quantity on each side (q·long_unit, −q·short_unit) this is Euler's allocation."""
    net = book.net_quantity[book.instrument]
    return pro_rata(book.quantity, net, amount[book.instrument])
