"""``what_if``: a portfolio's margin before and after trades, and what each trade adds.

The portfolio and the trades are bound to the market once, as one book (the trades appended to
the positions, so a new instrument is priced once with the rest); "before" is that book with the
trades' quantities at zero. Every other book asked about — the account with all its trades, the
account with each trade alone — differs from it only in net quantities, so all of them are
margined together by :func:`~pmargin.margin.batch.candidate_margins` from the instruments ×
scenarios P&L the book was priced with: thousands of candidate trades cost one (candidates ×
instruments) product, not thousands of margin runs.

Conventions:

* a trade is a position row (signed contracts, + buys, − sells) in an account; it is done at the
  mark (the engine's base value) unless it states an ``entry_price`` (the trade price), so equity
  changes only by (mark − trade price) × quantity × multiplier — a premium paid for an option is
  cash out and option value in;
* incremental margin = margin after − margin before, USD; a trade that reduces margin has a
  negative one. "Alone" is the account before plus that trade only; "together" is the account
  with all its trades;
* accounts never net: a trade changes only its own account's margin; with several accounts the
  portfolio's figures are the sums of its accounts'.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import sparse

from .book import Book, bind, mark_in_usd
from .errors import InputError, Problem
from .margin import MarginModel
from .margin.batch import OpenOrders, QuantityBatch, candidate_margins
from .market import Market
from .portfolio import Portfolio
from .portfolio_margin import margin_for_book, margin_status, position_values

#: columns of :attr:`WhatIfResult.trades`
TRADE_COLUMNS = (
    "id",
    "account",
    "instrument",
    "quantity",
    "incremental_margin",
    "incremental_maintenance_margin",
    "equity_change",
)


@dataclass(frozen=True)
class MarginState:
    """Initial and maintenance margin and equity of a book (USD); equity None without
    collateral."""

    initial_margin: float
    maintenance_margin: float
    equity: float | None

    @property
    def status(self) -> str | None:
        return margin_status(self.equity, self.initial_margin, self.maintenance_margin)

    def plus(self, initial: float, maintenance: float, equity: float) -> MarginState:
        """This state with the given changes added (equity stays None when unknown)."""
        return MarginState(
            float(self.initial_margin + initial),
            float(self.maintenance_margin + maintenance),
            None if self.equity is None else float(self.equity + equity),
        )


@dataclass(frozen=True)
class AccountWhatIf:
    """One account before and after its trades (``trades``: rows of :data:`TRADE_COLUMNS`)."""

    account: str
    before: MarginState
    after: MarginState
    trades: pd.DataFrame

    @property
    def incremental_margin(self) -> float:
        return self.after.initial_margin - self.before.initial_margin


@dataclass(frozen=True)
class WhatIfResult:
    """Margin before and after all trades, and each trade's increment alone (``trades``).

    ``accounts`` lists every account of a portfolio with several (trades or not), else None.
    """

    model: str
    before: MarginState
    after: MarginState
    trades: pd.DataFrame
    accounts: list[AccountWhatIf] | None = None

    @property
    def incremental_margin(self) -> float:
        """Margin after − before, USD (negative when the trades reduce margin)."""
        return self.after.initial_margin - self.before.initial_margin


def what_if(
    portfolio: Portfolio, market: Market, model: MarginModel, trades: pd.DataFrame
) -> WhatIfResult:
    """Margin of ``portfolio`` before and after ``trades`` (position rows, see
    :data:`pmargin.portfolio.POSITION_COLUMNS`) under ``model``.

    A trade with no account goes to the portfolio's only account; with several accounts it must
    name one of them.
    """
    trades = _prepare_trades(portfolio, trades)
    combined = Portfolio(
        pd.concat([portfolio.positions, trades], ignore_index=True),
        portfolio.collateral,
        portfolio.source,
        portfolio.market_path,
    )
    book = bind(combined, market)
    first, count = len(portfolio.positions), len(trades)
    is_trade = np.zeros(len(book.quantity), bool)
    is_trade[first : first + count] = True  # bind keeps the rows in order, collateral last
    before_book = replace(book, quantity=np.where(is_trade, 0.0, book.quantity))

    several = len(portfolio.accounts) > 1
    before = margin_for_book(before_book, model)  # every account at once, accounts never net
    states = _states(before.accounts) if several else {"": _state(before)}

    trade_rows = np.flatnonzero(is_trade)
    row_accounts = book.positions["account"].to_numpy(str)
    trade_accounts = row_accounts[trade_rows] if several else np.full(count, "")
    touched, trade_base = np.unique(trade_accounts, return_inverse=True)
    in_account = row_accounts if several else np.full(len(row_accounts), "")
    batch, orders = _candidates(
        before_book,
        in_account,
        touched,
        (book.instrument[trade_rows], book.quantity[trade_rows], trade_base),
    )
    margins = candidate_margins(model, before_book, batch, orders)

    bases = len(touched)
    initial, maintenance = margins.initial, margins.maintenance
    equity_change = _equity_changes(book)[trade_rows]
    table = pd.DataFrame(
        {
            "id": book.positions["id"].to_numpy()[trade_rows],
            "account": book.positions["account"].to_numpy()[trade_rows],
            "instrument": book.positions["instrument"].to_numpy()[trade_rows],
            "quantity": book.quantity[trade_rows],
            "incremental_margin": initial[2 * bases :] - initial[trade_base],
            "incremental_maintenance_margin": maintenance[2 * bases :] - maintenance[trade_base],
            "equity_change": equity_change,
        },
        columns=list(TRADE_COLUMNS),
    )
    after = dict(states)
    for b, account in enumerate(touched):
        after[account] = states[account].plus(
            initial[bases + b] - initial[b],
            maintenance[bases + b] - maintenance[b],
            float(equity_change[trade_base == b].sum()),
        )
    accounts = None
    if several:
        accounts = [
            AccountWhatIf(
                account,
                states[account],
                after[account],
                table[table["account"] == account].reset_index(drop=True),
            )
            for account in states
        ]
    return WhatIfResult(
        model=model.name,
        before=_total(states.values()),
        after=_total(after.values()),
        trades=table,
        accounts=accounts,
    )


def _candidates(
    book: Book,
    row_accounts: np.ndarray,
    touched: np.ndarray,
    trades: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[QuantityBatch, OpenOrders]:
    """Candidates on the before-book: each touched account as it is (0..B−1), with all its
    trades (B..2B−1), and each trade alone (2B..); and the accounts' open orders.

    ``trades`` are each trade's instrument, quantity and account (an index into ``touched``).
    """
    instrument, quantity, trade_base = trades
    bases, count = len(touched), len(instrument)
    shape = (bases, len(book.instruments))
    codes, names = pd.factorize(row_accounts)  # a lookup per account, not per row
    lookup = {a: i for i, a in enumerate(touched)}
    base_of_row = np.array([lookup.get(n, -1) for n in names], np.int64)[codes]
    held = base_of_row >= 0
    base = np.zeros(shape)
    np.add.at(base, (base_of_row[held], book.instrument[held]), book.quantity[held])
    candidate = np.concatenate([bases + trade_base, 2 * bases + np.arange(count)])
    change = sparse.csr_array(
        (np.tile(quantity, 2), (candidate, np.tile(instrument, 2))),
        shape=(2 * bases + count, shape[1]),
    )
    book_of = np.concatenate([np.arange(bases), np.arange(bases), trade_base])
    orders = OpenOrders.of(book, base_of_row, bases)
    return QuantityBatch(base, book_of, change), orders


def _equity_changes(book: Book) -> np.ndarray:
    """Equity change of each row if it were traded now, USD: futures and perpetuals their
    unrealised P&L against ``entry_price``; options and spot (mark − entry price) × contracts ×
    multiplier; 0 without an entry price (traded at the mark)."""
    table, codes = book.instruments, book.instrument
    values = position_values(book)
    entry = mark_in_usd(table, codes, book.positions["entry_price"].to_numpy(np.float64))
    paid = book.quantity * table.multiplier[codes] * entry
    is_future = ~table.is_option[codes] & (table.kind[codes] != "spot")
    return np.where(is_future, values, np.where(np.isfinite(entry), values - paid, 0.0))


def _prepare_trades(portfolio: Portfolio, trades: pd.DataFrame) -> pd.DataFrame:
    """Trades as filled positions (never open orders) with their account: the portfolio's only
    account where a trade names none."""
    accounts = portfolio.accounts or [""]
    trades = trades.copy()
    trades["is_order"] = False
    named = trades["account"].astype(str)
    if len(accounts) == 1:
        trades["account"] = named.where(named != "", accounts[0])
    unknown = ~trades["account"].isin(accounts)
    if unknown.any():
        row = trades[unknown].iloc[0]
        account = row["account"]
        raise InputError(
            Problem(
                str(row["source"]),
                f"the trade names no account, and the portfolio has {len(accounts)}"
                if account == ""
                else f"unknown account {account!r} (the portfolio has "
                f"{', '.join(repr(a) if a else 'one account without a name' for a in accounts)})",
                "Give the trade's account: --account NAME, or an `account` column in the trades "
                "file.",
            )
        )
    return trades


def _state(result) -> MarginState:
    return MarginState(result.portfolio_margin, result.maintenance_margin, result.equity)


def _states(accounts: pd.DataFrame) -> dict[str, MarginState]:
    """Each account's margin state, from the accounts table of a margin result."""
    equity = accounts["equity"].to_numpy(np.float64)
    return {
        str(name): MarginState(float(initial), float(maintenance), None if np.isnan(e) else e)
        for name, initial, maintenance, e in zip(
            accounts["account"].to_numpy(object),
            accounts["portfolio_margin"].to_numpy(),
            accounts["maintenance_margin"].to_numpy(),
            equity.tolist(),
        )
    }


def _total(states) -> MarginState:
    """Accounts never net: the portfolio's figures are the sums of its accounts'."""
    states = list(states)
    equities = [s.equity for s in states if s.equity is not None]
    return MarginState(
        sum(s.initial_margin for s in states),
        sum(s.maintenance_margin for s in states),
        sum(equities) if equities else None,
    )
