"""Position values, equity and vols implied from marks."""

import pytest

from pmargin import load_market, load_portfolio
from pmargin.book import bind
from pmargin.portfolio_margin import equity, position_values
from pmargin.pricing.black76 import black76_price

NO_VOL_MARKET = "as_of: 2024-11-25T08:00:00Z\nunderlyings:\n  BTC: {spot: 100000}\n"


def test_values_follow_marks_entries_and_settlement(write, market_path):
    path = write(
        "book.yaml",
        """\
        collateral: {USD: 1000, USDC: 500, BTC: 0.5}
        positions:
          - {instrument: BTC-27DEC24-100000-C, quantity: -2, mark_price: 0.05}
          - {instrument: BTC_USDC-27DEC24-90000-P, quantity: 3, mark_price: 1200}
          - {instrument: BTC_USDC-PERPETUAL, quantity: 2, entry_price: 95000}
          - {instrument: BTC-PERPETUAL, quantity: -1000, entry_price: 95000}
          - {instrument: BTC_USDC-28MAR25, quantity: 1}
        orders:
          - {instrument: BTC_USDC-PERPETUAL, quantity: 5, price: 90000}
        """,
    )
    book = bind(load_portfolio(path), load_market(market_path))
    values = position_values(book)
    s = 100000.0
    expected = [
        -2 * 0.05 * s,  # inverse option marks are in coin
        3 * 1200.0,
        2 * (s - 95000.0),  # linear perpetual: unrealised P&L against entry
        -1000 * 10 * (1 / 95000 - 1 / s) * s,  # inverse: coin P&L at spot
        0.0,  # no entry price: nothing unrealised
        0.0,  # an open order has no value yet
        0.5 * s,  # coin collateral at spot
    ]
    assert values.tolist() == pytest.approx(expected, rel=1e-12)
    assert equity(book, values) == pytest.approx(1500.0 + sum(expected), rel=1e-12)


def test_vol_is_implied_from_the_mark_when_the_market_has_none(write):
    market = load_market(write("m.yaml", NO_VOL_MARKET))
    path = write("b.csv", "instrument,quantity,mark_price\nBTC-28MAR25-110000-C,1,0.04\n")
    book = bind(load_portfolio(path), market)
    table = book.instruments
    price = black76_price(table.forward[0], 110000.0, table.time[0], table.vol[0], 1.0, True)
    assert price == pytest.approx(0.04 * 100000.0, rel=1e-9)
    assert 0.2 < table.vol[0] < 2.0
