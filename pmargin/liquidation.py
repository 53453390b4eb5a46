"""``liquidate``: what a venue does to an account below its margin, step by step (SPEC §8).

Per account: its state before (equity, initial and maintenance margin, status, with open orders
margined as ``compute`` margins them); for an account below (1 + buffer) × its target margin
(maintenance by default, or initial), a plan that first cancels the open orders, then trades (see
:mod:`pmargin.liquidation_plan`) until equity ≥ (1 + buffer) × target margin; the state after;
``deposit_to_restore`` (USD cash that restores the target as the account stands, without
trading); the book after the plan, in the form a portfolio file takes (:meth:`LiquidationResult.
portfolio_after`); and the account's liquidation prices per underlying
(:func:`liquidation_prices`).

Trades happen at the mark and pay the model's liquidation fee; they settle in USD, and unrealised
futures P&L is settled into USD cash when the account is taken over, so the book after holds
futures without an entry price and a USD balance that may be negative (a debit against the coin
collateral, as a cross-collateral account may run). Money is USD.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from .book import bind
from .errors import InputError, Problem
from .liquidation_book import AccountBook
from .liquidation_plan import (
    MODES,
    TARGETS,
    Goal,
    Plan,
    Step,
    proportional_plan,
    risk_reducing_plan,
)
from .liquidation_price import LiquidationPrice
from .margin import MarginModel
from .margin.liquidation_parameters import BUFFER_MAX, LiquidationParameters
from .market import Market
from .portfolio import POSITION_COLUMNS, Portfolio
from .portfolio_margin import liquidation_prices as _account_liquidation_prices
from .portfolio_margin import margin_for_book, margin_status

PLANS = {"risk-reducing": risk_reducing_plan, "proportional": proportional_plan}


@dataclass(frozen=True)
class AccountState:
    """Equity and margin of an account at one point of a plan, USD."""

    equity: float
    initial_margin: float
    maintenance_margin: float

    @property
    def status(self) -> str:
        return margin_status(self.equity, self.initial_margin, self.maintenance_margin)


@dataclass
class AccountLiquidation:
    """One account's liquidation (see the module doc); money in USD.

    ``deficit`` is how far equity stays below (1 + buffer) × the target margin after the plan
    (0 when ``restored``); ``stalled_shortfall`` is the shortfall at which partial liquidation
    could go no further, so the plan closed everything out (None otherwise).
    ``positions_after`` has the portfolio position columns; ``collateral_after`` maps currency
    to amount (USD cash and coin balances).
    """

    account: str
    before: AccountState
    steps: list[Step]
    after: AccountState
    restored: bool
    full_close_out: bool
    deficit: float
    stalled_shortfall: float | None
    deposit_to_restore: float
    positions_after: pd.DataFrame
    orders_after: pd.DataFrame
    collateral_after: dict[str, float]
    liquidation_prices: dict[str, LiquidationPrice] = field(default_factory=dict)
    #: the share of every position and coin balance a proportional plan closes
    fraction: float | None = None

    @property
    def fees(self) -> float:
        """Liquidation fees paid over the plan, USD."""
        return float(sum(step.fee for step in self.steps))


@dataclass
class LiquidationResult:
    """Liquidation of every account of a portfolio under one model."""

    model: str
    target: str
    buffer: float
    mode: str
    accounts: list[AccountLiquidation]
    source: str = ""
    market_path: str | None = None
    market_source: str = ""
    as_of: datetime | None = None

    def portfolio_after(self) -> Portfolio:
        """The portfolio after every account's plan: positions, orders left and collateral."""
        frames = [a.positions_after for a in self.accounts] + [
            a.orders_after for a in self.accounts
        ]
        positions = pd.concat(frames, ignore_index=True)[list(POSITION_COLUMNS)]
        collateral = {a.account: dict(a.collateral_after) for a in self.accounts}
        return Portfolio(positions, collateral, self.source, self.market_path)


def liquidate(
    portfolio: Portfolio,
    market: Market,
    model: MarginModel,
    *,
    target: str = "maintenance",
    buffer: float | None = None,
    mode: str = "risk-reducing",
    parameters: LiquidationParameters | None = None,
) -> LiquidationResult:
    """Liquidation plans for every account of ``portfolio`` (which must state collateral).

    ``target`` is ``maintenance`` or ``initial``; ``buffer`` (≥ 0, default the model's) asks for
    equity ≥ (1 + buffer) × target margin; ``mode`` is ``risk-reducing`` or ``proportional``;
    ``parameters`` overrides the model's liquidation parameters (fees, lots).
    """
    parameters = parameters or model.liquidation
    buffer = parameters.buffer if buffer is None else buffer
    _check_arguments(portfolio, target, buffer, mode)
    goal = Goal(target, float(buffer))
    accounts = [
        _liquidate_account(portfolio.for_account(name), name, market, model, parameters, goal, mode)
        for name in portfolio.accounts  # accounts are margined and liquidated one by one
    ]
    return LiquidationResult(
        model=model.name,
        target=target,
        buffer=float(buffer),
        mode=mode,
        accounts=accounts,
        source=portfolio.source,
        market_path=portfolio.market_path,
        market_source=market.source,
        as_of=market.as_of,
    )


