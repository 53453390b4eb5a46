"""The span model on hand-checkable books.

Market (tests/conftest.py): BTC 100,000 vol 50%, ETH 4,000 vol 60%, rate 0.
"""

import numpy as np
import pytest
from conftest import margin_csv

from pmargin import InputError, compute_margin, load_market, load_portfolio
from pmargin.book import bind
from pmargin.io.model_file import load_model
from pmargin.pricing.black76 import black76_price

SPOT, ETH_SPOT = 100000.0, 4000.0
BTC_SCAN, ETH_SCAN = 0.16, 0.20  # span.yaml price scan ranges
BTC_VOL_SCAN = 0.10


def span(write, market_path, rows: str, model: str = "span"):
    return margin_csv(write, market_path, rows, model)


@pytest.mark.parametrize(
    ("instrument", "quantity", "expected"),
    [
        ("BTC_USDC-PERPETUAL", 1, BTC_SCAN * SPOT),
        ("BTC_USDC-PERPETUAL", -2.5, 2.5 * BTC_SCAN * SPOT),
        ("BTC_USDC-27DEC24", 3, 3 * BTC_SCAN * SPOT),  # forward = spot at r = 0
        ("ETH_USDC-PERPETUAL", 10, 10 * ETH_SCAN * ETH_SPOT),
    ],
)
def test_one_future_costs_its_price_scan_range(write, market_path, instrument, quantity, expected):
    # the full scan move loses range × size; the 2× extreme move counts 0.35 × 2 = 0.7 of that
    result = span(write, market_path, f"instrument,quantity\n{instrument},{quantity}\n")
    assert result.portfolio_margin == pytest.approx(expected, rel=1e-12)
    assert result.maintenance_margin == pytest.approx(expected, rel=1e-12)
    assert result.components["scan_risk"] == pytest.approx(expected, rel=1e-12)
    assert result.isolated_margin == pytest.approx(expected, rel=1e-12)
    assert result.worst_scenario["name"].startswith("price " + ("-" if quantity > 0 else "+"))


def test_sixteen_scenario_pnls_of_a_long_call_equal_direct_repricing(write, market_path):
    portfolio = load_portfolio(
        write("book.csv", "instrument,quantity\nBTC_USDC-28MAR25-110000-C,1\n")
    )
    market = load_market(market_path)
    book = bind(portfolio, market)
    model = load_model("span")
    shocks, pnl = model.scenario_pnl(book.instruments, book.market)
    assert shocks.count == 16

    t = book.instruments.time[0]
    fractions = np.array([0, 0, 1, 1, -1, -1, 2, 2, -2, -2, 3, 3, -3, -3]) / 3
    price_moves = np.concatenate([fractions * BTC_SCAN, [2 * BTC_SCAN, -2 * BTC_SCAN]])
    vol_moves = np.concatenate([np.tile([BTC_VOL_SCAN, -BTC_VOL_SCAN], 7), [0.0, 0.0]])
    base = black76_price(SPOT, 110000.0, t, 0.5, 1.0, True)
    repriced = black76_price(SPOT * (1 + price_moves), 110000.0, t, 0.5 + vol_moves, 1.0, True)
    np.testing.assert_allclose(pnl[0], repriced - base, rtol=1e-10, atol=1e-8)
    np.testing.assert_allclose(shocks.weight, [1.0] * 14 + [0.35, 0.35])

    # a long call's margin is its largest counted loss; it never exceeds its premium
    counted = (repriced - base) * shocks.weight
    result = compute_margin(portfolio, market, "span")
    assert result.portfolio_margin == pytest.approx(-counted.min(), rel=1e-10)
    assert result.portfolio_margin < base


def test_scenario_names_follow_cme_order():
    names = load_model("span").scenario_names()
    assert names[:4] == (
        "price 0, vol up",
        "price 0, vol down",
        "price +1/3 range, vol up",
        "price +1/3 range, vol down",
    )
    assert names[12] == "price -1 range, vol up"
    assert names[-1] == "price -2x range, 35% cover"


def test_covered_call_costs_less_than_its_legs(write, market_path):
    rows = "instrument,quantity\nBTC_USDC,1\nBTC_USDC-28MAR25-110000-C,-1\n"
    result = span(write, market_path, rows)
    assert 0 < result.portfolio_margin < result.isolated_margin
    legs = result.positions.set_index("instrument")["isolated_margin"]
    assert legs["BTC_USDC"] == pytest.approx(BTC_SCAN * SPOT)
    # the short call's premium cushions the coin's fall: less than the coin alone
    assert result.portfolio_margin < legs["BTC_USDC"]


