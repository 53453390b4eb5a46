"""`correlation_stress` and `vol_spike` on Monte Carlo sets, and the bundled
diversification_failure set beside its unstressed figures."""

import json
from datetime import datetime, timezone

import numpy as np
import pytest

from pmargin import load_scenarios
from pmargin.market import Market, UnderlyingMarket
from pmargin.montecarlo import MonteCarloSet, stressed_correlation

PAIRS = {("BTC", "ETH"): 0.3, ("ETH", "BTC"): 0.3}
MARKET = Market(
    as_of=datetime(2024, 11, 25, 8, tzinfo=timezone.utc),
    rate=0.0,
    underlyings={"BTC": UnderlyingMarket(100000.0, vol=0.5), "ETH": UnderlyingMarket(4000.0, 0.7)},
    correlations=PAIRS,
)


def log_moves(**options) -> np.ndarray:
    scenario_set = MonteCarloSet("mc", paths=20_000, horizon_days=2, seed=3, **options)
    return np.log1p(scenario_set.shocks(("BTC", "ETH"), MARKET).spot)


@pytest.mark.parametrize(("distribution", "df"), [("normal", None), ("student_t", 4.0)])
def test_full_correlation_stress_moves_btc_and_eth_as_one(distribution, df):
    moves = log_moves(correlation_stress=1.0, distribution=distribution, df=df)
    assert np.corrcoef(moves)[0, 1] > 0.999
    unstressed = log_moves(distribution=distribution, df=df)
    assert np.corrcoef(unstressed)[0, 1] == pytest.approx(0.3, abs=0.03)


def test_half_stress_moves_rho_halfway_to_one():
    moves = log_moves(correlation_stress=0.5)
    # ρ + s(1 − ρ) = 0.3 + 0.5 × 0.7 = 0.65; s.e. of a sample ρ ≈ (1 − ρ²)/√n ≈ 0.004
    assert np.corrcoef(moves)[0, 1] == pytest.approx(0.65, abs=0.02)


def test_the_stressed_matrix_is_the_formula_of_spec_11():
    matrix = np.array([[1.0, 0.8, -0.2], [0.8, 1.0, 0.1], [-0.2, 0.1, 1.0]])
    stressed = stressed_correlation(matrix, 0.25)
    expected = np.array([[1.0, 0.85, 0.1], [0.85, 1.0, 0.325], [0.1, 0.325, 1.0]])
    np.testing.assert_allclose(stressed, expected, rtol=0, atol=1e-15)
    assert stressed_correlation(matrix, 0.0) is matrix
    np.testing.assert_array_equal(stressed_correlation(matrix, 1.0), np.ones((3, 3)))


def test_vol_spike_scales_the_moves_and_shocks_implied_vols():
    plain = MonteCarloSet("mc", paths=500, horizon_days=2, seed=1)
    spiked = MonteCarloSet("mc", paths=500, horizon_days=2, seed=1, vol_spike=0.5)
    before, after = (s.shocks(("BTC", "ETH"), MARKET) for s in (plain, spiked))
    np.testing.assert_allclose(np.log1p(after.spot), 1.5 * np.log1p(before.spot), rtol=1e-13)
    assert np.all(after.vol == 0.5) and np.all(before.vol == 0.0)


def test_unstressed_is_the_same_set_without_the_correlation_stress():
    stressed = MonteCarloSet("mc", paths=10, horizon_days=2, correlation_stress=0.7, vol_spike=0.2)
    plain = stressed.unstressed()
    assert plain.correlation_stress == 0.0 and plain.vol_spike == 0.2 and plain.seed == 0
    assert plain.unstressed() is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("correlation_stress: 1.5", "correlation_stress: must be between 0 and 1, found 1.5"),
        ("correlation_stress: -0.1", "correlation_stress: must be ≥ 0"),
        ("vol_spike: -0.5", "vol_spike: must be ≥ 0"),
        ("correlation_strees: 1", "unknown key `correlation_strees`"),
    ],
)
def test_bad_stress_keys_are_named(cli, write, line, message):
    path = write("mc.yaml", f"kind: montecarlo\npaths: 100\n{line}\n")
    result = cli("scenarios", "show", path)
    assert result.exit_code == 2 and message in result.stderr


def test_the_bundled_set_and_its_listing():
    bundled = load_scenarios("diversification_failure")
    assert (bundled.correlation_stress, bundled.vol_spike) == (1.0, 0.5)
    assert bundled.kind == "montecarlo" and bundled.paths == 20_000


def test_scenarios_show_lists_the_stress(cli):
    data = json.loads(
        cli("scenarios", "show", "diversification_failure", "--format", "json").stdout
    )
    assert data["correlation_stress"] == 1.0 and data["vol_spike"] == 0.5


LONG_BOTH = "instrument,quantity\nBTC_USDC-PERPETUAL,1\nETH_USDC-PERPETUAL,25\n"


def test_stress_reports_var_and_es_beside_the_unstressed_figures(cli, write, market_path):
    book = write("book.csv", LONG_BOTH)
    result = cli("stress", book, "--scenario", "diversification_failure", "--format", "json")
    assert result.exit_code == 0, result.output
    entry = json.loads(result.stdout)["scenario_sets"][0]
    assert entry["correlation_stress"] == 1.0
    assert set(entry["unstressed"]) == {"var_95", "var_99", "es_95", "es_99"}

    # the unstressed figures are those of the same set with correlation_stress 0
    plain = write(
        "plain.yaml",
        "kind: montecarlo\npaths: 20000\nhorizon_days: 2\ndistribution: student_t\ndf: 4\n"
        "seed: 20241125\nvol_spike: 0.5\n",
    )
    again = cli("stress", book, "--scenario", plain, "--format", "json")
    plain_entry = json.loads(again.stdout)["scenario_sets"][0]
    assert "unstressed" not in plain_entry
    for key in ("var_95", "var_99", "es_95", "es_99"):
        assert entry["unstressed"][key] == plain_entry[key]
    # a long BTC + long ETH book loses its diversification: ρ 0.8 -> 1 raises ES
    assert entry["es_99"] > entry["unstressed"]["es_99"] > 0

    table = cli("stress", book, "--scenario", "diversification_failure").stdout
    assert "without the correlation stress (1): VaR 95%" in table
    assert "correlation adds +" in table
