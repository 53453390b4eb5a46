"""Reverse stress: the reported moves reach the target, no smaller move does, the joint move is
the nearest boundary point in Mahalanobis distance, and a book nothing breaks reports null.

Market (tests/conftest.py): BTC 100,000 vol 50%, ETH 4,000 vol 60%, correlation 0.8, rate 0.
"""

import numpy as np
import pytest

from pmargin import InputError, compute_margin, load_market, load_portfolio
from pmargin.book import bind
from pmargin.io.model_file import load_model
from pmargin.reverse_stress import _Gap, breakeven
from pmargin.root_search import nearest_crossing

SCENARIO_MODELS = ["deribit", "derive", "span", "tims", "standard"]
#: short puts on BTC and ETH with some cash: a crash breaks it, a rally does not
SHORT_PUTS = """\
collateral: {USD: 150000}
positions:
  - {instrument: BTC_USDC-27DEC24-95000-P, quantity: -3}
  - {instrument: ETH_USDC-27DEC24-3800-P, quantity: -40}
  - {instrument: ETH_USDC-PERPETUAL, quantity: 10, entry_price: 4000}
"""


def equity_and_maintenance(portfolio, market, model):
    result = compute_margin(portfolio, market, model)
    return result.equity, result.maintenance_margin


def moved(market, moves: dict):
    for underlying, move in moves.items():
        market = market.with_spot_scaled(underlying, 1.0 + move)
    return market


@pytest.fixture
def short_puts(write, market_path):
    return load_portfolio(write("puts.yaml", SHORT_PUTS)), load_market(market_path)


@pytest.mark.parametrize("name", [*SCENARIO_MODELS, "var"])
def test_spot_moves_reach_maintenance_and_no_smaller_move_does(short_puts, name):
    portfolio, market = short_puts
    model = load_model(name)
    result = breakeven(portfolio, market, model)
    fine = 40 if name == "var" else 150
    for underlying, moves in [*result.underlyings.items(), ("all", result.all_together)]:
        names = ["BTC", "ETH"] if underlying == "all" else [underlying]
        assert moves.down is not None, underlying  # a crash breaks short puts
        at = moved(market, dict.fromkeys(names, moves.down))
        equity, maintenance = equity_and_maintenance(portfolio, at, model)
        assert equity == pytest.approx(maintenance, rel=1e-3), underlying
        for move in np.linspace(0, moves.down, fine, endpoint=False):
            equity, maintenance = equity_and_maintenance(
                portfolio, moved(market, dict.fromkeys(names, move)), model
            )
            assert equity > maintenance, (underlying, move)


@pytest.mark.parametrize("name", SCENARIO_MODELS)
def test_the_vol_shock_reaches_maintenance_and_no_smaller_one_does(short_puts, name):
    portfolio, market = short_puts
    model = load_model(name)
    result = breakeven(portfolio, market, model)
    if name == "standard":  # standard margin of short options does not depend on vol
        assert result.vol_up is None or result.vol_up > 0
        return
    assert result.vol_up is not None
    equity, maintenance = equity_and_maintenance(
        portfolio, market.with_vol_scaled(1 + result.vol_up), model
    )
    assert equity == pytest.approx(maintenance, rel=1e-3)
    for shock in np.linspace(0, result.vol_up, 60, endpoint=False):
        equity, maintenance = equity_and_maintenance(
            portfolio, market.with_vol_scaled(1 + shock), model
        )
        assert equity > maintenance


@pytest.mark.parametrize(
    ("name", "rate"),
    [
        ("deribit", 0.8 * (0.16 + 0.01)),  # mm_factor × (16% worst case + 1% roll shock)
        ("span", 0.16),
        ("tims", 0.15),
        ("standard", 0.01 + 2 * 0.00005),  # 1% + 0.005% per BTC of the 2-BTC position
    ],
)
def test_a_long_future_breaks_where_the_closed_form_says(write, market_path, name, rate):
    # equity C + q·S·m meets maintenance = rate × q·S·(1 + m) (each model's loss on a long
    # linear future is a fixed fraction of its notional): m = (rate·qS − C) / (qS·(1 − rate))
    portfolio = load_portfolio(
        write(
            "future.yaml",
            "collateral: {USD: 100000}\npositions:\n"
            "  - {instrument: BTC_USDC-PERPETUAL, quantity: 2, entry_price: 100000}\n",
        )
    )
    result = breakeven(portfolio, load_market(market_path), load_model(name))
    notional = 2 * 100000
    expected = (rate * notional - 100000) / (notional * (1 - rate))
    assert result.underlyings["BTC"].down == pytest.approx(expected, abs=1e-8)
    assert result.underlyings["BTC"].up is None  # a long future gains on the way up
    assert result.all_together.down == pytest.approx(expected, abs=1e-8)


