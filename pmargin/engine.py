"""The valuation engine: distinct instruments × scenarios P&L in one numpy pass.

``instrument_pnl`` prices every distinct instrument once per scenario (Black-76 for options on the
shocked forward, vol and time; forwards and spot scaled by the spot shock) and returns the USD
P&L of one contract, shocked − base:

* linear contracts and spot: multiplier × (price' − price);
* inverse options: coin value V/S, coin P&L × S' (P&L = V' − V·S'/S);
* inverse futures and perpetuals of face N: coin P&L N·(1/F − 1/F'), × S'.

Positions, underlyings and accounts are aggregated from that matrix with quantities: a
position's P&L is ``quantity × pnl[instrument]``; the book's is ``net_quantity @ pnl``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .accounts import Accounts
from .book import Book, InstrumentTable
from .pricing.black76_hot import black76_valid
from .scenarios import VOL_FLOOR, Shocks


def shocked_vols(table: InstrumentTable, shocks: Shocks, rows: np.ndarray) -> np.ndarray:
    """Shocked vol of the instruments ``rows`` (options) under every scenario: (rows, S)."""
    u = table.underlying_index[rows]
    base = table.vol[rows][:, None]
    relative, absolute = shocks.vol[u], shocks.vol_shift[u]
    if shocks.vol_term is not None:
        scale = shocks.vol_term.scale(table.time[rows] * 365.0)[:, None]
        relative, absolute = relative * scale, absolute * scale
    vol = base * (1.0 + relative) + absolute
    if shocks.vol_term is not None and shocks.vol_term.floor > 0:
        upward = (relative > 0) | (absolute > 0)
        vol = np.where(upward, np.maximum(vol, shocks.vol_term.floor), vol)
    return np.maximum(vol, VOL_FLOOR)


def instrument_pnl(table: InstrumentTable, shocks: Shocks) -> np.ndarray:
    """USD P&L of one contract of each instrument under each scenario: shape (I, S).

    ``shocks.underlyings`` must list ``table.underlyings`` in the same order.
    """
    if tuple(shocks.underlyings) != tuple(table.underlyings):
        raise ValueError("shocks must be resolved for the table's underlyings")
    factor = 1.0 + shocks.spot[table.underlying_index]  # (I, S)
    price = table.forward[:, None] * factor  # futures, perpetuals and spot (forward = spot)
    base = table.forward.copy()
    options = np.flatnonzero(table.is_option)
    if len(options):
        same_days = shocks.count == 0 or np.all(shocks.days == shocks.days[0])
        days = shocks.days[:1] if same_days else shocks.days
        time = np.maximum(table.time[options, None] - days[None, :] / 365.0, 0.0)  # (o, S or 1)
        rate = table.rate[options, None]
        discount = np.exp(-rate * time) if rate.any() else 1.0
        price[options] = black76_valid(
            price[options],
            table.strike[options, None],
            time,
            shocked_vols(table, shocks, options),
            discount,
            table.is_call[options, None],
        )
        base[options] = table.option_prices()[options]
    pnl = table.multiplier[:, None] * (price - base[:, None])
    inverse = np.flatnonzero(table.is_inverse)
    if len(inverse):
        spot = table.spot[inverse, None] * factor[inverse]
        pnl[inverse] = _inverse_pnl(table, inverse, price[inverse], base[inverse], spot)
    return pnl


def instrument_pnl_chunks(
    table: InstrumentTable, shocks: Shocks, *, along: str, size: int
) -> Iterator[tuple[slice, np.ndarray]]:
    """:func:`instrument_pnl` in pieces that bound the memory of its temporaries.

    ``along="scenarios"`` yields ``(columns, pnl[:, columns])`` for ``size`` scenarios at a time
    (every instrument); ``along="instruments"`` yields ``(rows, pnl[rows])`` for ``size``
    instruments at a time (every scenario). The pieces tile the whole (I, S) matrix exactly.
    """
    size = max(int(size), 1)
    if along == "scenarios":
        count = shocks.count
        for start in range(0, max(count, 1), size):
            stop = min(start + size, count)
            yield slice(start, stop), instrument_pnl(table, shocks.columns(start, stop))
    elif along == "instruments":
        for start in range(0, len(table), size):
            rows = slice(start, min(start + size, len(table)))
            yield rows, instrument_pnl(table.rows(rows), shocks)
    else:
        raise ValueError(f"along must be 'scenarios' or 'instruments', not {along!r}")


def _inverse_pnl(table, rows, price, base, spot) -> np.ndarray:
    """Coin P&L converted at the scenario's spot, for the inverse instruments ``rows``.

    Options: V'/S' − V/S coin; futures and perpetuals: 1/F − 1/F' coin per USD of face. Each
    formula runs on its own rows only (an option worth 0 never meets a ``1/price``).
    """
    option = table.is_option[rows]
    coin_pnl = np.empty_like(price)
    coin_pnl[option] = (
        price[option] / spot[option] - (base[option] / table.spot[rows][option])[:, None]
    )
    future = ~option
    coin_pnl[future] = 1.0 / base[future][:, None] - 1.0 / price[future]
    return table.multiplier[rows, None] * coin_pnl * spot


@dataclass(frozen=True)
class Valuation:
    """A book valued under a set of scenarios.

    ``instrument_pnl`` is USD P&L per contract (I, S); the rest aggregate it with quantities.
    """

    book: Book
    shocks: Shocks
    instrument_pnl: np.ndarray

    @property
    def pnl(self) -> np.ndarray:
        """Book P&L per scenario (S,), USD."""
        return self.book.net_quantity @ self.instrument_pnl

    def by_underlying(self) -> np.ndarray:
        """P&L per underlying per scenario (U, S), rows in ``book.instruments.underlyings``."""
        return underlying_matrix(self.book) @ (
            self.book.net_quantity[:, None] * self.instrument_pnl
        )

    def by_position(self) -> np.ndarray:
        """P&L per position row per scenario (N, S)."""
        return self.book.quantity[:, None] * self.instrument_pnl[self.book.instrument]

    def by_account(self) -> tuple[list[str], np.ndarray]:
        """Account names and their P&L per scenario (A, S): one sparse (accounts × instruments)
        product with the (instruments × scenarios) P&L."""
        accounts = Accounts.of(self.book)
        return accounts.names.tolist(), accounts.holdings(self.book).net(self.instrument_pnl)


def underlying_matrix(book: Book) -> np.ndarray:
    """0/1 matrix (U, I): which underlying each instrument belongs to."""
    table = book.instruments
    matrix = np.zeros((len(table.underlyings), len(table)))
    matrix[table.underlying_index, np.arange(len(table))] = 1.0
    return matrix


def value(book: Book, shocks: Shocks) -> Valuation:
    """Value ``book`` under ``shocks`` (resolved for the book's underlyings)."""
    return Valuation(book, shocks, instrument_pnl(book.instruments, shocks))
