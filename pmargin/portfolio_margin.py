"""``compute_margin``: every account's margin under one model, next to its isolated margin.

Accounts are the unit (SPEC §7): each account is margined on its own and a book never offsets
one account against another. The result holds everything ``pmargin compute`` shows: per account
(a DataFrame, one row each) the portfolio (initial) and maintenance margin, isolated margin (the
same model on each position alone, summed), the worst scenario, equity, excess and status; per
position its value, greeks and isolated margin; and the totals over accounts. A file that names no
accounts is one account, ``""``.

The top-level figures are sums over accounts (margin, maintenance, isolated, equity, excess,
components, margin per underlying); ``status`` is the worst account's; ``worst_scenario`` is the
worst scenario of the account with the largest initial margin, with its ``account``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from .account_engine import Engine, account_requirements
from .accounts import Accounts
from .book import Book, bind, mark_in_usd
from .greeks import unit_greeks
from .liquidation_price import LiquidationPrice, search_liquidation_prices
from .margin import MarginModel
from .margin.base import AccountRequirements, Requirement
from .margin.batch import OpenOrders, QuantityBatch, candidate_margins
from .margin_result import (  # noqa: F401 - the result and its constants, from here too
    ACCOUNT_MONEY_COLUMNS,
    BY_UNDERLYING,
    COMPONENT,
    LIQUIDATION_PRICES,
    MONEY_COLUMNS,
    STATUS_LIQUIDATION,
    STATUS_MARGIN_CALL,
    STATUS_OK,
    STATUSES,
    MarginResult,
    account_status,
    margin_status,
    worst_status,
)
from .market import Market
from .portfolio import Portfolio, columns_frame


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


def account_equity(book: Book, accounts: Accounts, values: np.ndarray) -> np.ndarray:
    """Cash + coin collateral at spot + position values per account, USD; NaN for an account
    that states no collateral (its equity is unknown)."""
    if not book.portfolio.has_collateral:
        return np.full(len(accounts), np.nan)
    cash = pd.Series(book.cash_usd, dtype=np.float64).reindex(accounts.names).to_numpy()
    return cash + accounts.sum_positions(values)


def equity(book: Book, values: np.ndarray, account: str | None = None) -> float | None:
    """Equity of one ``account``, or the sum over the accounts that state collateral, USD;
    None when none does (``values`` are the position values, :func:`position_values`)."""
    accounts = Accounts.of(book)
    per_account = account_equity(book, accounts, values)
    if account is not None:
        per_account = per_account[accounts.names == account]
    known = per_account[np.isfinite(per_account)]
    return float(known.sum()) if len(known) else None


def margined_book(model: MarginModel, book: Book) -> tuple[Book, Requirement]:
    """The whole book as one account and its requirement, open orders margined as if filled or
    not, whichever needs more initial margin (SPEC §3): the book whose margin counts, and that
    margin. Isolated margin counts the orders as filled. For callers that re-margin one book
    (explain, liquidation)."""
    filled = model.requirement(book)
    if not book.is_order.any():
        return book, filled
    unfilled_book = replace(book, quantity=np.where(book.is_order, 0.0, book.quantity))
    unfilled = model.requirement(unfilled_book)
    if unfilled.initial > filled.initial:
        return unfilled_book, replace(unfilled, position_initial=filled.position_initial)
    return book, filled


def requirement_with_orders(model: MarginModel, book: Book) -> Requirement:
    """:func:`margined_book`'s requirement."""
    return margined_book(model, book)[1]


