"""One account made ready for liquidation: what it holds, what a trade costs, what margin it needs.

An :class:`AccountBook` is built once per account from the account's bound :class:`Book`. Its
instruments are the book's (one entry each); a state of the account is a :class:`Holdings`:
contracts per instrument, coin collateral per spot instrument and USD cash. Trades settle in USD
at the instrument's mark (the price equity values it at: ``mark_price`` where the file gives one,
else the engine's base value) and pay a liquidation fee, so a trade moves equity by its fee
alone. Unrealised futures P&L is settled into cash when the account is taken over, so futures
carry no value afterwards; cash may turn negative (a debit, as a cross-collateral account's
balance in one currency may).

Margin of any state is the model's own requirement of a book holding exactly those contracts: the
model prices its scenarios on the account's instruments once (kept in the table's memo) and each
later state is a product of quantities with that (instruments × scenarios) matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from .book import Book, mark_in_usd
from .engine import instrument_pnl, underlying_matrix
from .margin import MarginModel, Requirement
from .margin.base import cached_pnl
from .margin.liquidation_parameters import LiquidationParameters
from .portfolio_margin import position_values
from .scenarios import grid_set

#: models without scenarios (standard): the worst loss is taken over these spot moves
FALLBACK_SPOT_MOVES = tuple(np.linspace(-0.16, 0.16, 9).round(12))
#: quantities smaller than this (in contracts, relative to the position) count as closed
CLOSED = 1e-9


@dataclass(frozen=True)
class Holdings:
    """A state of the account: ``quantity`` (positions) and ``collateral`` (coins, on spot
    instruments) in contracts per instrument, and ``cash`` in USD (< 0 is a debit)."""

    quantity: np.ndarray
    collateral: np.ndarray
    cash: float

    @property
    def total(self) -> np.ndarray:
        """Contracts the margin model sees: positions and coin collateral."""
        return self.quantity + self.collateral


class AccountBook:
    """The instruments of one bound account with their marks, fees, lots and scenario P&L.

    ``book`` holds one account's positions, orders and collateral (see :func:`pmargin.book.bind`).
    Per instrument (arrays of the table's length): ``price`` (USD per coin, the mark trades happen
    at), ``unit_value`` (USD per contract that equity counts; 0 for futures and perpetuals),
    ``fee_kind`` and ``lot`` (contracts per risk-reducing step).
    """

    def __init__(self, book: Book, model: MarginModel, parameters: LiquidationParameters):
        self.book = book
        self.model = model
        self.parameters = parameters
        table = book.instruments
        codes = book.instrument
        size = len(table)
        position = ~book.is_order & ~book.is_collateral
        self.is_future = (table.kind == "future") | (table.kind == "perpetual")
        self.is_spot = table.kind == "spot"
        self.underlying = np.asarray(table.underlyings)[table.underlying_index]
        # one row per instrument, positions first: its id, fields and raw mark describe it
        order = np.lexsort((np.arange(len(codes)), ~position))
        self.first_row = np.zeros(size, np.int64)
        self.first_row[codes[order[::-1]]] = order[::-1]
        mark = mark_in_usd(table, codes, book.positions["mark_price"].to_numpy(np.float64))
        first_mark = mark[self.first_row]
        base = np.where(table.is_option, table.option_prices(), table.forward)
        self.price = np.where(np.isfinite(first_mark), first_mark, base)
        self.unit_value = np.where(self.is_future, 0.0, table.multiplier * self.price)
        self.notional = np.where(
            table.is_option | self.is_spot,
            table.multiplier * table.spot,
            np.where(table.is_inverse, table.multiplier, table.multiplier * table.forward),
        )
        self.fee_kind = np.where(
            table.is_option, "option", np.where(self.is_spot, "spot", "future")
        )
        self.fee_rate = np.array(
            [parameters.fee_rate(k, u) for k, u in zip(self.fee_kind, self.underlying)]
        )  # one entry per distinct instrument
        inverse_future = table.is_inverse & ~table.is_option
        coins = np.where(inverse_future, table.multiplier / table.forward, table.multiplier)
        lot_coins = np.array([parameters.lot(u, s) for u, s in zip(self.underlying, table.spot)])
        lot = lot_coins / coins
        self.lot = np.where(lot >= 1.0, np.round(lot), lot)  # whole contracts where it can be
        quantity = np.bincount(codes, np.where(position, book.quantity, 0.0), minlength=size)
        collateral = np.bincount(
            codes, np.where(book.is_collateral, book.quantity, 0.0), minlength=size
        )
        valued = position_values(book)
        cash = sum(book.cash_usd.values()) + float(valued.sum())
        cash -= float((quantity + collateral) @ self.unit_value)
        self.start = Holdings(quantity, collateral, cash)
        self._one_row_each = replace(
            book,
            positions=book.positions.iloc[self.first_row].reset_index(drop=True),
            instrument=np.arange(size),
            quantity=np.zeros(size),
            is_order=np.zeros(size, bool),
            is_collateral=np.zeros(size, bool),
        )

    @property
    def symbols(self) -> np.ndarray:
        return self.book.instruments.symbols

    def equity(self, holdings: Holdings) -> float:
        """Cash + coin collateral at spot + option and spot values, USD."""
        return float(holdings.cash + holdings.total @ self.unit_value)

    def requirement(self, total: np.ndarray) -> Requirement:
        """The model's margin of a book holding ``total`` contracts of each instrument."""
        return self.model.requirement(replace(self._one_row_each, quantity=total))

    def fees(self, instrument: np.ndarray, trade: np.ndarray) -> np.ndarray:
        """Liquidation fee (USD, ≥ 0) of trading ``trade`` contracts of each ``instrument``: the
        rate × traded notional, an option's capped at ``option_fee_cap`` × its value."""
        size = np.abs(trade)
        fee = self.fee_rate[instrument] * size * self.notional[instrument]
        cap = self.parameters.option_fee_cap * size * np.abs(self.unit_value[instrument])
        option = self.book.instruments.is_option[instrument]
        return np.where(option, np.minimum(fee, cap), fee)

    def trade(
        self,
        holdings: Holdings,
        instrument: int,
        quantity: float,
        fee: float,
        *,
        collateral: bool = False,
    ) -> Holdings:
        """``holdings`` after buying ``quantity`` (signed; < 0 sells) of an instrument's position
        — or, with ``collateral``, of its coin balance — at its mark, the ``fee`` paid."""
        held = holdings.collateral if collateral else holdings.quantity
        contracts = held.copy()
        contracts[instrument] += quantity
        if abs(contracts[instrument]) <= CLOSED * max(abs(held[instrument]), 1.0):
            contracts[instrument] = 0.0
        cash = holdings.cash - quantity * self.unit_value[instrument] - fee
        if collateral:
            return Holdings(holdings.quantity, contracts, cash)
        return Holdings(contracts, holdings.collateral, cash)

    @cached_property
    def counted_pnl(self) -> np.ndarray:
        """Counted (weighted) P&L per contract in the model's scenarios, (I, S) USD.

        Models without scenarios are measured over :data:`FALLBACK_SPOT_MOVES`.
        """
        table = self.book.instruments
        self.requirement(self.start.total)  # scenario models keep their P&L in the table's memo
        kept = cached_pnl(self.model, table)
        if kept is not None:
            shocks, pnl = kept
            return pnl * shocks.weight
        moves = grid_set("liquidation check", list(FALLBACK_SPOT_MOVES), [0.0])
        return instrument_pnl(table, moves.shocks(table.underlyings))

    @cached_property
    def by_underlying(self) -> np.ndarray:
        """0/1 matrix (U, I): which underlying each instrument belongs to."""
        return underlying_matrix(self.book)

    def worst_loss(self, total: np.ndarray) -> float:
        """Largest counted loss of the account over the scenarios (≥ 0), USD."""
        return float(max(-(total @ self.counted_pnl).min(initial=0.0), 0.0))
