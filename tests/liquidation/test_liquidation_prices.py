"""Liquidation prices: the spot of one underlying at which equity = maintenance margin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pmargin import compute_margin, liquidation_prices, load_market, load_portfolio
from pmargin.errors import InputError

SAMPLES = Path(__file__).resolve().parents[2] / "sample_portfolios"
MODELS = ["deribit", "span", "tims", "standard"]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("moved", [1.0, 0.75])
def test_compute_on_a_market_moved_to_the_price_puts_equity_at_maintenance_margin(
    short_puts, sample_market, model, moved
):
    market = sample_market.with_spot_scaled("BTC", moved)
    prices = liquidation_prices(short_puts, market, model)
    assert set(prices) == {"BTC"}
    found = [p for p in (prices["BTC"].down, prices["BTC"].up) if p is not None]
    assert found
    for price in found:
        at_price = market.with_spot_scaled("BTC", price / market.spot("BTC"))
        at = compute_margin(short_puts, at_price, model)
        assert at.equity == pytest.approx(at.maintenance_margin, rel=1e-3)
        # and it is a boundary: liquidation on one side, not on the other
        sides = {
            compute_margin(
                short_puts, market.with_spot_scaled("BTC", f * price / market.spot("BTC")), model
            ).status
            == "liquidation"
            for f in (0.99, 1.01)
        }
        assert sides == {True, False}


def test_the_sample_is_liquidated_by_a_fall_of_about_a_fifth(short_puts, sample_market):
    price = liquidation_prices(short_puts, sample_market, "deribit")["BTC"]
    assert price.up is None
    assert -0.25 < price.distance_down < -0.15
    assert price.distance_down == pytest.approx(price.down / 95000 - 1, rel=1e-12)
    # between the spot and the liquidation price the account is not in liquidation
    halfway = sample_market.with_spot_scaled("BTC", 1 + price.distance_down / 2)
    assert compute_margin(short_puts, halfway).status != "liquidation"


def test_the_nearest_price_is_reported_from_inside_liquidation(short_puts, sample_market):
    crashed = sample_market.with_spot_scaled("BTC", 0.75)
    price = liquidation_prices(short_puts, crashed, "deribit")["BTC"]
    assert price.down is None and price.distance_up > 0
    assert price.up == pytest.approx(
        liquidation_prices(short_puts, sample_market, "deribit")["BTC"].down, rel=1e-6
    )


SAFE = """\
account: safe
collateral: {USD: 50000}
positions:
  - {instrument: BTC-27DEC24-100000-C, quantity: 2}
  - {instrument: ETH_USDC-27DEC24-4000-P, quantity: 5}
"""


@pytest.mark.parametrize("model", ["deribit", "span", "tims", "standard"])
def test_a_book_no_move_can_liquidate_reports_null(write, market_path, model):
    """Long options and cash: equity ≥ the options' value ≥ any loss they can make."""
    portfolio = load_portfolio(write("safe.yaml", SAFE))
    prices = liquidation_prices(portfolio, load_market(market_path), model)
    assert set(prices) == {"BTC", "ETH"}
    for price in prices.values():
        assert price.as_dict() == {
            "down": None,
            "up": None,
            "distance_down": None,
            "distance_up": None,
        }


def test_compute_shows_liquidation_prices_beside_the_status(cli, short_puts):
    samples = SAMPLES
    data = cli("compute", samples / "short_puts_btc.yaml", "--format", "json")
    assert data.exit_code == 0, data.stderr
    printed = json.loads(data.stdout)["liquidation_prices"]
    assert set(printed["BTC"]) == {"down", "up", "distance_down", "distance_up"}
    assert printed["BTC"]["down"] == pytest.approx(
        liquidation_prices(short_puts, load_market(samples / "market.yaml"))["BTC"].down
    )
    table = cli("compute", samples / "short_puts_btc.yaml")
    assert "liquidation price BTC" in table.stdout
    no_collateral = cli("compute", samples / "hedged_btc_options.csv", "--format", "json")
    assert json.loads(no_collateral.stdout)["liquidation_prices"] is None


def test_an_account_without_collateral_has_no_liquidation_price(write, market_path):
    portfolio = load_portfolio(write("book.csv", "instrument,quantity\nBTC-PERPETUAL,100\n"))
    with pytest.raises(InputError, match="no collateral"):
        liquidation_prices(portfolio, load_market(market_path), "deribit")


def test_with_spot_scaled_moves_one_underlying_and_its_forwards(sample_market):
    moved = sample_market.with_spot_scaled("BTC", 0.5)
    btc, before = moved.underlyings["BTC"], sample_market.underlyings["BTC"]
    assert btc.spot == 47500
    assert all(btc.forwards[e] == 0.5 * f for e, f in before.forwards.items())
    assert btc.smile is before.smile and btc.vol == before.vol
    assert moved.underlyings["ETH"] is sample_market.underlyings["ETH"]
    with pytest.raises(ValueError):
        sample_market.with_spot_scaled("BTC", 0.0)
