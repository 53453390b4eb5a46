"""``compute_margin``: a portfolio's margin under one model, next to its isolated margin.

The result holds everything ``pmargin compute`` shows: portfolio (initial) and maintenance
margin, isolated margin (the same model on each position alone, summed), the offset from netting,
the worst scenario, equity, excess and status, per-position values, greeks and isolated margins,
and optionally the same per account.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .book import Book, bind, mark_in_usd
from .greeks import unit_greeks
from .liquidation_price import LiquidationPrice, search_liquidation_prices
from .margin import MarginModel, Requirement
from .margin.batch import OpenOrders, QuantityBatch, candidate_margins
from .market import Market
from .portfolio import Portfolio

STATUS_OK, STATUS_MARGIN_CALL, STATUS_LIQUIDATION = "ok", "margin_call", "liquidation"
#: position columns that hold money (converted by ``--currency``); delta and gamma stay in coins
MONEY_COLUMNS = ("value", "isolated_margin", "vega", "theta")


@dataclass
class MarginResult:
    """Margin of a portfolio (or one account) under one model; money in USD."""

    model: str
    portfolio_margin: float
    maintenance_margin: float
    isolated_margin: float
    worst_scenario: dict[str, Any] | None
    equity: float | None
    components: dict[str, float]
    by_underlying: dict[str, float]
    positions: pd.DataFrame
    accounts: list[MarginResult] | None = None
    account: str | None = None
    models: dict[str, MarginResult] = field(default_factory=dict)
    currency: str = "USD"
    #: per underlying, for one account with collateral (see :func:`liquidation_prices`)
    liquidation_prices: dict[str, LiquidationPrice] | None = None

    @property
    def offset(self) -> float:
        """Isolated − portfolio margin: what netting saves (≥ 0 for the built-in models)."""
        return self.isolated_margin - self.portfolio_margin

    @property
    def savings(self) -> float | None:
        """Offset as a fraction of isolated margin, or None when isolated margin is 0."""
        return self.offset / self.isolated_margin if self.isolated_margin > 0 else None

    def in_currency(self, currency: str, usd_per_unit: float) -> MarginResult:
        """The same result with every money figure in ``currency`` (USD / ``usd_per_unit``).

        Deltas stay in coins of each underlying and gamma in coins per USD; the status is
        unchanged, since margin and equity convert alike.
        """
        if not usd_per_unit > 0:
            raise ValueError("`usd_per_unit` must be > 0")

        def convert(value):
            return None if value is None else value / usd_per_unit

        positions = self.positions.copy()
        for column in MONEY_COLUMNS:
            positions[column] = positions[column] / usd_per_unit
        worst = (
            None
            if self.worst_scenario is None
            else {**self.worst_scenario, "pnl": self.worst_scenario["pnl"] / usd_per_unit}
        )
        return replace(
            self,
            portfolio_margin=self.portfolio_margin / usd_per_unit,
            maintenance_margin=self.maintenance_margin / usd_per_unit,
            isolated_margin=self.isolated_margin / usd_per_unit,
            worst_scenario=worst,
            equity=convert(self.equity),
            components={k: v / usd_per_unit for k, v in self.components.items()},
            by_underlying={k: v / usd_per_unit for k, v in self.by_underlying.items()},
            positions=positions,
            accounts=None
            if self.accounts is None
            else [a.in_currency(currency, usd_per_unit) for a in self.accounts],
            models={k: m.in_currency(currency, usd_per_unit) for k, m in self.models.items()},
            currency=currency,
        )

    @property
    def excess(self) -> float | None:
        return None if self.equity is None else self.equity - self.portfolio_margin

    @property
    def status(self) -> str | None:
        return margin_status(self.equity, self.portfolio_margin, self.maintenance_margin)


def margin_status(equity: float | None, initial: float, maintenance: float) -> str | None:
    """``liquidation`` below maintenance margin, ``margin_call`` below initial, else ``ok``;
    None when equity is unknown (no collateral stated)."""
    if equity is None:
        return None
    if equity < maintenance:
        return STATUS_LIQUIDATION
    if equity < initial:
        return STATUS_MARGIN_CALL
    return STATUS_OK


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
    values = quantity * multiplier * price  # options and spot
    entry = positions["entry_price"].to_numpy(np.float64)
    is_future = (table.kind != "spot")[codes] & ~table.is_option[codes]
    values[is_future] = 0.0  # P&L-only: nothing unrealised without an entry price
    linear = is_future & ~table.is_inverse[codes] & np.isfinite(entry)
    values[linear] = (quantity * multiplier * (price - entry))[linear]
    inverse = is_future & table.is_inverse[codes] & np.isfinite(entry)
    spot = table.spot[codes]
    values[inverse] = (
        quantity[inverse]
        * multiplier[inverse]
        * (1.0 / entry[inverse] - 1.0 / price[inverse])
        * spot[inverse]
    )
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


def _without_orders(book: Book) -> Book:
    return replace(book, quantity=np.where(book.is_order, 0.0, book.quantity))


def margined_book(model: MarginModel, book: Book) -> tuple[Book, Requirement]:
    """The book whose margin counts, and its requirement: open orders are margined as if filled,
    the worse of filled and not filled (SPEC §3). Isolated margin counts the orders as filled."""
    filled = model.requirement(book)
    if not book.is_order.any():
        return book, filled
    unfilled_book = _without_orders(book)
    unfilled = model.requirement(unfilled_book)
    if unfilled.initial > filled.initial:
        return unfilled_book, replace(unfilled, position_initial=filled.position_initial)
    return book, filled


def requirement_with_orders(model: MarginModel, book: Book) -> Requirement:
    """Open orders are margined as if filled, the worse of filled and not filled (SPEC §3)."""
    return margined_book(model, book)[1]


def _position_table(book: Book, isolated: np.ndarray) -> pd.DataFrame:
    greeks = unit_greeks(book.instruments)
    codes, q = book.instrument, book.quantity
    positions = book.positions
    return pd.DataFrame(
        {
            "id": positions["id"].to_numpy(),
            "account": positions["account"].to_numpy(),
            "instrument": positions["instrument"].to_numpy(),
            "underlying": positions["underlying"].to_numpy(),
            "quantity": q,
            "value": position_values(book),
            "isolated_margin": isolated,
            "delta": q * greeks.delta[codes],
            "gamma": q * greeks.gamma[codes],
            "vega": q * greeks.vega[codes],
            "theta": q * greeks.theta[codes],
            "is_order": book.is_order,
            "is_collateral": book.is_collateral,
        }
    )


def margin_for_book(book: Book, model: MarginModel, *, by_account: bool = False) -> MarginResult:
    """Margin of a bound book under ``model``."""
    requirement = requirement_with_orders(model, book)
    table = _position_table(book, requirement.position_initial)
    result = MarginResult(
        model=model.name,
        portfolio_margin=requirement.initial,
        maintenance_margin=requirement.maintenance,
        isolated_margin=float(requirement.position_initial.sum()),
        worst_scenario=requirement.worst_scenario,
        equity=equity(book, table["value"].to_numpy()),
        components=requirement.components,
        by_underlying=requirement.by_underlying,
        positions=table,
    )
    if by_account:
        result.accounts = []
        accounts = book.positions["account"].to_numpy(str)
        for account in sorted(set(accounts) | set(book.portfolio.collateral)):
            mask = accounts == account
            sub = replace(book, quantity=np.where(mask, book.quantity, 0.0))
            sub_requirement = requirement_with_orders(model, sub)
            result.accounts.append(
                MarginResult(
                    model=model.name,
                    portfolio_margin=sub_requirement.initial,
                    maintenance_margin=sub_requirement.maintenance,
                    isolated_margin=float(sub_requirement.position_initial[mask].sum()),
                    worst_scenario=sub_requirement.worst_scenario,
                    equity=equity(book, table["value"].to_numpy(), account),
                    components=sub_requirement.components,
                    by_underlying=sub_requirement.by_underlying,
                    positions=table[mask].reset_index(drop=True),
                    account=account,
                )
            )
    return result


def compute_margin(
    portfolio: Portfolio,
    market: Market,
    model: MarginModel,
    *,
    by_account: bool = False,
    compare: list[MarginModel] | None = None,
    with_liquidation_prices: bool = False,
) -> MarginResult:
    """Portfolio margin of ``portfolio`` under ``model``.

    ``compare`` lists further models whose results go in ``result.models`` (with the main one).
    ``with_liquidation_prices`` adds :func:`liquidation_prices` for a portfolio of one account
    with collateral (and, with ``by_account``, for each account with collateral): some hundred
    runs of the model, so they are asked for.
    """
    book = bind(portfolio, market)
    result = margin_for_book(book, model, by_account=by_account)
    if with_liquidation_prices and portfolio.has_collateral:
        single = len(portfolio.accounts) == 1
        if single:
            result.liquidation_prices = liquidation_prices(portfolio, market, model)
        for account in result.accounts or []:
            if single:
                account.liquidation_prices = result.liquidation_prices
            elif account.account in portfolio.collateral:
                one = portfolio.for_account(account.account)
                account.liquidation_prices = liquidation_prices(one, market, model)
    if compare:
        result.models = {model.name: replace(result, accounts=None)}
        for other in compare:
            if other.name not in result.models:
                result.models[other.name] = margin_for_book(book, other)
    return result


def at_model_prices(book: Book) -> Book:
    """``book`` valued at model prices: no marks, and futures and perpetuals without an
    ``entry_price`` (worth 0 to :func:`position_values`: nothing unrealised) entered at today's
    price, so that on a moved market their P&L shows in equity."""
    table, codes = book.instruments, book.instrument
    entry = book.positions["entry_price"].to_numpy(np.float64)
    future = (~table.is_option & (table.kind != "spot"))[codes]
    entry = np.where(future & ~np.isfinite(entry), table.forward[codes], entry)
    return replace(book, positions=book.positions.assign(mark_price=np.nan, entry_price=entry))


class MaintenanceGap:
    """Equity − maintenance margin (USD) of one account's book on moved markets, with the
    whole margin model re-run on each (open orders as :func:`margin_for_book` counts them).

    Positions are valued at model prices on the moved market (``unmarked``, see
    :func:`at_model_prices`; move it with :meth:`Book.with_spot_scaled` or
    :meth:`Book.with_vol_scaled`), plus what their marks are worth above the model today
    (``marks_over_model``: a mark observed at one spot says nothing of another). So with no
    move the gap is :func:`compute_margin`'s equity − maintenance margin, and a book without
    marks whose futures state entry prices gives exactly ``compute``'s on the moved market.
    The margin is the model's ``batch_margin`` of the one book (no isolated margins).
    """

    def __init__(self, book: Book, model: MarginModel):
        if equity(book, position_values(book)) is None:
            raise ValueError("the book states no collateral, so its equity is unknown")
        self.model = model
        self.unmarked = at_model_prices(book)
        self.batch = QuantityBatch.of(book.net_quantity)
        self.orders = OpenOrders.of(book, np.zeros(len(book.quantity), np.int64), 1)
        self.marks_over_model = self.unmoved(book) - self.unmoved(self.unmarked)

    def unmoved(self, book: Book) -> float:
        """Equity − maintenance margin of ``book`` as it is valued (no marks offset)."""
        margins = candidate_margins(self.model, book, self.batch, self.orders)
        return float(equity(book, position_values(book)) - margins.maintenance[0])

    def __call__(self, moved: Book) -> float:
        """The gap on ``moved`` (a move of ``unmarked``), marks over the model added."""
        return self.unmoved(moved) + self.marks_over_model


def liquidation_prices(
    portfolio: Portfolio, market: Market, model: MarginModel
) -> dict[str, LiquidationPrice]:
    """Liquidation prices of a one-account portfolio with collateral, per underlying it holds.

    Each is the spot at which equity = maintenance margin when that underlying alone moves, the
    whole model re-run at every trial spot (see :mod:`pmargin.liquidation_price`), equity and
    margin as :class:`MaintenanceGap` counts them.
    """
    gap = MaintenanceGap(bind(portfolio, market), model)

    def at(underlying: str, factor: float) -> float:
        return gap(gap.unmarked.with_spot_scaled(underlying, factor))

    return search_liquidation_prices(market, portfolio.underlyings, at)
