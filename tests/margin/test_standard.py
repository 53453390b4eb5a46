"""The standard model against Deribit's formulas and worked figures.

Market (tests/conftest.py): BTC 100,000, vol 50%, rate 0 (so forwards equal spot).
Short option per coin: MM = max(0.075·S, 0.075·mark) + mark, IM = max(max(0.15 − OTM/S, 0.10)·S
+ mark, MM). Futures on n coins: IM = n·(2% + n·0.005%)·S, MM = n·(1% + n·0.005%)·S for BTC.
"""

import pytest

from pmargin import compute_margin, load_market, load_portfolio
from pmargin.book import bind
from pmargin.pricing.black76 import black76_price

SPOT = 100000.0
#: Deribit's support article "Linear Perpetual" works its examples at these index prices
ARTICLE_MARKET = """\
as_of: 2024-11-25T08:00:00Z
rate: 0.0
underlyings:
  BTC: {spot: 100000, vol: 0.5}
  ETH: {spot: 4000, vol: 0.6}
  SOL: {spot: 200, vol: 0.8}
  XRP: {spot: 0.5, vol: 0.9}
"""


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
        # linear perpetual, 2 BTC: 2% + 2 × 0.005% = 2.01% and 1.01% of 2 × 100,000
        ("BTC_USDC-PERPETUAL,2,", 4020.0, 2020.0),
        # inverse future, 1,000 contracts of face 10 USD = 0.1 BTC: 2.0005% / 1.0005% of 10,000
        ("BTC-27DEC24,-1000,", 200.05, 100.05),
        # long spot is paid for; short spot is margined like a perpetual
        ("BTC_USDC,5,", 0.0, 0.0),
        ("BTC_USDC,-1,", 2005.0, 1005.0),
        # put deep in the money, K = 2.5 S, mark 150,000: MM = 0.075 × 150,000 + 150,000
        # (0.075·mark > 0.075·S); IM = 0.15 × 100,000 + 150,000 is still above it
        ("BTC_USDC-27DEC24-250000-P,-1,150000", 165000.0, 161250.0),
        # K = 3.5 S, mark 250,000: IM formula 15,000 + 250,000 = 265,000 < MM 18,750 + 250,000
        ("BTC_USDC-27DEC24-350000-P,-1,250000", 268750.0, 268750.0),
        # the same put inverse, mark 2.5 BTC = 250,000 USD: the same margin in USD
        ("BTC-27DEC24-350000-P,-1,2.5", 268750.0, 268750.0),
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
    assert result.portfolio_margin == pytest.approx(23000 + 15000 + 1500 + 200.05)
    assert result.maintenance_margin == pytest.approx(18000 + 9500 + 0 + 100.05)
    assert result.components == pytest.approx(
        {"short_option_initial": 38000.0, "long_option_premium": 1500.0, "futures_initial": 200.05}
    )
    assert result.offset == pytest.approx(0.0)


def test_rows_of_one_instrument_net(write, market_path):
    rows = "BTC_USDC-PERPETUAL,2,\nBTC_USDC-PERPETUAL,-2,\n"
    result = standard(write, market_path, rows)
    assert result.portfolio_margin == 0
    assert result.isolated_margin == pytest.approx(2 * 2 * (0.02 + 2 * 0.00005) * SPOT)


def test_rows_on_one_side_need_more_together_than_apart(write, market_path):
    # the rate grows with the position, so isolated margin (each row alone) is the smaller here:
    # 50 BTC at 2.25% against 2 × 25 BTC at 2.125%
    rows = "BTC_USDC-PERPETUAL,25,\nBTC_USDC-PERPETUAL,25,\n"
    result = standard(write, market_path, rows)
    assert result.portfolio_margin == pytest.approx(50 * 0.0225 * SPOT)
    assert result.isolated_margin == pytest.approx(2 * 25 * 0.02125 * SPOT)


@pytest.mark.parametrize(
    ("row", "initial", "maintenance"),
    [
        # Deribit "Linear Perpetual": 25 BTC at 100,000 -> IM 2.125% = 53,125 USDC, MM 28,125
        ("BTC_USDC-PERPETUAL,25", 53125.0, 28125.0),
        # 350 BTC -> IM 3.75% = 13.125 BTC = 1,312,500 USDC (MM 1% + 1.75% = 2.75%)
        ("BTC_USDC-PERPETUAL,-350", 1312500.0, 962500.0),
        # 25 SOL at 200 -> IM 4.0125% = 200.625 USDC, MM 2.0125% = 100.625 USDC
        ("SOL_USDC-PERPETUAL,25", 200.625, 100.625),
        # 6,000 SOL -> IM 7% = 420 SOL = 84,000 USDC (MM 2% + 3% = 5%)
        ("SOL_USDC-PERPETUAL,6000", 84000.0, 60000.0),
        # release note "11 January 2022": 25 BTC inverse = 250,000 contracts of 10 USD, IM
        # 0.53125 BTC; 1,000 ETH inverse = 4,000,000 contracts of 1 USD, IM 2.4%, MM 1.4%
        ("BTC-PERPETUAL,250000", 0.53125 * 100000, 0.28125 * 100000),
        ("ETH-PERPETUAL,-4000000", 24.0 * 4000, 14.0 * 4000),
        # a coin with no published rates takes `default` (SOL's): 4% + 0.0005% per coin
        ("XRP_USDC-PERPETUAL,1000", 1000 * (0.04 + 1000 * 0.000005) * 0.5, 1000 * 0.025 * 0.5),
    ],
)
def test_futures_rates_grow_with_size_as_deribit_publishes(write, row, initial, maintenance):
    market = load_market(write("article.yaml", ARTICLE_MARKET))
    portfolio = load_portfolio(write("book.csv", "instrument,quantity\n" + row + "\n"))
    result = compute_margin(portfolio, market, "standard")
    assert result.portfolio_margin == pytest.approx(initial, rel=1e-12)
    assert result.maintenance_margin == pytest.approx(maintenance, rel=1e-12)


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