def liquidation_prices(
    portfolio: Portfolio, market: Market, model: MarginModel, *, account: str | None = None
) -> dict[str, LiquidationPrice]:
    """Per underlying, the spots at which ``account``'s equity = maintenance margin when that
    underlying alone moves, the whole model re-run at each trial spot (SPEC §8). ``account`` may
    be left out when the portfolio has one."""
    names = portfolio.accounts
    if account is None and len(names) == 1:
        account = names[0]
    if account not in portfolio.collateral:
        raise InputError(
            Problem(
                f"{portfolio.source}: account {account!r}",
                "states no collateral, so its equity and liquidation prices are unknown"
                if account in names
                else f"no such account (the portfolio has {', '.join(map(repr, names))})",
                "Give the account's collateral (`collateral:` in a YAML portfolio).",
            )
        )
    return _account_liquidation_prices(portfolio.for_account(account), market, model)


def _check_arguments(portfolio: Portfolio, target: str, buffer: float, mode: str) -> None:
    problems = []
    if target not in TARGETS:
        problems.append(Problem("target", f"unknown {target!r}", "Use maintenance or initial."))
    if mode not in MODES:
        problems.append(Problem("mode", f"unknown {mode!r}", "Use risk-reducing or proportional."))
    if not (np.isfinite(buffer) and 0 <= buffer <= BUFFER_MAX):
        problems.append(
            Problem("buffer", f"must be a number from 0 to {BUFFER_MAX:g}, found {buffer!r}")
        )
    lacking = [a for a in portfolio.accounts if a not in portfolio.collateral]
    if lacking:
        names = ", ".join(repr(a) for a in lacking)
        problems.append(
            Problem(
                portfolio.source,
                f"no collateral stated for account {names}, so equity is unknown and "
                "nothing can be liquidated",
                "Give each account's collateral, e.g. `collateral: {USD: 250000, BTC: 3}` in a "
                "YAML portfolio.",
            )
        )
    if problems:
        raise InputError(problems)


def _liquidate_account(portfolio, name, market, model, parameters, goal, mode):
    book = bind(portfolio, market)
    margin = margin_for_book(book, model)  # open orders as compute margins them
    before = AccountState(margin.equity, margin.portfolio_margin, margin.maintenance_margin)
    account = AccountBook(book, model, parameters)
    holdings = account.start
    target = goal.target_margin(before.initial_margin, before.maintenance_margin)
    shortfall = (1.0 + goal.buffer) * target - before.equity
    has_orders = bool(book.is_order.any())
    if shortfall <= 0:
        plan = Plan([], holdings, None)
        after, cancelled = before, False
    else:
        requirement = account.requirement(holdings.total)
        steps = []
        if has_orders:
            steps.append(
                Step(1, "cancel_orders", None, None, None, 0.0, account.equity(holdings),
                     requirement.initial, requirement.maintenance,
                     account.worst_loss(holdings.total))
            )  # fmt: skip
        plan = PLANS[mode](account, holdings, requirement, goal, steps)
        after = AccountState(
            account.equity(plan.holdings), plan.requirement.initial, plan.requirement.maintenance
        )
        cancelled = has_orders
    after_shortfall = (1.0 + goal.buffer) * goal.target_margin(
        after.initial_margin, after.maintenance_margin
    ) - after.equity
    return AccountLiquidation(
        account=name,
        before=before,
        steps=plan.steps,
        after=after,
        restored=after_shortfall <= 0,
        full_close_out=plan.full_close_out,
        deficit=max(after_shortfall, 0.0),
        stalled_shortfall=plan.stalled_shortfall,
        deposit_to_restore=max(shortfall, 0.0),
        positions_after=_positions_after(account, plan),
        orders_after=_orders(book, keep=not cancelled),
        collateral_after=_collateral_after(account, plan),
        liquidation_prices=_account_liquidation_prices(portfolio, market, model),
        fraction=plan.fraction,
    )


def _positions_after(account: AccountBook, plan: Plan) -> pd.DataFrame:
    """One position row per instrument still held, in the portfolio's position columns."""
    held = np.flatnonzero(plan.holdings.quantity)
    rows = account.book.positions.iloc[account.first_row[held]].reset_index(drop=True)
    rows = rows[list(POSITION_COLUMNS)].copy()
    rows["quantity"] = plan.holdings.quantity[held]
    settled = account.is_future[held]  # their P&L is in cash now
    rows["entry_price"] = np.where(settled, np.nan, rows["entry_price"].to_numpy(np.float64))
    rows["is_order"] = False
    rows["source"] = rows["source"].astype(str) + " (after liquidation)"
    return rows


def _orders(book, *, keep: bool) -> pd.DataFrame:
    orders = book.positions[book.is_order] if keep else book.positions.iloc[:0]
    return orders[list(POSITION_COLUMNS)].reset_index(drop=True)


def _collateral_after(account: AccountBook, plan: Plan) -> dict[str, float]:
    """USD cash and each coin balance left, by currency."""
    coins = np.flatnonzero(plan.holdings.collateral > 0)
    balances = {"USD": float(plan.holdings.cash)}
    balances.update({str(account.underlying[i]): float(plan.holdings.collateral[i]) for i in coins})
    return balances
