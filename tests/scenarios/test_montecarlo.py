"""Monte Carlo sets: reproducible, with the market's vols and correlations; bad input named."""

from datetime import datetime, timezone

import numpy as np
import pytest

from pmargin import load_market, load_scenarios
from pmargin.errors import InputError, MarketDataError
from pmargin.market import Market, UnderlyingMarket
from pmargin.montecarlo import MonteCarloSet, correlation_factor

CORRELATION = {("BTC", "ETH"): 0.85, ("BTC", "SOL"): 0.6, ("ETH", "SOL"): 0.7}


def market(correlations=CORRELATION, **underlyings) -> Market:
    vols = underlyings or {"BTC": 0.5, "ETH": 0.7, "SOL": 0.9}
    pairs = {**correlations, **{(b, a): rho for (a, b), rho in correlations.items()}}
    return Market(
        as_of=datetime(2024, 11, 25, 8, tzinfo=timezone.utc),
        rate=0.0,
        underlyings={u: UnderlyingMarket(spot=100.0, vol=v) for u, v in vols.items()},
        correlations=pairs,
        source="m.yaml",
    )


UNDERLYINGS = ("BTC", "ETH", "SOL")


def test_the_same_seed_gives_the_same_numbers_and_another_seed_others():
    first = MonteCarloSet("mc", paths=500, horizon_days=2, seed=7).shocks(UNDERLYINGS, market())
    again = MonteCarloSet("mc", paths=500, horizon_days=2, seed=7).shocks(UNDERLYINGS, market())
    other = MonteCarloSet("mc", paths=500, horizon_days=2, seed=8).shocks(UNDERLYINGS, market())
    np.testing.assert_array_equal(first.spot, again.spot)
    assert not np.allclose(first.spot, other.spot)
    assert first.names[0] == "path 1" and first.count == 500


@pytest.mark.parametrize(("distribution", "df"), [("normal", None), ("student_t", 8.0)])
def test_sample_correlation_and_vol_match_the_market(distribution, df):
    paths, horizon = 40_000, 2.0
    scenario_set = MonteCarloSet(
        "mc", paths=paths, horizon_days=horizon, distribution=distribution, df=df, seed=1
    )
    shocks = scenario_set.shocks(UNDERLYINGS, market())
    log_returns = np.log1p(shocks.spot)  # the draw before exp(r) − 1
    sample = np.corrcoef(log_returns)
    # the standard error of a sample correlation is about (1 − ρ²)/√n for normal draws (0.0014
    # at ρ = 0.85); fat t tails widen it by about half. Allow 4 such errors.
    widening = 1.0 if distribution == "normal" else 1.5
    for (a, b), rho in CORRELATION.items():
        i, j = UNDERLYINGS.index(a), UNDERLYINGS.index(b)
        error = widening * (1 - rho**2) / np.sqrt(paths)
        assert sample[i, j] == pytest.approx(rho, abs=4 * error)
    expected_sd = np.array([0.5, 0.7, 0.9]) * np.sqrt(horizon / 365.0)
    # the standard error of a sample sd is about sd·√((κ − 1)/(4n)); κ = 3 normal, 4.5 for t(8)
    np.testing.assert_allclose(log_returns.std(axis=1), expected_sd, rtol=0.02)
    assert np.all(np.abs(log_returns.mean(axis=1)) < 4 * expected_sd / np.sqrt(paths))


def test_student_t_has_fat_tails():
    def kurtosis(distribution, df=None):
        s = MonteCarloSet("mc", 40_000, 1.0, distribution=distribution, df=df, seed=3)
        x = np.log1p(s.shocks(("BTC",), market({}, BTC=0.6)).spot[0])
        return np.mean((x - x.mean()) ** 4) / x.var() ** 2

    assert kurtosis("normal") == pytest.approx(3.0, abs=0.15)
    assert kurtosis("student_t", 5.0) > 5.0  # t(5) excess kurtosis is 6


def test_perfect_correlation_is_singular_but_allowed():
    shocks = MonteCarloSet("mc", 1000, 1.0).shocks(
        ("BTC", "ETH"), market({("BTC", "ETH"): 1.0}, BTC=0.5, ETH=0.5)
    )
    np.testing.assert_allclose(shocks.spot[0], shocks.spot[1], atol=1e-12)


def test_correlation_factor_reproduces_the_matrix():
    matrix = np.array([[1.0, 0.85, 0.6], [0.85, 1.0, 0.7], [0.6, 0.7, 1.0]])
    factor = correlation_factor(matrix)
    np.testing.assert_allclose(factor @ factor.T, matrix, atol=1e-14)


