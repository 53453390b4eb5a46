"""Base-market risk of a bound book: per-contract greeks and USD mark values.

Greeks are sensitivities of the position's USD value as the engine measures P&L (SPEC §2), so
they agree with finite differences of :func:`pmargin.engine.instrument_pnl`:

=========  ==================================================================================
delta      coins: d(USD value)/dS. Inverse options carry the premium's own exposure
           (Black delta − V/S); an inverse future of face N has delta N/F
gamma      coins per USD: d(delta)/dS
vega       USD per 1.00 of vol (per 100 vol points)
theta      USD per calendar day, as the valuation date moves one day forward (<0 for long options)
=========  ==================================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .book import Book, InstrumentTable, mark_in_usd
from .pricing.black76 import black76_greeks


@dataclass(frozen=True)
class UnitGreeks:
    """Greeks of one contract of each distinct instrument (arrays of length I)."""

    delta: np.ndarray
    gamma: np.ndarray
    vega: np.ndarray
    theta: np.ndarray


def unit_greeks(table: InstrumentTable) -> UnitGreeks:
    n = len(table)
    forward_per_spot = table.forward / table.spot
    delta = np.where(table.kind == "spot", 1.0, forward_per_spot) * table.multiplier
    gamma, vega, theta = np.zeros(n), np.zeros(n), np.zeros(n)
    inverse_future = table.is_inverse & ~table.is_option
    delta[inverse_future] = table.multiplier[inverse_future] / table.forward[inverse_future]
    o = table.is_option
    if o.any():
        g = black76_greeks(
            table.forward[o],
            table.strike[o],
            table.time[o],
            table.vol[o],
            table.rate,
            table.is_call[o],
        )
        m = table.multiplier[o]
        delta[o] = m * g.delta * forward_per_spot[o]
        gamma[o] = m * g.gamma * forward_per_spot[o] ** 2
        vega[o] = m * g.vega
        theta[o] = m * g.theta / 365.0
        inverse = table.is_inverse[o]
        premium = table.option_prices()[o] / table.spot[o]
        delta[o] -= np.where(inverse, m * premium, 0.0)
    return UnitGreeks(delta, gamma, vega, theta)


def position_values(book: Book) -> np.ndarray:
    """USD mark value of each position row (SPEC §4 ``value``).

    Options and spot: quantity × multiplier × price (``mark_price`` when given, else the model
    price or spot). Futures and perpetuals are settled P&L-only: their value is the unrealised
    P&L against ``entry_price`` (0 without one). Open orders are not filled yet: value 0.
    """
    table, codes = book.instruments, book.instrument
    positions = book.positions
    mark = mark_in_usd(table, codes, positions["mark_price"].to_numpy(np.float64))
    model = np.where(table.is_option, table.option_prices(), table.forward)[codes]
    price = np.where(np.isfinite(mark), mark, model)
    quantity, multiplier = book.quantity, table.multiplier[codes]
    linear_value = quantity * multiplier * price
    entry = positions["entry_price"].to_numpy(np.float64)
    has_entry = np.isfinite(entry)
    safe_entry = np.where(has_entry, entry, 1.0)
    linear_unrealised = quantity * multiplier * (price - safe_entry)
    inverse_unrealised = (
        quantity * multiplier * (1.0 / safe_entry - 1.0 / price) * table.spot[codes]
    )
    futures_value = np.where(table.is_inverse[codes], inverse_unrealised, linear_unrealised)
    is_future = (table.kind != "spot")[codes] & ~table.is_option[codes]
    values = np.where(is_future, np.where(has_entry, futures_value, 0.0), linear_value)
    return np.where(book.is_order, 0.0, values)


def equity(book: Book, values: np.ndarray, account: str | None = None) -> float | None:
    """Cash + coin collateral at spot + position values, USD; None with no collateral stated."""
    if not book.portfolio.has_collateral:
        return None
    mask = np.ones(len(values), bool)
    if account is not None:
        if account not in book.portfolio.collateral:
            return None
        mask = book.positions["account"].to_numpy(str) == account
    cash = book.cash_usd.get(account, 0.0) if account is not None else sum(book.cash_usd.values())
    return float(cash + values[mask].sum())