def test_a_loss_target_on_a_future_is_loss_over_notional(write, market_path):
    portfolio = load_portfolio(
        write("f.csv", "instrument,quantity\nBTC_USDC-PERPETUAL,2\nETH_USDC-PERPETUAL,-25\n")
    )
    result = breakeven(portfolio, load_market(market_path), load_model("deribit"), loss=50000)
    assert result.target == "loss"
    assert result.underlyings["BTC"].down == pytest.approx(-50000 / 200000, abs=1e-9)
    assert result.underlyings["ETH"].up == pytest.approx(50000 / 100000, abs=1e-9)
    # all together the two legs offset: 2 BTC long − 25 ETH short = 100,000 USD net long
    assert result.all_together.down == pytest.approx(-0.5, abs=1e-9)
    assert result.vol_up is None  # no options: vol moves nothing


def test_a_loss_target_on_an_inverse_perpetual_is_the_coin_pnl_at_the_moved_spot(
    write, market_path
):
    # short 100,000 contracts of 10 USD: coin P&L −N·10·(1/S − 1/S'), worth −N·10·m USD at
    # S' = S(1 + m), whatever the entry price (the entry fixes what is owed today, not the move)
    portfolio = load_portfolio(
        write("f.csv", "instrument,quantity,entry_price\nBTC-PERPETUAL,-100000,80000\n")
    )
    result = breakeven(portfolio, load_market(market_path), load_model("deribit"), loss=50000)
    assert result.underlyings["BTC"].up == pytest.approx(0.05, abs=1e-9)
    assert result.underlyings["BTC"].down is None


def test_a_loss_target_on_an_inverse_option_is_its_coin_pnl_at_the_moved_spot(write, market_path):
    # an inverse call's premium is coins: P&L = V(S') − V(S)·S'/S, V by Black-76 (rate 0,
    # sticky strike), computed here with scipy's normal
    from scipy.stats import norm

    portfolio = load_portfolio(write("c.csv", "instrument,quantity\nBTC-27DEC24-100000-C,10\n"))
    result = breakeven(portfolio, load_market(market_path), load_model("deribit"), loss=20000)
    years = (32 * 24 * 3600) / (365 * 24 * 3600)  # 2024-11-25 08:00 to 2024-12-27 08:00

    def call(spot):
        d1 = (np.log(spot / 100000) + 0.125 * years) / (0.5 * np.sqrt(years))
        return spot * norm.cdf(d1) - 100000 * norm.cdf(d1 - 0.5 * np.sqrt(years))

    move = result.underlyings["BTC"].down
    pnl = 10 * (call(100000 * (1 + move)) - call(100000) * (1 + move))
    assert pnl == pytest.approx(-20000, abs=1e-4)


def test_a_loss_target_counts_open_orders_as_filled_like_stress(write, market_path):
    market = load_market(market_path)
    with_order = load_portfolio(
        write(
            "o.yaml",
            "positions:\n  - {instrument: BTC_USDC-PERPETUAL, quantity: 1}\n"
            "orders:\n  - {instrument: BTC_USDC-PERPETUAL, quantity: 1, price: 99000}\n",
        )
    )
    result = breakeven(with_order, market, load_model("deribit"), loss=10000)
    assert result.underlyings["BTC"].down == pytest.approx(-10000 / 200000, abs=1e-9)