def test_the_smile_gives_the_30_day_atm_vol(write):
    path = write(
        "m.yaml",
        """\
        as_of: 2024-11-25T08:00:00Z
        underlyings:
          BTC:
            spot: 100000
            smile: {2024-12-25: {80000: 0.7, 100000: 0.5, 120000: 0.6}}
        """,
    )
    shocks = MonteCarloSet("mc", 20_000, 365.0, seed=2).shocks(("BTC",), load_market(path))
    # one smile slice 30 days out: the ATM (forward = spot at rate 0) vol is 0.5
    assert np.log1p(shocks.spot[0]).std() == pytest.approx(0.5, rel=0.02)


def test_a_non_psd_correlation_matrix_is_an_error_that_says_so():
    bad = {("BTC", "ETH"): 0.9, ("BTC", "SOL"): 0.9, ("ETH", "SOL"): -0.9}
    with pytest.raises(MarketDataError) as caught:
        MonteCarloSet("mc", 10, 1.0).shocks(UNDERLYINGS, market(bad))
    message = str(caught.value)
    assert message.startswith("m.yaml: correlations: the correlation matrix of BTC, ETH, SOL")
    assert "is not positive semi-definite (smallest eigenvalue -" in message


def test_missing_pairs_and_vols_are_all_named():
    partial = market({("BTC", "ETH"): 0.8}, BTC=0.5, ETH=0.6, SOL=0.9)
    with pytest.raises(MarketDataError) as caught:
        MonteCarloSet("mc", 10, 1.0).shocks(UNDERLYINGS, partial)
    message = str(caught.value)
    assert "m.yaml: correlations.BTC.SOL: no correlation between BTC and SOL" in message
    assert "m.yaml: correlations.ETH.SOL" in message
    no_vol = Market(
        as_of=datetime(2024, 11, 25, tzinfo=timezone.utc),
        rate=0.0,
        underlyings={"BTC": UnderlyingMarket(spot=1.0)},
        source="m.yaml",
    )
    with pytest.raises(MarketDataError, match=r"m.yaml: underlyings.BTC.vol: no vol or smile"):
        MonteCarloSet("mc", 10, 1.0).shocks(("BTC",), no_vol)


def test_loads_from_yaml(write):
    path = write(
        "mc.yaml",
        "kind: montecarlo\npaths: 250\nhorizon_days: 2\ndistribution: student_t\ndf: 4\nseed: 7\n",
    )
    s = load_scenarios(path)
    assert (s.name, s.paths, s.horizon_days, s.distribution, s.df, s.seed, s.count) == (
        "mc",
        250,
        2.0,
        "student_t",
        4.0,
        7,
        250,
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("paths: 0\n", "mc.yaml: paths: must be a whole number ≥ 1, found 0"),
        ("paths: -5\n", "mc.yaml: paths: must be a whole number ≥ 1"),
        ("paths: 2.5\n", "mc.yaml: paths: must be a whole number"),
        ("horizon_days: 2\n", "mc.yaml: paths: missing"),
        ("paths: 10\nhorizon_days: 0\n", "mc.yaml: horizon_days: must be > 0"),
        ("paths: 10\ndistribution: cauchy\n", "mc.yaml: distribution: unknown distribution"),
        ("paths: 10\ndistribution: student_t\n", "mc.yaml: df: missing for student_t"),
        ("paths: 10\ndistribution: student_t\ndf: 2\n", "mc.yaml: df: must be > 2"),
        ("paths: 10\ndf: 4\n", "mc.yaml: df: only applies to `distribution: student_t`"),
        ("paths: 10\nseed: -1\n", "mc.yaml: seed: must be a whole number ≥ 0"),
        ("paths: 10\npath: 3\n", "mc.yaml: unknown key `path`. Did you mean `paths`?"),
        ("paths: 2000000\n", "mc.yaml: paths: at most 1,000,000 paths"),
    ],
)
def test_bad_montecarlo_files_name_the_file_and_key(write, body, expected):
    with pytest.raises(InputError) as caught:
        load_scenarios(write("mc.yaml", "kind: montecarlo\n" + body))
    assert expected in str(caught.value)


def test_unknown_kind_lists_the_kinds(write):
    with pytest.raises(InputError) as caught:
        load_scenarios(write("s.yaml", "kind: bootstrap\n"))
    assert "s.yaml: kind: unknown kind 'bootstrap'" in str(caught.value)
    assert "explicit, grid, historical, montecarlo" in str(caught.value)
