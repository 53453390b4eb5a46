"""The engine against closed forms, put-call parity and finite differences of its own P&L."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmargin import load_market, load_portfolio
from pmargin.book import bind
from pmargin.engine import instrument_pnl, value
from pmargin.greeks import unit_greeks
from pmargin.pricing.black76 import black76_price
from pmargin.scenarios import DEFAULT_KEY, ScenarioSet, grid_set


def book_of(write, market_path, rows: str):
    portfolio = load_portfolio(write("book.csv", rows))
    return bind(portfolio, load_market(market_path))


def one_scenario(spot=0.0, vol=0.0, vol_shift=0.0, days=0.0, underlyings=("BTC",)):
    s = ScenarioSet(
        "one",
        ("s",),
        spot={DEFAULT_KEY: np.array([spot])},
        vol={DEFAULT_KEY: np.array([vol])},
        vol_shift={DEFAULT_KEY: np.array([vol_shift])},
        days=np.array([days]),
    )
    return s.shocks(underlyings)


PARITY_BOOK = """\
underlying,kind,expiry,strike,right,quantity
BTC,option,2025-03-28,90000,call,1
BTC,option,2025-03-28,90000,put,-1
BTC,future,2025-03-28,,,-1
"""


@pytest.fixture(scope="module")
def parity_book(tmp_path_factory):
    from conftest import MARKET_YAML as MARKET

    folder = tmp_path_factory.mktemp("parity")
    (folder / "book.csv").write_text(PARITY_BOOK)
    (folder / "market.yaml").write_text(MARKET)
    return bind(load_portfolio(folder / "book.csv"), load_market(folder / "market.yaml"))


@settings(max_examples=60, deadline=None)
@given(
    spot=st.floats(-0.9, 4.0),
    vol=st.floats(-0.9, 3.0),
    vol_shift=st.floats(-0.3, 0.5),
    days=st.floats(0.0, 200.0),
)
def test_put_call_parity_in_every_scenario(parity_book, spot, vol, vol_shift, days):
    # long call + short put + short future, same strike and expiry, rate 0: P&L is zero
    book = parity_book
    shocks = one_scenario(spot, vol, vol_shift, days)
    pnl = value(book, shocks).pnl
    assert abs(pnl[0]) <= 1e-7 * 100000


def test_parity_on_a_grid(write, market_path):
    book = book_of(write, market_path, PARITY_BOOK)
    grid = grid_set("g", list(np.linspace(-0.5, 0.5, 11)), [-0.5, 0.0, 1.0], days=3)
    assert np.abs(value(book, grid.shocks(("BTC",))).pnl).max() < 1e-6


def test_linear_future_pnl_is_multiplier_times_forward_move(write, market_path):
    book = book_of(write, market_path, "instrument,quantity\nBTC_USDC-28MAR25,3\n")
    forward = book.instruments.forward[0]
    pnl = value(book, one_scenario(spot=-0.2)).pnl[0]
    assert pnl == pytest.approx(3 * forward * -0.2, rel=1e-12)


def test_inverse_future_pnl_in_coin_converted_at_scenario_spot(write, market_path):
    # BTC-PERPETUAL: face 10 USD; coin P&L = N (1/F - 1/F'); USD = coin P&L x S'
    book = book_of(write, market_path, "instrument,quantity\nBTC-PERPETUAL,-1000\n")
    s0, move = 100000.0, 0.25
    f0, f1 = s0, s0 * (1 + move)
    expected = -1000 * 10 * (1 / f0 - 1 / f1) * f1
    assert value(book, one_scenario(spot=move)).pnl[0] == pytest.approx(expected, rel=1e-12)


def test_inverse_option_pnl(write, market_path):
    # coin value V/S; USD P&L = (V'/S' - V/S) S'
    book = book_of(write, market_path, "instrument,quantity\nBTC-28MAR25-110000-C,2\n")
    t = book.instruments.time[0]
    s0, move, vol = 100000.0, -0.1, 0.5
    v0 = black76_price(s0, 110000, t, vol, 1.0, True)
    v1 = black76_price(s0 * (1 + move), 110000, t, vol * 1.2, 1.0, True)
    s1 = s0 * (1 + move)
    expected = 2 * (v1 / s1 - v0 / s0) * s1
    pnl = value(book, one_scenario(spot=move, vol=0.2)).pnl[0]
    assert pnl == pytest.approx(expected, rel=1e-10)


def test_time_shock_reaches_intrinsic_at_expiry(write, market_path):
    book = book_of(write, market_path, "instrument,quantity\nBTC_USDC-27DEC24-90000-C,1\n")
    base = book.instruments.option_prices()[0]
    pnl = value(book, one_scenario(spot=0.0, days=400)).pnl[0]
    assert pnl == pytest.approx((100000 - 90000) - base, rel=1e-12)


MIXED_BOOK = """\
instrument,quantity
BTC-28MAR25-110000-C,1
BTC-27DEC24-90000-P,1
BTC_USDC-28MAR25-95000-C,1
BTC_USDC-27DEC24-120000-P,1
BTC-PERPETUAL,1
BTC-28MAR25,1
BTC_USDC-PERPETUAL,1
BTC_USDC,1
"""


def test_greeks_agree_with_finite_differences_of_engine_pnl(write, market_path):
    book = book_of(write, market_path, MIXED_BOOK)
    table = book.instruments
    g = unit_greeks(table)
    spot, h = 100000.0, 1e-4

    def pnl(**shock):
        return instrument_pnl(table, one_scenario(**shock))[:, 0]

    delta = (pnl(spot=h) - pnl(spot=-h)) / (2 * h * spot)
    gamma = (pnl(spot=h) - 2 * pnl() + pnl(spot=-h)) / (h * spot) ** 2
    vega = (pnl(vol_shift=1e-4) - pnl(vol_shift=-1e-4)) / 2e-4
    theta = pnl(days=1e-3) / 1e-3
    np.testing.assert_allclose(g.delta, delta, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(g.gamma, gamma, rtol=1e-3, atol=1e-10)
    np.testing.assert_allclose(g.vega, vega, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g.theta, theta, rtol=1e-3, atol=1e-6)


def test_valuation_aggregates_positions_accounts_and_underlyings(write, market_path):
    book = book_of(
        write,
        market_path,
        """\
        instrument,quantity,account
        BTC_USDC-28MAR25-95000-C,2,a
        BTC_USDC-28MAR25-95000-C,-1,b
        ETH_USDC-PERPETUAL,5,b
        """,
    )
    assert len(book.instruments) == 2  # the same option in two accounts is priced once
    grid = grid_set("g", [-0.1, 0.1], [0.0, 0.5])
    valuation = value(book, grid.shocks(book.instruments.underlyings))
    per_position = valuation.by_position()
    np.testing.assert_allclose(per_position.sum(axis=0), valuation.pnl)
    np.testing.assert_allclose(valuation.by_underlying().sum(axis=0), valuation.pnl)
    names, per_account = valuation.by_account()
    assert names == ["a", "b"]
    np.testing.assert_allclose(per_account[0], per_position[0])
    np.testing.assert_allclose(per_account[1], per_position[1] + per_position[2])
    # ETH perpetual: 5 x spot move
    np.testing.assert_allclose(valuation.by_underlying()[1], 5 * 4000 * np.repeat([-0.1, 0.1], 2))


def test_vol_term_scales_shocks_and_floor_applies_to_upward_shocks(write, market_path):
    from pmargin.engine import shocked_vols
    from pmargin.scenarios import VolTerm

    book = book_of(write, market_path, "instrument,quantity\nBTC_USDC-27DEC24-90000-C,1\n")
    table = book.instruments
    dte = table.time[0] * 365
    term = VolTerm(30, 0.3, 0.13, floor=0.9)
    shocks = ScenarioSet(
        "v", ("up", "down"), vol={DEFAULT_KEY: np.array([0.5, -0.25])}, vol_term=term
    ).shocks(("BTC",))
    vols = shocked_vols(table, shocks, np.array([0]))[0]
    scale = (30 / dte) ** 0.13 if dte >= 30 else (30 / dte) ** 0.3
    assert vols[0] == pytest.approx(max(0.5 * (1 + 0.5 * scale), 0.9))
    assert vols[1] == pytest.approx(0.5 * (1 - 0.25 * scale))


def test_hot_path_kernel_agrees_with_the_reference_kernel():
    from pmargin.pricing.black76_hot import black76_valid

    rng = np.random.default_rng(3)
    n = 20000
    forward = 95000 * rng.uniform(0.2, 5.0, n)
    strike = 95000 * rng.uniform(0.3, 3.0, n)
    time = np.where(rng.random(n) < 0.05, 0.0, rng.uniform(0.0, 2.0, n))
    vol = rng.uniform(0.01, 3.0, n)
    discount = np.exp(-0.03 * time)
    is_call = rng.random(n) < 0.5
    fast = black76_valid(forward, strike, time, vol, discount, is_call)
    reference = black76_price(forward, strike, time, vol, discount, is_call)
    np.testing.assert_allclose(fast, reference, rtol=1e-10, atol=1e-9)


RATES_MARKET = """\
as_of: 2024-11-25T08:00:00Z
rate: 0.01
rates: {2025-03-28: 0.07}
underlyings:
  BTC: {spot: 100000, vol: 0.5, perpetual_price: 100500}
