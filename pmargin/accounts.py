"""Accounts: who holds what, as one sparse (accounts × instruments) matrix of net contracts.

An exchange margins every account on its own; a book never offsets one account against another.
So everything a margin model needs from positions is the net quantity of each distinct instrument
in each account: :class:`Holdings`, a ``scipy.sparse`` CSR matrix of shape (A, I). An account's
P&L under the scenarios is one row of ``quantity @ pnl``, with ``pnl`` the engine's (I, S) P&L per
contract; its P&L per underlying is the same product with the columns of each underlying kept
apart (:meth:`Holdings.by_underlying`). Nothing loops over accounts or positions in Python.

The accounts of a book (:class:`Accounts`) are the ``account`` values of its positions and coin
collateral plus every account that states collateral, sorted; ``""`` is the account of positions
that name none (a file without an ``account`` column is one account).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from .book import Book, InstrumentTable
from .market import Market

#: accounts × underlyings × scenarios cells held at once by a margin model (16 MB of float64:
#: small enough that each chunk reuses the memory of the one before instead of faulting in
#: fresh pages, which cost more than the arithmetic on them)
CHUNK_CELLS = 2**21
#: the part of signed contracts that a product counts: all, the long ones, the short ones (> 0)
PARTS = {
    "net": lambda quantity: quantity,
    "long": lambda quantity: np.maximum(quantity, 0.0),
    "short": lambda quantity: np.maximum(-quantity, 0.0),
    "gross": np.abs,
}


@dataclass(frozen=True)
class Accounts:
    """The accounts of a book: ``names`` (A,) sorted, and the account of each position row."""

    names: np.ndarray
    position_account: np.ndarray

    @classmethod
    def of(cls, book: Book) -> Accounts:
        """Accounts of ``book``'s position rows, plus accounts that only state collateral."""
        codes, uniques = pd.factorize(book.positions["account"], sort=True)
        names = np.asarray(uniques, dtype=object)
        cash_only = sorted(set(book.portfolio.collateral) - set(names.tolist()))
        if cash_only:
            names = np.asarray(sorted([*names.tolist(), *cash_only]), dtype=object)
            codes = np.searchsorted(names, np.asarray(uniques, dtype=object))[codes]
        return cls(names=names, position_account=np.asarray(codes, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.names)

    def holdings(self, book: Book, *, include_orders: bool = True) -> Holdings:
        """Net contracts per account and instrument (open orders as filled, or left out)."""
        quantity = book.quantity if include_orders else np.where(book.is_order, 0.0, book.quantity)
        return Holdings.build(
            self.position_account,
            book.instrument,
            quantity,
            shape=(len(self), len(book.instruments)),
            instruments=book.instruments,
            market=book.market,
            is_order=book.is_order if include_orders else None,
        )

    def underlyings_present(self, book: Book) -> np.ndarray:
        """(A, U) bool: the account has a position row (or coin collateral) in the underlying.

        An account run alone reports figures for exactly these underlyings.
        """
        table = book.instruments
        present = np.zeros((len(self), len(table.underlyings)), bool)
        present[self.position_account, table.underlying_index[book.instrument]] = True
        return present

    def sum_positions(self, values: np.ndarray) -> np.ndarray:
        """Per-account sums (A,) of a per-position-row array (N,)."""
        return np.bincount(self.position_account, values, minlength=len(self)).astype(np.float64)


def _grouped(
    values: dict[str, np.ndarray],
    row: np.ndarray,
    column: np.ndarray,
    group: np.ndarray,
    count: int,
    rows: int,
) -> dict[str, np.ndarray]:
    """Per (row, group of column) sums (rows, count) of each array of ``values`` over cells."""
    key = row.astype(np.int64) * count + group[column]
    return {
        name: np.bincount(key, v, rows * count).astype(np.float64).reshape(rows, count)
        for name, v in values.items()
    }


@dataclass(frozen=True)
class Holdings:
    """Net contracts of each instrument in each of A accounts, with the instruments' market.

    ``quantity`` is a CSR matrix (A, I): + long, − short, open orders as filled unless the caller
    left them out. ``instruments`` and ``market`` are what the contracts are priced at.
    ``buy_orders`` and ``sell_orders`` (A, I), when the accounts have open orders, are the
    contracts of their buy orders (> 0) and sell orders (< 0) that ``quantity`` includes, for
    models that margin orders in their own way (deribit's open-orders margin).

    Holdings of candidate books (``pmargin whatif``: a book with each trade) also keep their
    :class:`~pmargin.margin.batch.QuantityBatch` (``batch``: a few base books plus sparse
    changes), whose products with a per-contract matrix cost the base books and the changes,
    not candidates × instruments: :meth:`net`, :meth:`by_underlying` and :meth:`at_scenario`
    use it (a Monte Carlo model's 20,000 scenarios × a large book per candidate would not fit).
    """

    quantity: sparse.csr_array
    instruments: InstrumentTable
    market: Market
    buy_orders: sparse.csr_array | None = None
    sell_orders: sparse.csr_array | None = None
    batch: Any = None  # a pmargin.margin.batch.QuantityBatch (margin/ builds on this module)

    @classmethod
    def build(
        cls,
        account: np.ndarray,
        instrument: np.ndarray,
        quantity: np.ndarray,
        *,
        shape: tuple[int, int],
        instruments: InstrumentTable,
        market: Market,
        is_order: np.ndarray | None = None,
    ) -> Holdings:
        """Sum position rows (account code, instrument code, contracts) into a CSR matrix;
        rows flagged ``is_order`` also go into the buy and sell orders."""

        def matrix(rows=slice(None)) -> sparse.csr_array:
            summed = sparse.coo_array(
                (quantity[rows], (account[rows], instrument[rows])), shape=shape
            ).tocsr()
            summed.sum_duplicates()
            return summed

        if is_order is None or not is_order.any():
            return cls(matrix(), instruments, market)
        buys, sells = is_order & (quantity > 0), is_order & (quantity < 0)
        return cls(matrix(), instruments, market, matrix(buys), matrix(sells))

    @classmethod
    def whole(cls, book: Book) -> Holdings:
        """The whole book as one account (what a single-book requirement margins)."""
        return cls.build(
            np.zeros(len(book.quantity), np.int64),
            book.instrument,
            book.quantity,
            shape=(1, len(book.instruments)),
            instruments=book.instruments,
            market=book.market,
            is_order=book.is_order,
        )

    @classmethod
    def of_batch(
        cls,
        batch: Any,
        instruments: InstrumentTable,
        market: Market,
        orders: Any = None,
    ) -> Holdings:
        """The candidate books of ``batch`` (a :class:`~pmargin.margin.batch.QuantityBatch`) as
        accounts, one row each, with the open orders ``orders`` of their base books (an
        :class:`~pmargin.margin.batch.OpenOrders`; inside their quantities, as filled)."""
        base = sparse.csr_array(batch.base)
        quantity = (base[batch.book_of] + batch.change).tocsr()
        if orders is None or not orders.any():
            return cls(quantity, instruments, market, batch=batch)
        buys = sparse.csr_array(orders.buys)[batch.book_of]
        sells = sparse.csr_array(orders.sells)[batch.book_of]
        return cls(quantity, instruments, market, buys, sells, batch)

    def __len__(self) -> int:
        return self.quantity.shape[0]

    def rows(self, accounts: slice | np.ndarray) -> Holdings:
        """The holdings of accounts ``accounts`` (a slice or index array of this one's rows)."""

        def taken(matrix):
            return None if matrix is None else matrix[accounts]

        return Holdings(
            self.quantity[accounts],
            self.instruments,
            self.market,
            taken(self.buy_orders),
            taken(self.sell_orders),
            None if self.batch is None else self.batch.take(accounts),
        )

    @property
    def has_orders(self) -> bool:
        return self.buy_orders is not None

    @functools.cached_property
    def held(self) -> sparse.csr_array:
        """Contracts held (A, I), open orders left out."""
        if not self.has_orders:
            return self.quantity
        return self.quantity - self.buy_orders - self.sell_orders

    def chunks(self, cells: int) -> list[slice]:
        """Slices of accounts whose dense arrays, ``cells`` per account (e.g. its P&L per
        underlying and scenario), fit CHUNK_CELLS."""
        size = max(CHUNK_CELLS // max(cells, 1), 1)
        return [slice(start, min(start + size, len(self))) for start in range(0, len(self), size)]

    def net(self, per_contract: np.ndarray) -> np.ndarray:
        """``quantity @ per_contract``: (A,) for an (I,) array, (A, S) for (I, S)."""
        if self.batch is not None:
            return self._batch_dot(per_contract, np.zeros(len(self.instruments), np.int64), 1)[:, 0]
        return np.asarray(self.quantity @ per_contract)

    def grouped(
        self, per_contract: np.ndarray, group: np.ndarray, count: int, part: str = "net"
    ) -> np.ndarray:
        """Sums per account and group of instruments (``group[i]`` in ``range(count)``: an
        expiry, a strike, ...) of ``part`` of its contracts × ``per_contract``: (A, count) for
        an (I,) array, (A, count, S) for (I, S). ``part`` as :meth:`by_underlying` takes it."""
        if self.batch is not None:
            return self._batch_dot(per_contract, group, count, part)
        result = np.asarray(self._expand(part, group, count) @ per_contract)
        return result.reshape(len(self), count, *result.shape[1:])

    def by_underlying(self, per_contract: np.ndarray, part: str = "net") -> np.ndarray:
        """Sums per account and underlying: (A, U) for an (I,) array, (A, U, S) for (I, S).

        ``part`` is ``net`` (signed contracts), ``long`` or ``short`` (contracts > 0 of each
        side) or ``gross`` (|contracts|).
        """
        table = self.instruments
        if self.batch is not None:
            return self._batch_dot(
                per_contract, table.underlying_index, len(table.underlyings), part
            )
        expanded = self._expanded(part)
        result = np.asarray(expanded @ per_contract)
        return result.reshape(len(self), len(table.underlyings), *result.shape[1:])

    def at_scenario(self, per_contract: np.ndarray, scenario: np.ndarray) -> np.ndarray:
        """Each account's P&L (A,) in its own scenario ``scenario[a]``, from (I, S) per contract."""
        if self.batch is not None:  # the base books' P&L in every scenario, then the changes
            batch = self.batch
            base_pnl = np.asarray(sparse.csr_array(batch.base) @ per_contract)  # (B, S)
            values = base_pnl[batch.book_of, scenario]
            change = batch.change.tocoo()
            moved = change.data * per_contract[change.col, scenario[change.row]]
            return values + np.bincount(change.row, moved, minlength=len(self))
        coo = self.quantity.tocoo()
        values = coo.data * per_contract[coo.col, scenario[coo.row]]
        return np.bincount(coo.row, values, minlength=len(self)).astype(np.float64)

    def cell_sums(
        self,
        amounts: Callable[[np.ndarray, np.ndarray], dict[str, np.ndarray]],
        group: np.ndarray,
        count: int,
    ) -> dict[str, np.ndarray]:
        """Σ over each account's held instruments i, per group ``group[i]`` (of ``count``), of
        ``amounts(i, q)`` — a dict of arrays over (instrument, net contracts) cells, for a
        margin that is a formula of each instrument's net quantity (``amounts(i, 0)`` = 0):
        ``{name: (A, count)}``. The formula runs once per nonzero cell; for candidate books, once
        per cell of their base books and twice per change."""
        if self.batch is None:
            cells = self.quantity.tocoo()
            return _grouped(
                amounts(cells.col, cells.data), cells.row, cells.col, group, count, len(self)
            )
        batch = self.batch
        rows, columns = np.nonzero(batch.base)
        sums = _grouped(
            amounts(columns, batch.base[rows, columns]),
            rows,
            columns,
            group,
            count,
            len(batch.base),
        )
        sums = {name: values[batch.book_of] for name, values in sums.items()}
        change = batch.change.tocoo()
        before = batch.base[batch.book_of[change.row], change.col]
        after, was = amounts(change.col, before + change.data), amounts(change.col, before)
        moved = {name: after[name] - was[name] for name in after}
        for name, values in _grouped(
            moved, change.row, change.col, group, count, len(self)
        ).items():
            sums[name] = sums[name] + values
        return sums

    def _batch_dot(
        self, per_contract: np.ndarray, group: np.ndarray, count: int, part: str = "net"
    ) -> np.ndarray:
        """(A, count, …) sums per group of part(contracts) × ``per_contract`` from the batch."""
        matrix = np.asarray(per_contract, dtype=np.float64)
        flat = matrix.reshape(len(matrix), int(np.prod(matrix.shape[1:])))  # 0 instruments too
        result = self.batch.grouped_dot(flat, group, count, PARTS[part])
        return result.reshape(len(self), count, *matrix.shape[1:])

    def _expanded(self, part: str) -> sparse.csr_array:
        """(A·U, I): row a·U + u holds account a's contracts of underlying u's instruments."""
        if part not in self._expanded_parts:
            table = self.instruments
            self._expanded_parts[part] = self._expand(
                part, table.underlying_index, len(table.underlyings)
            )
        return self._expanded_parts[part]

    @functools.cached_property
    def _expanded_parts(self) -> dict[str, sparse.csr_array]:
        return {}

    def _expand(self, part: str, group: np.ndarray, count: int) -> sparse.csr_array:
        """(A·count, I): row a·count + g holds ``part`` of account a's contracts of the
        instruments of group g."""
        source = self.quantity.tocoo()
        rows = source.row.astype(np.int64) * count + group[source.col]
        return sparse.csr_array(
            (PARTS[part](source.data), (rows, source.col)),
            shape=(len(self) * count, source.shape[1]),
        )
