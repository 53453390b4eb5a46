"""P&L against spot per underlying (the ``compute --plot`` chart's data)."""

from __future__ import annotations

import numpy as np
import pytest

from pmargin import load_market, load_model, load_portfolio
from pmargin.book import bind
from pmargin.profile import DEFAULT_RANGE, PLOT_SPAN, spot_profiles


def test_each_underlying_moves_alone_through_the_models_range(write, market_path):
    book = bind(
        load_portfolio(
            write("b.csv", "instrument,quantity\nBTC_USDC-PERPETUAL,2\nETH_USDC-PERPETUAL,-3\n")
        ),
        load_market(market_path),
    )
    btc, eth = spot_profiles(book, load_model("deribit"), points=9)
    assert (btc.underlying, eth.underlying) == ("BTC", "ETH")
    assert btc.model_range == pytest.approx((-0.16, 0.16))  # the full-weight grid, not extremes
    assert btc.moves.min() == pytest.approx(-0.16 * PLOT_SPAN)
    assert 0.0 in btc.moves
    # linear perpetuals: P&L = quantity × spot × move, and ETH does not move in BTC's block
    np.testing.assert_allclose(btc.pnl, 2 * 100_000 * btc.moves, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(eth.pnl, -3 * 4_000 * eth.moves, rtol=1e-12, atol=1e-9)


def test_a_model_without_scenarios_uses_the_default_range(write, market_path):
    book = bind(
        load_portfolio(write("b.csv", "instrument,quantity\nBTC-PERPETUAL,100\n")),
        load_market(market_path),
    )
    (profile,) = spot_profiles(book, load_model("standard"))
    assert profile.model_range == DEFAULT_RANGE
    inverse = 100 * 10 * (1 - 1 / (1 + profile.moves))  # coin P&L × S' of 10 USD contracts
    np.testing.assert_allclose(profile.pnl, inverse * (1 + profile.moves), rtol=1e-12, atol=1e-9)