def test_the_joint_move_is_on_the_boundary_and_no_sampled_boundary_point_is_closer(short_puts):
    portfolio, market = short_puts
    model = load_model("deribit")
    result = breakeven(portfolio, market, model, horizon_days=2)
    joint = result.joint
    equity, maintenance = equity_and_maintenance(portfolio, moved(market, joint.moves), model)
    assert equity == pytest.approx(maintenance, rel=1e-3)

    # Mahalanobis distance of log returns under vols × √(2/365) and correlation 0.8
    stdev = np.array([0.5, 0.6]) * np.sqrt(2 / 365)
    covariance = np.outer(stdev, stdev) * np.array([[1, 0.8], [0.8, 1]])
    inverse = np.linalg.inv(covariance)

    def distance(moves):
        r = np.log1p(np.asarray(moves))
        return float(np.sqrt(r @ inverse @ r))

    assert joint.distance == pytest.approx(distance([joint.moves["BTC"], joint.moves["ETH"]]))
    assert joint.distance <= distance([result.all_together.down] * 2) + 1e-9
    gap = _Gap(bind(portfolio, market), model, None)
    here = gap(("BTC", "ETH"), np.zeros(2))
    for angle in np.linspace(0, 2 * np.pi, 120, endpoint=False):
        direction = np.array([np.cos(angle), np.sin(angle)])  # in log-return space
        limit = min(
            np.log(10) / max(direction.max(), 1e-12), np.log(0.01) / min(direction.min(), -1e-12)
        )
        points = np.linspace(0, limit, 200)[1:]

        def along(t, direction=direction):
            return gap(("BTC", "ETH"), np.expm1(t * direction))

        t = nearest_crossing(along, points, here=here, xtol=1e-10)
        if t is not None:
            assert distance(np.expm1(t * direction)) >= joint.distance * (1 - 1e-6), angle


def test_a_book_nothing_breaks_reports_null(write, market_path):
    portfolio = load_portfolio(
        write(
            "safe.yaml",
            "collateral: {USD: 1000000}\npositions:\n"
            "  - {instrument: BTC_USDC-27DEC24-100000-C, quantity: 1}\n"
            "  - {instrument: ETH_USDC-27DEC24-4000-P, quantity: 5}\n",
        )
    )
    result = breakeven(portfolio, load_market(market_path), load_model("deribit"))
    assert all(m.down is None and m.up is None for m in result.underlyings.values())
    assert result.all_together.down is None and result.all_together.up is None
    assert result.vol_up is None and result.vol_down is None
    assert result.joint is None


def test_an_account_already_below_maintenance_breaks_at_zero(write, market_path):
    portfolio = load_portfolio(
        write(
            "broke.yaml",
            "collateral: {USD: 1000}\npositions:\n"
            "  - {instrument: BTC_USDC-27DEC24-100000-P, quantity: -5}\n",
        )
    )
    result = breakeven(portfolio, load_market(market_path), load_model("deribit"))
    assert result.underlyings["BTC"].down == 0 and result.underlyings["BTC"].up == 0
    assert result.joint.distance == 0


def test_several_accounts_each_on_their_own(write, market_path):
    portfolio = load_portfolio(
        write(
            "accounts.csv",
            "account,instrument,quantity\na,BTC_USDC-PERPETUAL,2\nb,BTC_USDC-PERPETUAL,-1\n",
        )
    )
    market = load_market(market_path)
    result = breakeven(portfolio, market, load_model("deribit"), loss=40000)
    by_account = {a.account: a for a in result.accounts}
    assert by_account["a"].underlyings["BTC"].down == pytest.approx(-0.2, abs=1e-9)
    assert by_account["a"].underlyings["BTC"].up is None
    assert by_account["b"].underlyings["BTC"].up == pytest.approx(0.4, abs=1e-9)
    assert result.underlyings["BTC"].down == pytest.approx(-0.2, abs=1e-9)
    assert result.underlyings["BTC"].up == pytest.approx(0.4, abs=1e-9)


def test_no_collateral_and_no_loss_target_is_an_input_error(write, market_path):
    portfolio = load_portfolio(write("b.csv", "instrument,quantity\nBTC_USDC-PERPETUAL,1\n"))
    with pytest.raises(InputError, match="no collateral"):
        breakeven(portfolio, load_market(market_path), load_model("deribit"))
