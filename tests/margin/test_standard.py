"""The standard model against its formulas on worked numbers.

Market (tests/conftest.py): BTC 100,000, vol 50%, rate 0 (so forwards equal spot).
Short option per coin: IM = max(0.15 − OTM/S, 0.10)·S + mark, MM = 0.075·S + mark.
"""

import pytest

from pmargin import compute_margin, load_market, load_portfolio
from pmargin.book import bind
from pmargin.pricing.black76 import black76_price

SPOT = 100000.0


def standard(write, market_path, rows: str):
    portfolio = load_portfolio(write("book.csv", "instrument,quantity,mark_price\n" + rows))
    return compute_margin(portfolio, load_market(market_path), "standard")


@pytest.mark.parametrize(
    ("row", "initial", "maintenance"),
    [
        # OTM call 10,000: max(0.15 − 0.10, 0.10) = 0.10 → 2 × (10,000 + 1,500);
        # MM 2 × (7,500 + 1,500)
        ("BTC_USDC-27DEC24-110000-C,-2,1500", 23000.0, 18000.0),
        # OTM put 2,000: 0.15 − 0.02 = 0.13 → 13,000 + 2,000; MM 7,500 + 2,000
        ("BTC_USDC-27DEC24-98000-P,-1,2000", 15000.0, 9500.0),
        # ITM put: OTM 0 → 0.15 → 15,000 + 21,000; MM 7,500 + 21,000
        ("BTC_USDC-27DEC24-120000-P,-1,21000", 36000.0, 28500.0),
        # far OTM call: 0.15 − 1.0 < 0.10 → floor 10,000 + 10
        ("BTC_USDC-27DEC24-200000-C,-1,10", 10010.0, 7510.0),
        # inverse option, mark 0.015 BTC = 1,500 USD: the same as its linear twin
        ("BTC-27DEC24-110000-C,-1,0.015", 11500.0, 9000.0),
        # long option: its premium, no maintenance
        ("BTC_USDC-27DEC24-110000-C,3,1500", 4500.0, 0.0),
        # linear perpetual: 2% / 1% of 2 × 100,000
        ("BTC_USDC-PERPETUAL,2,", 4000.0, 2000.0),
        # inverse future, 1,000 contracts of face 10 USD: 2% / 1% of 10,000
        ("BTC-27DEC24,-1000,", 200.0, 100.0),
        # long spot is paid for; short spot is margined like a perpetual
        ("BTC_USDC,5,", 0.0, 0.0),
        ("BTC_USDC,-1,", 2000.0, 1000.0),
    ],
)
def test_formulas_on_worked_numbers(write, market_path, row, initial, maintenance):
    result = standard(write, market_path, row + "\n")
    assert result.portfolio_margin == pytest.approx(initial, rel=1e-12)
    assert result.maintenance_margin == pytest.approx(maintenance, rel=1e-12, abs=1e-9)
    assert result.isolated_margin == pytest.approx(initial, rel=1e-12)
    assert result.worst_scenario is None


def test_book_is_the_sum_of_its_positions(write, market_path):
    rows = (
        "BTC_USDC-27DEC24-110000-C,-2,1500\n"
        "BTC_USDC-27DEC24-98000-P,-1,2000\n"
        "BTC_USDC-27DEC24-110000-P,3,500\n"
        "BTC-27DEC24,-1000,\n"
    )
    result = standard(write, market_path, rows)
    assert result.portfolio_margin == pytest.approx(23000 + 15000 + 1500 + 200)
    assert result.maintenance_margin == pytest.approx(18000 + 9500 + 0 + 100)
    assert result.components == pytest.approx(
        {"short_option_initial": 38000.0, "long_option_premium": 1500.0, "futures_initial": 200.0}
    )
    assert result.offset == pytest.approx(0.0)


def test_rows_of_one_instrument_net(write, market_path):
    rows = "BTC_USDC-PERPETUAL,2,\nBTC_USDC-PERPETUAL,-2,\n"
    result = standard(write, market_path, rows)
    assert result.portfolio_margin == 0
    assert result.isolated_margin == pytest.approx(8000.0)


def test_mark_defaults_to_the_model_price(write, market_path):
    rows = "BTC_USDC-27DEC24-110000-C,-1,\n"
    result = standard(write, market_path, rows)
    book = bind(
        load_portfolio(write("b.csv", "instrument,quantity,mark_price\n" + rows)),
        load_market(market_path),
    )
    mark = black76_price(SPOT, 110000.0, book.instruments.time[0], 0.5, 1.0, True)
    assert result.portfolio_margin == pytest.approx(10000 + mark, rel=1e-12)
    assert result.maintenance_margin == pytest.approx(7500 + mark, rel=1e-12)
