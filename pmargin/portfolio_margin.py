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

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .account_engine import Engine, account_requirements
from .accounts import Accounts
from .book import Book, bind, mark_in_usd
from .greeks import unit_greeks
from .liquidation_price import LiquidationPrice, search_liquidation_prices
from .margin import MarginModel
from .margin.base import AccountRequirements, Requirement
from .market import Market
from .portfolio import Portfolio

STATUS_OK, STATUS_MARGIN_CALL, STATUS_LIQUIDATION = "ok", "margin_call", "liquidation"
#: statuses from best to worst
STATUSES = (STATUS_OK, STATUS_MARGIN_CALL, STATUS_LIQUIDATION)
#: position columns that hold money (converted by ``--currency``); delta and gamma stay in coins
MONEY_COLUMNS = ("value", "isolated_margin", "vega", "theta")
#: account columns that hold money, besides ``components.*`` and ``by_underlying.*``
ACCOUNT_MONEY_COLUMNS = (
    "portfolio_margin",
    "maintenance_margin",
    "isolated_margin",
    "offset",
    "worst_scenario.pnl",
    "equity",
    "excess",
)
COMPONENT, BY_UNDERLYING = "components.", "by_underlying."
#: the account column of liquidation prices: ``{underlying: LiquidationPrice}`` or None
LIQUIDATION_PRICES = "liquidation_prices"


@dataclass
class MarginResult:
    """Margin of a book's accounts under one model, and the totals over them; money in USD.

    ``accounts`` has one row per account (sorted by name): ``account``, ``portfolio_margin``,
    ``maintenance_margin``, ``isolated_margin``, ``offset``, ``savings``, ``worst_scenario.name``,
    ``worst_scenario.pnl``, ``worst_scenario.weight``, ``equity``, ``excess``, ``status``,
    ``positions`` (rows), then ``components.<name>`` and ``by_underlying.<underlying>`` (NaN
    where a part does not apply to the account: an underlying it does not hold), and, when they
    were asked for, ``liquidation_prices`` (``{underlying: LiquidationPrice}``, None for an
    account without them). Missing values (equity without collateral, a model without
    scenarios) are NaN or None. ``liquidation_prices`` at the top is that of a portfolio of one
    account with collateral.
    """

    model: str
    portfolio_margin: float
    maintenance_margin: float
    isolated_margin: float
    worst_scenario: dict[str, Any] | None
    equity: float | None
    excess: float | None
    status: str | None
    components: dict[str, float]
    by_underlying: dict[str, float]
    positions: pd.DataFrame
    accounts: pd.DataFrame
    models: dict[str, MarginResult] = field(default_factory=dict)
    currency: str = "USD"
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
        accounts = self.accounts.copy()
        for column in accounts.columns:
            if column in ACCOUNT_MONEY_COLUMNS or column.startswith((COMPONENT, BY_UNDERLYING)):
                accounts[column] = accounts[column] / usd_per_unit
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
            excess=convert(self.excess),
            components={k: v / usd_per_unit for k, v in self.components.items()},
            by_underlying={k: v / usd_per_unit for k, v in self.by_underlying.items()},
            positions=positions,
            accounts=accounts,
            models={k: m.in_currency(currency, usd_per_unit) for k, m in self.models.items()},
            currency=currency,
        )

    def account(self, name: str) -> MarginResult:
        """The result of one account alone (its row of ``accounts`` and its positions)."""
        matches = np.flatnonzero(self.accounts["account"].to_numpy(object) == name)
        if not len(matches):
            raise KeyError(f"no account {name!r}")
        row = self.accounts.iloc[int(matches[0])]
        worst = None
        if pd.notna(row["worst_scenario.name"]):
            worst = {
                "name": row["worst_scenario.name"],
                "pnl": float(row["worst_scenario.pnl"]),
                "weight": float(row["worst_scenario.weight"]),
            }
        equity = None if pd.isna(row["equity"]) else float(row["equity"])
        positions = self.positions[self.positions["account"].to_numpy(object) == name]
        prices = row[LIQUIDATION_PRICES] if LIQUIDATION_PRICES in row.index else None
        return MarginResult(
            model=self.model,
            portfolio_margin=float(row["portfolio_margin"]),
            maintenance_margin=float(row["maintenance_margin"]),
            isolated_margin=float(row["isolated_margin"]),
            worst_scenario=worst,
            equity=equity,
            excess=None if equity is None else float(row["excess"]),
            status=row["status"],
            components=_prefixed(row, COMPONENT),
            by_underlying=_prefixed(row, BY_UNDERLYING),
            positions=positions.reset_index(drop=True),
            accounts=self.accounts.iloc[matches[:1]].reset_index(drop=True),
            currency=self.currency,
            liquidation_prices=prices,
        )


