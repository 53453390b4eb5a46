"""`what_if` against `compute` on the book with the trades appended, for every bundled model.

Market (tests/conftest.py): BTC 100,000 vol 50%, ETH 4,000 vol 60%, correlation 0.8, rate 0.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

import pmargin
from pmargin import InputError, compute_margin, load_market, load_portfolio
from pmargin.io.model_file import bundled_models, load_model
from pmargin.io.trades import load_trades
from pmargin.portfolio import Portfolio
from pmargin.whatif import what_if

MODELS = bundled_models()

BOOK_YAML = """\
account: desk
collateral: {USD: 400000, BTC: 2}
positions:
  - {id: short-call, instrument: BTC_USDC-27DEC24-110000-C, quantity: -4}
  - {id: long-put, instrument: BTC_USDC-27DEC24-90000-P, quantity: 3}
  - {id: perp, instrument: BTC-PERPETUAL, quantity: -30000, entry_price: 99000}
  - {id: eth-put, instrument: ETH_USDC-27DEC24-3500-P, quantity: -40}
orders:
  - {instrument: ETH_USDC-PERPETUAL, quantity: 25, price: 3900}
"""
TRADES = [
    "BTC_USDC-27DEC24-110000-C:2",  # buys back half the short calls: margin falls
    "BTC_USDC-27DEC24-100000-C:-3",  # a new instrument
    "ETH_USDC-PERPETUAL:-10",
    "BTC-PERPETUAL:10000",
]


def appended(portfolio: Portfolio, trades: pd.DataFrame) -> Portfolio:
    """The portfolio file with the trades appended (as filled positions of its account)."""
    rows = trades.assign(is_order=False)
    rows["account"] = rows["account"].where(rows["account"] != "", portfolio.accounts[0])
    positions = pd.concat([portfolio.positions, rows], ignore_index=True)
    return Portfolio(positions, portfolio.collateral, portfolio.source)


@pytest.fixture
def book(write, market_path):
    return load_portfolio(write("book.yaml", BOOK_YAML)), load_market(market_path)


@pytest.mark.parametrize("name", MODELS)
def test_after_equals_compute_on_the_file_with_the_trades_appended(book, name):
    portfolio, market = book
    model = load_model(name)
    trades = load_trades(TRADES)
    result = what_if(portfolio, market, model, trades)
    before = compute_margin(portfolio, market, model)
    after = compute_margin(appended(portfolio, trades), market, model)
    assert result.before.initial_margin == pytest.approx(before.portfolio_margin, rel=1e-9)
    assert result.before.maintenance_margin == pytest.approx(before.maintenance_margin, rel=1e-9)
    assert result.after.initial_margin == pytest.approx(after.portfolio_margin, rel=1e-9)
    assert result.after.maintenance_margin == pytest.approx(after.maintenance_margin, rel=1e-9)
    assert result.incremental_margin == pytest.approx(
        after.portfolio_margin - before.portfolio_margin, rel=1e-9, abs=1e-6
    )


@pytest.mark.parametrize("name", MODELS)
def test_each_trade_alone_equals_compute_with_that_trade_only(book, name):
    portfolio, market = book
    model = load_model(name)
    trades = load_trades(TRADES)
    result = what_if(portfolio, market, model, trades)
    before = compute_margin(portfolio, market, model)
    for i, row in result.trades.iterrows():
        alone = compute_margin(appended(portfolio, trades.iloc[[i]]), market, model)
        expected = alone.portfolio_margin - before.portfolio_margin
        assert row["incremental_margin"] == pytest.approx(expected, rel=1e-9, abs=1e-6)
        expected_mm = alone.maintenance_margin - before.maintenance_margin
        assert row["incremental_maintenance_margin"] == pytest.approx(
            expected_mm, rel=1e-9, abs=1e-6
        )


@pytest.mark.parametrize("name", ["deribit", "span", "tims", "var"])
def test_buying_back_a_short_call_shows_a_negative_increment(book, name):
    portfolio, market = book
    result = what_if(portfolio, market, load_model(name), load_trades(TRADES[:1]))
    assert result.trades["incremental_margin"].iloc[0] < 0
    assert result.incremental_margin < 0


def test_an_order_that_hedges_is_margined_as_not_filled_in_every_candidate(write, market_path):
    # the long future order hedges the short one only if filled: the worse case is unfilled,
    # unless a trade closes the short future (then the order alone is the risk)
    portfolio = load_portfolio(
        write(
            "orders.yaml",
            """\
            positions:
              - {instrument: BTC_USDC-PERPETUAL, quantity: -2}
            orders:
              - {instrument: BTC_USDC-PERPETUAL, quantity: 2, price: 100000}
            """,
        )
    )
    market = load_market(market_path)
    model = load_model("deribit")
    trades = load_trades(["BTC_USDC-PERPETUAL:2", "BTC_USDC-PERPETUAL:-1"])
    result = what_if(portfolio, market, model, trades)
    for i, row in result.trades.iterrows():
        alone = compute_margin(appended(portfolio, trades.iloc[[i]]), market, model)
        before = compute_margin(portfolio, market, model)
        expected = alone.portfolio_margin - before.portfolio_margin
        assert row["incremental_margin"] == pytest.approx(expected, rel=1e-9, abs=1e-6)
    # closing the short leaves the order's 2 long as the risk: unchanged margin (16% × 2)
    assert result.trades["incremental_margin"].iloc[0] == pytest.approx(0.0, abs=1e-6)


def test_equity_moves_by_the_trade_price_against_the_mark(write, market_path):
    portfolio = load_portfolio(write("cash.yaml", "collateral: {USD: 100000}\npositions: []\n"))
    market = load_market(market_path)
    trades = load_trades(
        [
            str(
                write(
                    "t.csv",
                    "instrument,quantity,entry_price\nBTC_USDC-PERPETUAL,2,99000\nBTC_USDC-27DEC24-100000-C,1,5000\nBTC_USDC-27DEC24-100000-P,1,\n",
                )
            )
        ]
    )
    result = what_if(portfolio, market, load_model("deribit"), trades)
    # the perpetual gains (100,000 − 99,000) × 2; the call pays 5,000 for its model value;
    # the put, at the mark, changes nothing
    after = compute_margin(appended(portfolio, trades), market, load_model("deribit"))
    call_value = after.positions["value"].iloc[1]
    expected = [2 * 1000.0, call_value - 5000.0, 0.0]
    np.testing.assert_allclose(result.trades["equity_change"], expected, rtol=1e-12)
    assert result.after.equity == pytest.approx(100000 + sum(expected), rel=1e-12)


def test_accounts_never_net_and_trades_go_to_their_own_account(write, market_path):
    portfolio = load_portfolio(
        write(
            "accounts.csv",
            """\
            account,instrument,quantity
            a,BTC_USDC-PERPETUAL,1
            b,BTC_USDC-PERPETUAL,-1
            """,
        )
    )
    market = load_market(market_path)
    model = load_model("deribit")
    trades = load_trades(["BTC_USDC-PERPETUAL:-1"], account="a")
    result = what_if(portfolio, market, model, trades)
    by_account = {a.account: a for a in result.accounts}
    # a closes its long: its margin goes (the 16% worst case and the 1% roll shock of
    # min_annualised_move on a perpetual's delta, of 100,000 USD); b is untouched
    assert by_account["a"].incremental_margin == pytest.approx(-17000.0, rel=1e-12)
    assert by_account["b"].incremental_margin == 0
    assert result.before.initial_margin == pytest.approx(34000.0, rel=1e-12)
    assert result.after.initial_margin == pytest.approx(17000.0, rel=1e-12)
    with pytest.raises(InputError, match="names no account"):
        what_if(portfolio, market, model, load_trades(["BTC_USDC-PERPETUAL:-1"]))
    with pytest.raises(InputError, match="unknown account 'c'"):
        what_if(portfolio, market, model, load_trades(["BTC_USDC-PERPETUAL:-1"], account="c"))


@dataclass(frozen=True)
class WithoutBatch:
    """A model that only knows `requirement` (as a user's own method might)."""

    inner: object
    name: str = "plain"
    method: str = "plain"

    def requirement(self, book):
        return self.inner.requirement(book)


@pytest.mark.parametrize("name", ["deribit", "standard"])
def test_a_model_without_a_batch_method_gives_the_same_answer_one_candidate_at_a_time(book, name):
    portfolio, market = book
    trades = load_trades(TRADES)
    batched = what_if(portfolio, market, load_model(name), trades)
    looped = what_if(portfolio, market, WithoutBatch(load_model(name)), trades)
    np.testing.assert_allclose(
        looped.trades["incremental_margin"], batched.trades["incremental_margin"], atol=1e-6
    )
    assert looped.after.initial_margin == pytest.approx(batched.after.initial_margin, rel=1e-9)


def test_many_single_trades_match_compute_one_by_one(write, market_path):
    portfolio = load_portfolio(
        write(
            "many.csv", "instrument,quantity\nBTC_USDC-27DEC24-100000-C,-5\nETH_USDC-PERPETUAL,30\n"
        )
    )
    market = load_market(market_path)
    model = load_model("span")
    strikes = range(80000, 125000, 5000)
    values = [f"BTC_USDC-27DEC24-{k}-{r}:{q}" for k in strikes for r in "CP" for q in (-1, 2)]
    trades = load_trades(values)
    result = what_if(portfolio, market, model, trades)
    before = compute_margin(portfolio, market, model).portfolio_margin
    for i in (0, 7, 18, len(values) - 1):
        alone = compute_margin(appended(portfolio, trades.iloc[[i]]), market, model)
        assert result.trades["incremental_margin"].iloc[i] == pytest.approx(
            alone.portfolio_margin - before, rel=1e-9, abs=1e-6
        )


def test_the_public_api_takes_trade_strings_and_model_names(book):
    portfolio, market = book
    public = pmargin.what_if(portfolio, market, TRADES, "span")
    library = what_if(portfolio, market, load_model("span"), load_trades(TRADES))
    assert public.after == library.after
    pd.testing.assert_frame_equal(public.trades, library.trades)
