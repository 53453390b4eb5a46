"""Greeks: per contract of each distinct instrument (:func:`unit_greeks`), and net per
underlying and per expiry for a book (:func:`portfolio_greeks`).

Per-contract greeks (:func:`unit_greeks`) are sensitivities of the position's USD value as the
engine measures P&L (SPEC §2), so they agree with finite differences of
:func:`pmargin.engine.instrument_pnl`: delta in coins (inverse options carry the premium's own
exposure, Black delta − V/S; an inverse future of face N has delta N/F), gamma in coins per USD,
vega in USD per 1.00 of vol, theta in USD per calendar day (< 0 for long options).

Units, all sensitivities of USD value at the base market (SPEC §1-2):

=============  ================================================================================
``delta``      coins: dV/dS, summed over positions (coin collateral counts: 1 BTC = delta 1)
``delta_usd``  USD: delta × spot, the USD value of the coin exposure
``gamma``      coins per USD: d(delta)/dS
``gamma_usd``  USD: gamma × spot² / 100, the change of ``delta_usd`` for a 1% spot move
``vega``       USD per 1.00 of vol (per 100 vol points)
``theta``      USD per calendar day
=============  ================================================================================

Open orders are not positions yet and are left out unless ``include_orders`` (margin and
``pmargin check`` treat them as filled; see :mod:`pmargin.limits`). Undated instruments (spot,
perpetuals, coin collateral) form the expiry group NaT.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from .book import Book, InstrumentTable, bind
from .market import Market
from .portfolio import Portfolio
from .pricing.black76 import black76_greeks

GREEKS = ("delta", "delta_usd", "gamma", "gamma_usd", "vega", "theta")
#: greeks in USD, which may be added across underlyings
USD_GREEKS = ("delta_usd", "gamma_usd", "vega", "theta")


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
            table.rate[o],
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


@dataclass(frozen=True)
class GreeksResult:
    """Net greeks of a book (or one account of it).

    ``by_expiry`` has columns ``underlying``, ``expiry`` (datetime64, NaT when undated) and
    :data:`GREEKS`; ``by_underlying`` has ``underlying``, ``spot`` and :data:`GREEKS`, one row for
    every underlying of the book (zeros where the account holds none).
    """

    as_of: datetime
    by_expiry: pd.DataFrame
    by_underlying: pd.DataFrame
    open_orders: int
    include_orders: bool
    account: str | None = None

    def underlying(self, name: str) -> dict[str, float]:
        """Greeks of one underlying (zeros if the book has none of it)."""
        rows = self.by_underlying[self.by_underlying["underlying"] == name]
        if rows.empty:
            return dict.fromkeys(GREEKS, 0.0)
        return {g: float(rows[g].iloc[0]) for g in GREEKS}

    def total(self) -> dict[str, float]:
        """Net sums over underlyings of the USD greeks (coins of different kinds do not add)."""
        return {g: float(self.by_underlying[g].sum()) for g in USD_GREEKS}

    def gross(self, greek: str) -> float:
        """Σ over underlyings of |net greek| (a USD greek): no offset between underlyings."""
        if greek not in USD_GREEKS:
            raise ValueError(f"{greek} is not in USD; gross sums need one of {USD_GREEKS}")
        return float(self.by_underlying[greek].abs().sum())


def position_greeks(book: Book, *, include_orders: bool = False) -> pd.DataFrame:
    """Greeks of every position row of ``book`` (positions, coin collateral and, with
    ``include_orders``, open orders; orders get zeros otherwise)."""
    table, codes = book.instruments, book.instrument
    unit = unit_greeks(table)
    quantity = book.quantity if include_orders else np.where(book.is_order, 0.0, book.quantity)
    spot = table.spot[codes]
    delta = quantity * unit.delta[codes]
    gamma = quantity * unit.gamma[codes]
    return pd.DataFrame(
        {
            "account": book.positions["account"].to_numpy(str),
            "underlying": np.asarray(table.underlyings)[table.underlying_index[codes]],
            "expiry": book.positions["expiry"].to_numpy("datetime64[s]"),
            "delta": delta,
            "delta_usd": delta * spot,
            "gamma": gamma,
            "gamma_usd": gamma * spot**2 / 100.0,
            "vega": quantity * unit.vega[codes],
            "theta": quantity * unit.theta[codes],
        }
    )


def book_greeks(
    book: Book, *, account: str | None = None, include_orders: bool = False
) -> GreeksResult:
    """Net greeks of ``book``, or of the positions and collateral of one ``account``."""
    rows = position_greeks(book, include_orders=include_orders)
    if account is not None:
        rows = rows[rows["account"] == account]
    by_expiry = (
        rows.groupby(["underlying", "expiry"], dropna=False, sort=True)[list(GREEKS)]
        .sum()
        .reset_index()
    )
    table = book.instruments
    spots = pd.DataFrame(
        {
            "underlying": list(table.underlyings),
            "spot": [book.market.spot(u) for u in table.underlyings],
        }
    )
    sums = rows.groupby("underlying", sort=True)[list(GREEKS)].sum()
    by_underlying = spots.join(sums, on="underlying").fillna(dict.fromkeys(GREEKS, 0.0))
    in_scope = (
        book.is_order
        if account is None
        else book.is_order & (book.positions["account"].to_numpy(str) == account)
    )
    return GreeksResult(
        as_of=book.market.as_of,
        by_expiry=by_expiry,
        by_underlying=by_underlying.reset_index(drop=True),
        open_orders=int(in_scope.sum()),
        include_orders=include_orders,
        account=account,
    )


def portfolio_greeks(
    portfolio: Portfolio, market: Market, *, include_orders: bool = False
) -> GreeksResult:
    """Net greeks of ``portfolio`` at ``market``, per underlying and expiry."""
    return book_greeks(bind(portfolio, market), include_orders=include_orders)