"""


def test_perpetual_marks_and_rates_per_expiry(write):
    rows = (
        "instrument,quantity\nBTC_USDC-PERPETUAL,1\nBTC-PERPETUAL,1\n"
        "BTC_USDC-28MAR25-90000-C,1\nBTC_USDC-27DEC24-90000-C,1\n"
    )
    book = book_of(write, write("m.yaml", RATES_MARKET), rows)
    table = book.instruments
    pnl = instrument_pnl(table, one_scenario(spot=0.1))[:, 0]
    # the linear perpetual moves from its mark; the inverse one (face 10 USD) converts its coin
    # P&L 10·(1/P − 1/P') at the scenario's spot S' = 1.1·S
    assert pnl[0] == pytest.approx(0.1 * 100500, rel=1e-12)
    coin = 10 * (1 / 100500 - 1 / (1.1 * 100500))
    assert pnl[1] == pytest.approx(coin * 1.1 * 100000, rel=1e-12)
    # each option is discounted at its expiry's rate (March quoted, December the flat rate)
    t = table.time[2:]
    expected = black76_price(
        table.forward[2:], 90000.0, t, 0.5, np.exp(-np.array([0.07, 0.01]) * t), True
    )
    np.testing.assert_allclose(table.option_prices()[2:], expected, rtol=1e-14)
    assert table.rate.tolist() == [0.01, 0.01, 0.07, 0.01]