def _position_table(book: Book, isolated: np.ndarray) -> pd.DataFrame:
    greeks = unit_greeks(book.instruments)
    codes, q = book.instrument, book.quantity
    positions = book.positions
    return columns_frame(  # no block copy, no str conversion
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


def _accounts_table(
    book: Book,
    accounts: Accounts,
    requirements: AccountRequirements,
    positions: pd.DataFrame,
) -> pd.DataFrame:
    """One row per account: the SPEC §4 figures, then components and margin per underlying."""
    isolated = accounts.sum_positions(positions["isolated_margin"].to_numpy())
    equity = account_equity(book, accounts, positions["value"].to_numpy())
    initial, maintenance = requirements.initial, requirements.maintenance
    offset = isolated - initial
    with np.errstate(divide="ignore", invalid="ignore"):
        savings = np.where(isolated > 0, offset / isolated, np.nan)
    worst = requirements.worst
    table = {
        "account": accounts.names,
        "portfolio_margin": initial,
        "maintenance_margin": maintenance,
        "isolated_margin": isolated,
        "offset": offset,
        "savings": savings,
        "worst_scenario.name": None if worst is None else worst.labels(),
        "worst_scenario.pnl": np.nan
        if worst is None
        else np.where(worst.index < 0, np.nan, worst.pnl),
        "worst_scenario.weight": np.nan if worst is None else worst.weights(),
        "equity": equity,
        "excess": equity - initial,
        "status": account_status(equity, initial, maintenance),
        "positions": np.bincount(accounts.position_account, minlength=len(accounts)),
    }
    present = requirements.present
    if present is None:
        present = accounts.underlyings_present(book)
    for name, values in requirements.components.items():
        table[COMPONENT + name] = values
    for name, values in requirements.underlying_components.items():
        for i, underlying in enumerate(requirements.underlyings):
            table[f"{COMPONENT}{name}_{underlying}"] = np.where(present[:, i], values[:, i], np.nan)
    for i, underlying in enumerate(requirements.underlyings):
        table[BY_UNDERLYING + underlying] = np.where(
            present[:, i], requirements.by_underlying[:, i], np.nan
        )
    return pd.DataFrame(table, copy=False)


def _totals(model: MarginModel, accounts: pd.DataFrame, positions: pd.DataFrame) -> MarginResult:
    """The result whose top-level figures are sums over ``accounts``."""
    has_equity = accounts["equity"].notna().to_numpy()
    worst = None
    named = accounts["worst_scenario.name"].notna().to_numpy()
    if named.any():  # the account with the largest initial margin that has a worst scenario
        margin = np.where(named, accounts["portfolio_margin"].to_numpy(), -np.inf)
        largest = accounts.iloc[int(np.argmax(margin))]
        worst = {
            "name": largest["worst_scenario.name"],
            "pnl": float(largest["worst_scenario.pnl"]),
            "weight": float(largest["worst_scenario.weight"]),
            "account": largest["account"] or None,
        }

    def sums(prefix: str) -> dict[str, float]:
        """Per part, the sum over the accounts it applies to (parts that apply to none left out)."""
        columns = [
            c for c in accounts.columns if c.startswith(prefix) and accounts[c].notna().any()
        ]
        return {c[len(prefix) :]: float(np.nansum(accounts[c].to_numpy())) for c in columns}

    return MarginResult(
        model=model.name,
        portfolio_margin=float(accounts["portfolio_margin"].sum()),
        maintenance_margin=float(accounts["maintenance_margin"].sum()),
        isolated_margin=float(accounts["isolated_margin"].sum()),
        worst_scenario=worst,
        equity=float(accounts["equity"].sum()) if has_equity.any() else None,
        excess=float(accounts["excess"].sum()) if has_equity.any() else None,
        status=worst_status(accounts["status"].to_numpy(object)),
        components=sums(COMPONENT),
        by_underlying=sums(BY_UNDERLYING),
        positions=positions,
        accounts=accounts,
    )


def margin_for_book(
    book: Book,
    model: MarginModel,
    *,
    engine: Engine | None = None,
    accounts: Accounts | None = None,
) -> MarginResult:
    """Margin of every account of a bound book under ``model``, and the totals over them
    (``accounts``: :meth:`Accounts.of` the book, when the caller has it already)."""
    accounts = Accounts.of(book) if accounts is None else accounts
    requirements, isolated = account_requirements(model, book, accounts, engine)
    positions = _position_table(book, isolated)
    return _totals(model, _accounts_table(book, accounts, requirements, positions), positions)


def compute_margin(
    portfolio: Portfolio,
    market: Market,
    model: MarginModel,
    *,
    compare: list[MarginModel] | None = None,
    engine: Engine | None = None,
    with_liquidation_prices: bool = False,
    liquidation_accounts: int | None = None,
) -> MarginResult:
    """Margin of every account of ``portfolio`` under ``model``, and the totals over them.

    ``compare`` lists further models whose results go in ``result.models`` (with the main one).
    ``engine`` runs the per-account work (default: this process). ``with_liquidation_prices``
    adds :func:`liquidation_prices` for each account with collateral — of a one-account
    portfolio also at the top — the ``liquidation_accounts`` with the largest initial margin
    when that is given (0: only a one-account portfolio's). Each is a root search that re-runs
    the model some hundred times on that account's own book, so they are asked for.
    """
    book = bind(portfolio, market)
    accounts = Accounts.of(book)
    result = margin_for_book(book, model, engine=engine, accounts=accounts)
    if with_liquidation_prices:
        add_liquidation_prices(result, portfolio, market, model, liquidation_accounts)
    if compare:
        result.models = {model.name: replace(result, models={})}
        for other in compare:
            if other.name not in result.models:
                result.models[other.name] = margin_for_book(
                    book, other, engine=engine, accounts=accounts
                )
    return result


def at_model_prices(book: Book) -> Book:
    """``book`` valued at model prices: no marks (its positions' nor its instruments'), and
    futures and perpetuals without an ``entry_price`` (worth 0 to :func:`position_values`:
    nothing unrealised) entered at today's price, so that on a moved market their P&L shows in
    equity."""
    unmarked = book.without_marks()
    table, codes = unmarked.instruments, unmarked.instrument
    entry = unmarked.positions["entry_price"].to_numpy(np.float64)
    future = (~table.is_option & (table.kind != "spot"))[codes]
    entry = np.where(future & ~np.isfinite(entry), table.forward[codes], entry)
    return replace(unmarked, positions=unmarked.positions.assign(entry_price=entry))


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


def add_liquidation_prices(
    result: MarginResult,
    portfolio: Portfolio,
    market: Market,
    model: MarginModel,
    count: int | None,
) -> None:
    """Liquidation prices of the accounts with collateral (the ``count`` largest by initial
    margin, all when None), in ``result.accounts`` and, for one account, at the top."""
    table = result.accounts
    names = table["account"].to_numpy(object)
    with_collateral = np.flatnonzero(table["equity"].notna().to_numpy())
    if len(names) > 1:
        margin = table["portfolio_margin"].to_numpy()[with_collateral]
        order = np.lexsort((names[with_collateral].astype(str), -margin))
        with_collateral = with_collateral[order[:count]]
    prices = np.full(len(names), None, dtype=object)
    for row in with_collateral.tolist():  # a root search per account: the model re-run on it
        one = portfolio if len(names) == 1 else portfolio.for_account(names[row])
        prices[row] = liquidation_prices(one, market, model)
    table[LIQUIDATION_PRICES] = prices
    if len(names) == 1:
        result.liquidation_prices = prices[0]
