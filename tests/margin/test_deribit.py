"""The deribit model on hand-checkable books, and its invariants."""

import numpy as np
import pytest
from conftest import SAMPLES
from conftest import margin_csv as margin
from hypothesis import given, settings
from hypothesis import strategies as st

from pmargin import compute_margin, load_market, load_portfolio
from pmargin.io.model_file import load_model

SPOT = 100000.0


@pytest.mark.parametrize("quantity", [1, -1, 2.5])
def test_linear_perpetual_costs_sixteen_percent(write, market_path, quantity):
    # worst grid move 16%, and every extended move counted at 0.16/|move| costs the same 16%
    result = margin(write, market_path, f"instrument,quantity\nBTC_USDC-PERPETUAL,{quantity}\n")
    assert result.portfolio_margin == pytest.approx(0.16 * SPOT * abs(quantity), rel=1e-12)
    assert result.maintenance_margin == pytest.approx(0.8 * result.portfolio_margin)
    assert result.isolated_margin == pytest.approx(result.portfolio_margin)


def test_hedged_perpetuals_net_to_zero(write, market_path):
    rows = "instrument,quantity\nBTC_USDC-PERPETUAL,1\nBTC_USDC-PERPETUAL,-1\n"
    result = margin(write, market_path, rows)
    assert result.portfolio_margin == pytest.approx(0.0, abs=1e-9)
    assert result.isolated_margin == pytest.approx(2 * 0.16 * SPOT)
    assert result.offset == pytest.approx(result.isolated_margin)


def test_underlyings_are_margined_separately_and_summed(write, market_path):
    rows = "instrument,quantity\nBTC_USDC-PERPETUAL,1\nETH_USDC-PERPETUAL,-25\n"
    result = margin(write, market_path, rows)
    # long BTC and short ETH do not offset: each underlying's worst loss counts
    assert result.by_underlying == pytest.approx({"BTC": 16000.0, "ETH": 0.16 * 4000 * 25})
    assert result.portfolio_margin == pytest.approx(32000.0)


def test_covered_call_costs_less_than_its_legs(write, market_path):
    rows = "instrument,quantity\nBTC_USDC,1\nBTC_USDC-28MAR25-110000-C,-1\n"
    result = margin(write, market_path, rows)
    assert result.portfolio_margin < result.isolated_margin
    assert result.portfolio_margin > 0


def test_long_option_margin_never_exceeds_its_premium_plus_nothing(write, market_path):
    # a long option can lose at most its value; the largest counted loss is below its premium
    result = margin(write, market_path, "instrument,quantity\nBTC_USDC-28MAR25-110000-C,1\n")
    premium = result.positions["value"].iloc[0]
    assert 0 < result.portfolio_margin <= premium + 1e-9


def test_model_scenarios_follow_the_published_parameters():
    model = load_model("deribit")
    grid, extended = model.scenario_sets()
    assert grid.count == 27
    assert sorted(set(np.round(grid.spot["*"], 6))) == pytest.approx(
        [-0.16, -0.12, -0.08, -0.04, 0.0, 0.04, 0.08, 0.12, 0.16]
    )
    assert sorted(set(grid.vol["*"])) == [-0.25, 0.0, 0.5]
    assert extended.spot["*"].tolist() == [-0.66, -0.33, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0]
    np.testing.assert_allclose(extended.weight * np.abs(extended.spot["*"]), 0.16)
    assert model.vol_term.floor == 0.5


@pytest.fixture(scope="module")
def sample():
    return load_portfolio(SAMPLES / "multi_asset.yaml"), load_market(SAMPLES / "market.yaml")


@settings(max_examples=15, deadline=None)
@given(k=st.floats(0.01, 100.0))
def test_margin_is_positively_homogeneous(sample, k):
    portfolio, market = sample
    base = compute_margin(portfolio, market)
    scaled = compute_margin(portfolio.scaled(k), market)
    assert scaled.portfolio_margin == pytest.approx(k * base.portfolio_margin, rel=1e-9)
    assert scaled.isolated_margin == pytest.approx(k * base.isolated_margin, rel=1e-9)
    assert scaled.equity == pytest.approx(k * base.equity, rel=1e-9)


@pytest.mark.parametrize(
    "path",
    [
        "hedged_btc_options.csv",
        "multi_asset.yaml",
        "naked_short_options.csv",
    ],
)
def test_isolated_is_at_least_portfolio_margin(path):
    result = compute_margin(load_portfolio(SAMPLES / path), load_market(SAMPLES / "market.yaml"))
    assert result.portfolio_margin >= 0
    assert result.isolated_margin >= result.portfolio_margin - 1e-6
    assert np.isfinite(result.positions[["value", "delta", "gamma", "vega", "theta"]]).all().all()


def test_hedged_sample_saves_most_of_its_isolated_margin():
    result = compute_margin(
        load_portfolio(SAMPLES / "hedged_btc_options.csv"),
        load_market(SAMPLES / "market.yaml"),
    )
    assert result.portfolio_margin < 0.5 * result.isolated_margin


def test_orders_are_margined_as_if_filled_when_that_is_worse(write, market_path):
    path = write(
        "book.yaml",
        """\
        collateral: {USD: 100000}
        positions:
          - {instrument: BTC_USDC-PERPETUAL, quantity: 1}
        orders:
          - {instrument: BTC_USDC-PERPETUAL, quantity: 2, price: 99000}
          - {instrument: BTC_USDC-PERPETUAL, quantity: -0.5, price: 101000}
        """,
    )
    result = compute_margin(load_portfolio(path), load_market(market_path))
    assert result.portfolio_margin == pytest.approx(0.16 * SPOT * 2.5)
    assert result.equity == pytest.approx(100000.0)  # unfilled orders carry no value
    hedging = write(
        "hedge.yaml",
        """\
        positions:
          - {instrument: BTC_USDC-PERPETUAL, quantity: 1}
        orders:
          - {instrument: BTC_USDC-PERPETUAL, quantity: -1, price: 101000}
        """,
    )
    # a reducing order does not lower the margin: the unfilled case is worse
    result = compute_margin(load_portfolio(hedging), load_market(market_path))
    assert result.portfolio_margin == pytest.approx(0.16 * SPOT)


def test_status_from_equity(write, market_path):
    def status(cash):
        path = write(
            "a.yaml",
            f"collateral: {{USD: {cash}}}\npositions:\n"
            "  - {instrument: BTC_USDC-PERPETUAL, quantity: 1}\n",
        )
        return compute_margin(load_portfolio(path), load_market(market_path)).status

    assert status(20000) == "ok"
    assert status(14000) == "margin_call"  # below IM 16,000, above MM 12,800
    assert status(12000) == "liquidation"