def test_inter_commodity_credit_for_long_btc_short_eth(write, market_path):
    # 1 BTC : 22 ETH is one spread; each leg is a future, so its weighted price risk per coin is
    # its scan range in USD, and it earns 50% of it
    hedged = span(
        write, market_path, "instrument,quantity\nBTC_USDC-PERPETUAL,1\nETH_USDC-PERPETUAL,-22\n"
    )
    btc_risk, eth_risk = BTC_SCAN * SPOT, 22 * ETH_SCAN * ETH_SPOT
    credit = 0.5 * (btc_risk + eth_risk)
    assert hedged.components["scan_risk"] == pytest.approx(btc_risk + eth_risk)
    assert hedged.components["inter_commodity_credit"] == pytest.approx(credit)
    assert hedged.portfolio_margin == pytest.approx(btc_risk + eth_risk - credit)
    assert hedged.by_underlying == pytest.approx({"BTC": 0.5 * btc_risk, "ETH": 0.5 * eth_risk})
    assert hedged.components["composite_delta_usd_ETH"] == pytest.approx(-22 * ETH_SPOT)

    same_way = span(
        write, market_path, "instrument,quantity\nBTC_USDC-PERPETUAL,1\nETH_USDC-PERPETUAL,22\n"
    )
    assert same_way.components["inter_commodity_credit"] == 0
    assert same_way.portfolio_margin == pytest.approx(btc_risk + eth_risk)


def test_credit_uses_only_the_matched_deltas(write, market_path):
    # 2 BTC against 22 ETH: one spread; the second BTC earns nothing
    result = span(
        write, market_path, "instrument,quantity\nBTC_USDC-PERPETUAL,2\nETH_USDC-PERPETUAL,-22\n"
    )
    credit = 0.5 * (BTC_SCAN * SPOT + 22 * ETH_SCAN * ETH_SPOT)
    assert result.components["inter_commodity_credit"] == pytest.approx(credit)


def test_short_option_minimum_binds_on_a_far_otm_short_option(write, market_path):
    result = span(write, market_path, "instrument,quantity\nBTC_USDC-27DEC24-20000-P,-3\n")
    minimum = 3 * 0.01 * SPOT  # 1% of spot per coin
    assert result.components["scan_risk"] < minimum / 100
    assert result.components["short_option_minimum"] == pytest.approx(minimum)
    assert result.portfolio_margin == pytest.approx(minimum)
    assert result.isolated_margin == pytest.approx(minimum)
    # a long option has no minimum
    long = span(write, market_path, "instrument,quantity\nBTC_USDC-27DEC24-20000-P,3\n")
    assert long.portfolio_margin < 1.0


def test_net_option_value_is_long_minus_short_option_value(write, market_path):
    rows = "instrument,quantity\nBTC_USDC-28MAR25-110000-C,2\nBTC_USDC-28MAR25-90000-P,-1\n"
    result = span(write, market_path, rows)
    book = bind(load_portfolio(write("b.csv", rows)), load_market(market_path))
    t = book.instruments.time[0]
    call = black76_price(SPOT, 110000.0, t, 0.5, 1.0, True)
    put = black76_price(SPOT, 90000.0, t, 0.5, 1.0, False)
    assert result.components["net_option_value"] == pytest.approx(2 * call - put, rel=1e-10)


def test_model_file_overrides_parameters(write, market_path):
    model = write(
        "my_span.yaml",
        """\
        name: my-span
        method: span
        per_underlying:
          default: {price_scan_range: 0.1, vol_scan_range: 0.05}
        extreme_move: {multiple: 3, cover: 0.5}
        """,
    )
    # the 3× extreme move at 50% cover (15%) now exceeds the 10% scan
    result = span(write, market_path, "instrument,quantity\nBTC_USDC-PERPETUAL,1\n", str(model))
    assert result.model == "my-span"
    assert result.portfolio_margin == pytest.approx(0.15 * SPOT)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "per_underlying: {BTC: {price_scan_range: 0.1, vol_scan: 0.1}}",
            "Did you mean `vol_scan_range`",
        ),
        ("per_underlying: {BTC: {price_scan_range: 1.5, vol_scan_range: 0.1}}", "must be below 1"),
        ("per_underlying: {BTC: {price_scan_range: 0.6, vol_scan_range: 0.1}}", "to zero or below"),
        (
            "per_underlying: {BTC: {price_scan_range: 0.1, vol_scan_range: 0.1}}\n"
            "inter_commodity_spreads: [{pair: [BTC, ETH], credit_rate: 1.5}]",
            "credit_rate",
        ),
        ("underlying: {}", "unknown key `underlying`"),
        (
            "per_underlying: {default: {price_scan_range: 0.1, vol_scan_range: 0.1}}\n"
            "inter_commodity_spreads: [{pair: [BTC, btc], credit_rate: 0.5}]",
            "two different underlyings",
        ),
    ],
)
def test_bad_parameters_are_reported(write, body, message):
    path = write("bad.yaml", f"name: bad\nmethod: span\n{body}\n")
    with pytest.raises(InputError, match=message) as info:
        load_model(str(path))
    assert str(path) in str(info.value)


def test_underlying_without_parameters_is_reported(write, market_path):
    model = write(
        "btc_only.yaml",
        "name: b\nmethod: span\n"
        "per_underlying: {BTC: {price_scan_range: 0.1, vol_scan_range: 0.1}}\n",
    )
    with pytest.raises(InputError, match="no SPAN parameters for ETH") as info:
        span(write, market_path, "instrument,quantity\nETH_USDC-PERPETUAL,1\n", str(model))
    assert "Add ETH (or `default`) under `per_underlying:`" in str(info.value)