def _prefixed(row: pd.Series, prefix: str) -> dict[str, float]:
    """``{name: value}`` of the columns ``<prefix><name>`` of an account row that apply."""
    return {
        key[len(prefix) :]: float(value)
        for key, value in row.items()
        if key.startswith(prefix) and pd.notna(value)
    }


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
    is_future = (table.kind != "spot")[codes] & ~table.is_option[codes]
    future_price = np.where(is_future, price, 1.0)  # an option's price may be 0
    linear_unrealised = quantity * multiplier * (price - safe_entry)
    inverse_unrealised = (
        quantity * multiplier * (1.0 / safe_entry - 1.0 / future_price) * table.spot[codes]
    )
    futures_value = np.where(table.is_inverse[codes], inverse_unrealised, linear_unrealised)
    values = np.where(is_future, np.where(has_entry, futures_value, 0.0), linear_value)
    return np.where(book.is_order, 0.0, values)


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


def account_status(equity: np.ndarray, initial: np.ndarray, maintenance: np.ndarray) -> np.ndarray:
    """``liquidation`` (equity < maintenance), ``margin_call`` (equity < initial), ``ok``; None
    where equity is unknown (NaN)."""
    status = np.select(
        [equity < maintenance, equity < initial],
        [STATUS_LIQUIDATION, STATUS_MARGIN_CALL],
        STATUS_OK,
    ).astype(object)
    status[np.isnan(equity)] = None
    return status


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


def requirement_with_orders(model: MarginModel, book: Book) -> Requirement:
    """The whole book as one account, open orders margined as if filled or not, whichever needs
    more initial margin (SPEC §3); for callers that re-margin one book (what-if, liquidation).
    Isolated margin counts the orders as filled."""
    filled = model.requirement(book)
    if not book.is_order.any():
        return filled
    unfilled = model.requirement(
        replace(book, quantity=np.where(book.is_order, 0.0, book.quantity))
    )
    if unfilled.initial > filled.initial:
        return replace(unfilled, position_initial=filled.position_initial)
    return filled


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
    return pd.DataFrame(table)


def _worst_status(statuses: np.ndarray) -> str | None:
    known = [s for s in STATUSES if (statuses == s).any()]
    return known[-1] if known else None


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
        status=_worst_status(accounts["status"].to_numpy(object)),
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
        _add_liquidation_prices(result, portfolio, market, model, liquidation_accounts)
    if compare:
        result.models = {model.name: replace(result, models={})}
        for other in compare:
            if other.name not in result.models:
                result.models[other.name] = margin_for_book(
                    book, other, engine=engine, accounts=accounts
                )
    return result


def _add_liquidation_prices(
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


def maintenance_gap(book: Book, model: MarginModel) -> float:
    """Equity − maintenance margin of a bound one-account book (orders as :func:`margin_for_book`
    counts them), USD; needs collateral."""
    value = equity(book, position_values(book))
    if value is None:
        raise ValueError("the book states no collateral, so its equity is unknown")
    return value - requirement_with_orders(model, book).maintenance


def liquidation_prices(
    portfolio: Portfolio, market: Market, model: MarginModel
) -> dict[str, LiquidationPrice]:
    """Liquidation prices of a one-account portfolio with collateral, per underlying it holds.

    Each is the spot at which equity = maintenance margin when that underlying alone moves, the
    whole model re-run at every trial spot (see :mod:`pmargin.liquidation_price`). Positions are
    valued at model prices on the moved market plus what their marks are worth above the model
    at the snapshot (a mark observed at one spot says nothing of another); so a book without
    marks gives exactly what :func:`compute_margin` gives on the moved market.
    """
    book = bind(portfolio, market)
    unmarked = book.without_marks()
    marks_over_model = maintenance_gap(book, model) - maintenance_gap(unmarked, model)

    def gap(underlying: str, factor: float) -> float:
        moved = unmarked.with_spot_scaled(underlying, factor)
        return maintenance_gap(moved, model) + marks_over_model

    return search_liquidation_prices(market, portfolio.underlyings, gap)
