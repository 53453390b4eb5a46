"""The tims model on hand-checkable books.

Market (tests/conftest.py): BTC 100,000 vol 50%, ETH 4,000 vol 60%, rate 0.
"""

import numpy as np
import pytest

from pmargin import InputError, compute_margin, load_market, load_portfolio
from pmargin.book import bind
from pmargin.io.model_file import load_model
from pmargin.pricing.black76 import black76_price

SPOT = 100000.0


def tims(write, market_path, rows: str, model: str = "tims"):
    portfolio = load_portfolio(write("book.csv", rows))
    return compute_margin(portfolio, load_market(market_path), model)


@pytest.mark.parametrize("quantity", [1, -1, 4.0])
def test_spot_position_costs_fifteen_percent_of_notional(write, market_path, quantity):
    result = tims(write, market_path, f"instrument,quantity\nBTC_USDC,{quantity}\n")
    assert result.portfolio_margin == pytest.approx(0.15 * SPOT * abs(quantity), rel=1e-12)
    assert result.maintenance_margin == pytest.approx(result.portfolio_margin)
    assert result.components["minimum_per_contract"] == 0  # spot carries no minimum
    assert result.isolated_margin == pytest.approx(result.portfolio_margin)


def test_ten_equidistant_points_with_both_ends_and_a_vol_stress():
    model = load_model("tims")
    scenarios = model.scenario_set(("BTC",))
    assert scenarios.count == 30
    points = np.unique(np.round(scenarios.spot["BTC"], 12))
    np.testing.assert_allclose(points, np.linspace(-0.15, 0.15, 10))
    assert 0.0 not in points  # 10 points from -15% to +15% skip the middle
    assert sorted(set(scenarios.vol["BTC"])) == [-0.25, 0.0, 0.25]


def test_long_put_margin_is_its_largest_repriced_loss(write, market_path):
    rows = "instrument,quantity\nBTC_USDC-28MAR25-90000-P,2\n"
    result = tims(write, market_path, rows)
    t = bind(load_portfolio(write("b.csv", rows)), load_market(market_path)).instruments.time[0]
    moves = np.linspace(-0.15, 0.15, 10)[:, None]
    vols = 0.5 * np.array([1.0, 1.25, 0.75])[None, :]
    base = black76_price(SPOT, 90000.0, t, 0.5, 1.0, False)
    repriced = black76_price(SPOT * (1 + moves), 90000.0, t, vols, 1.0, False)
    assert result.portfolio_margin == pytest.approx(2 * (base - repriced.min()), rel=1e-10)
    assert result.worst_scenario["name"] == "point 10/10, vol down -25%"


def test_per_contract_minimum_binds_on_a_low_priced_coin(write):
    market = write(
        "doge.yaml",
        """\
        as_of: 2024-11-25T08:00:00Z
        rate: 0.0
        underlyings:
          DOGE: {spot: 0.40, vol: 0.8}
        """,
    )
    rows = (
        "id,underlying,kind,expiry,strike,right,quantity\n"
        "short,DOGE,option,2024-12-27,2.0,call,-1000\n"
    )
    result = compute_margin(load_portfolio(write("d.csv", rows)), load_market(market), "tims")
    assert result.components["largest_loss"] < 0.01
    assert result.portfolio_margin == pytest.approx(1000 * 0.375)  # USD 0.375 per coin
    assert result.isolated_margin == pytest.approx(1000 * 0.375)
    # for a long option the minimum is capped at its (tiny) value
    long = compute_margin(
        load_portfolio(write("l.csv", rows.replace("-1000", "1000"))), load_market(market), "tims"
    )
    value = long.positions["value"].iloc[0]
    assert long.portfolio_margin == pytest.approx(value, rel=1e-9)
    assert 0 < long.portfolio_margin < 1.0


def test_minimum_counts_coins_per_contract_for_inverse_futures(write, market_path):
    book = bind(
        load_portfolio(
            write("i.csv", "instrument,quantity\nBTC-PERPETUAL,1\nBTC_USDC-PERPETUAL,1\n")
        ),
        load_market(market_path),
    )
    long_min, short_min = load_model("tims").unit_minimum(book.instruments)
    by_symbol = dict(zip(book.instruments.symbols, short_min))
    assert by_symbol["BTC-PERPETUAL"] == pytest.approx(0.375 * 10 / SPOT)  # face 10 USD
    assert by_symbol["BTC_USDC-PERPETUAL"] == pytest.approx(0.375)
    np.testing.assert_allclose(long_min, short_min)


def test_underlying_override_and_asymmetric_class_range(write, market_path):
    model = write(
        "my_tims.yaml",
        """\
        name: my-tims
        method: tims
        classes:
          index: {price_range: [-0.08, 0.06]}
          crypto: {price_range: 0.15}
        default_class: crypto
        per_underlying:
          BTC: {class: index}
          ETH: {price_range: 0.30}
        price_points: 10
        """,
    )
    long_btc = tims(write, market_path, "instrument,quantity\nBTC_USDC,1\n", str(model))
    short_btc = tims(write, market_path, "instrument,quantity\nBTC_USDC,-1\n", str(model))
    eth = tims(write, market_path, "instrument,quantity\nETH_USDC,1\n", str(model))
    assert long_btc.portfolio_margin == pytest.approx(0.08 * SPOT)
    assert short_btc.portfolio_margin == pytest.approx(0.06 * SPOT)
    assert eth.portfolio_margin == pytest.approx(0.30 * 4000)


def test_underlyings_are_margined_separately(write, market_path):
    rows = "instrument,quantity\nBTC_USDC,1\nETH_USDC,-25\n"
    result = tims(write, market_path, rows)
    assert result.by_underlying == pytest.approx({"BTC": 15000.0, "ETH": 0.15 * 4000 * 25})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("classes: {crypto: {price_range: 0.15}}\ndefault_class: equity", "unknown class 'equity'"),
        ("classes: {crypto: {price_range: 1.2}}", "must be below 1"),
        ("classes: {crypto: {price_range: [0.1, 0.2]}}", "down < 0 < up"),
        ("classes: {crypto: {price_range: 0.15}}\nprice_points: 2.5", "whole number"),
        ("classes: {crypto: {price_range: 0.15}}\nvol_stres: 0.2", "Did you mean `vol_stress`"),
    ],
)
def test_bad_parameters_are_reported(write, body, message):
    path = write("bad.yaml", f"name: bad\nmethod: tims\n{body}\n")
    with pytest.raises(InputError, match=message):
        load_model(str(path))


def test_underlying_without_a_class_is_reported(write, market_path):
    model = write(
        "nodefault.yaml", "name: n\nmethod: tims\nclasses: {crypto: {price_range: 0.1}}\n"
    )
    with pytest.raises(InputError, match="no class or price range for BTC"):
        tims(write, market_path, "instrument,quantity\nBTC_USDC,1\n", str(model))
