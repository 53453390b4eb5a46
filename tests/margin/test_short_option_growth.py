"""Property: margin does not fall when a short option position grows.

A book of short options of one right on one underlying (short calls lose together when spot
rises, short puts when it falls) is margined; then one of its positions is made larger. The
portfolio margin and the isolated margin must not fall under any model, whatever the strikes,
expiries, settlement and sizes (including sizes near the largest a file may hold). A position
that grows adds its own loss to the book's worst scenario, so a fall would mean a floor, a cap
or an overflow somewhere that a short seller could exploit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st

from pmargin import compute_margin, load_market
from pmargin.errors import ProblemCollector
from pmargin.io.model_file import bundled_models, load_model
from pmargin.io.position_rows import build_positions
from pmargin.portfolio import Portfolio

EXPIRIES = ("27DEC24", "28MAR25", "27JUN25")
STRIKES = (60000, 80000, 90000, 95000, 100000, 110000, 130000, 200000)
MODELS = [m for m in bundled_models() if m != "var"] + ["var"]


@pytest.fixture(scope="module")
def market():
    return load_market(SAMPLES / "market.yaml")


@pytest.fixture(scope="module")
def models():
    return {name: load_model(name) for name in MODELS}


def book(symbols: list[str], quantities: list[float]) -> Portfolio:
    frame = {"instrument": symbols, "quantity": [repr(q) for q in quantities]}
    problems = ProblemCollector()
    sources = [f"book:{i}" for i in range(len(symbols))]
    positions = build_positions(pd.DataFrame(frame, dtype=object), sources, problems)
    problems.raise_if_any()
    return Portfolio(positions, {}, "book")


positions = st.lists(
    st.tuples(
        st.sampled_from(EXPIRIES),
        st.sampled_from(STRIKES),
        st.sampled_from(("", "_USDC")),  # inverse or linear
        st.floats(0.01, 1e4),  # contracts short
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=40, deadline=None)
@given(
    positions=positions,
    right=st.sampled_from("CP"),
    grow=st.integers(0, 4),
    factor=st.floats(1.0, 1e3),
)
def test_margin_does_not_fall_when_a_short_option_grows(
    market, models, positions, right, grow, factor
):
    symbols = [f"BTC{quote}-{expiry}-{strike}-{right}" for expiry, strike, quote, _ in positions]
    before = [-size for *_, size in positions]
    after = list(before)
    after[grow % len(after)] *= factor
    for name, model in models.items():
        small = compute_margin(book(symbols, before), market, model)
        large = compute_margin(book(symbols, after), market, model)
        for key in ("portfolio_margin", "isolated_margin", "maintenance_margin"):
            low, high = getattr(small, key), getattr(large, key)
            assert np.isfinite(high)
            assert high >= low * (1 - 1e-9) - 1e-6, (name, key, low, high)
