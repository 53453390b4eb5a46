"""VaR and ES against hand counts and an exact-arithmetic order statistic."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmargin.risk_measures import TailRisk, expected_shortfall, tail_count, value_at_risk


def test_hand_computed_on_one_hundred_scenarios():
    pnl = np.random.default_rng(0).permutation(-np.arange(1.0, 101.0))  # losses 1..100 USD
    # 95%: the 5 worst are −100..−96; VaR is the 5th worst, ES their mean
    assert value_at_risk(pnl, 0.95) == 96.0
    assert expected_shortfall(pnl, 0.95) == 98.0
    # 99%: the single worst
    assert value_at_risk(pnl, 0.99) == 100.0
    assert expected_shortfall(pnl, 0.99) == 100.0


def test_integral_tails_take_exactly_n_times_one_minus_alpha_scenarios():
    pnl = np.random.default_rng(5).normal(size=100)
    assert value_at_risk(pnl, 0.95) == -np.sort(pnl)[4]  # the 5th worst, not the 6th
    assert value_at_risk(pnl, 0.99) == -np.sort(pnl)[0]


def test_tail_counts_do_not_suffer_from_rounding():
    assert tail_count(10_000, 0.99) == 100  # 10,000 × 0.01 is 100.00000000000001 in floats
    assert tail_count(10_000, 0.95) == 500
    assert tail_count(30, 0.99) == 1  # fewer than 100 scenarios: the worst
    assert tail_count(30, 0.95) == 2  # ceil(1.5)
    with pytest.raises(ValueError):
        tail_count(10, 1.0)


def test_gains_in_the_tail_give_a_negative_var():
    assert value_at_risk(np.array([5.0, 10.0, 20.0]), 0.95) == -5.0


def test_tail_risk_bundles_the_four_numbers():
    pnl = -np.arange(1.0, 201.0)
    risk = TailRisk.of(pnl)
    assert risk.as_dict() == {"var_95": 191.0, "var_99": 199.0, "es_95": 195.5, "es_99": 199.5}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False), min_size=1, max_size=400),
    st.sampled_from([0.9, 0.95, 0.975, 0.99]),
)
def test_var_is_the_kth_worst_and_es_the_mean_of_the_k_worst(values, confidence):
    pnl = np.array(values)
    # k = ceil(n · (1 − α)) in exact arithmetic
    k = max(1, math.ceil(Fraction(len(values)) * (1 - Fraction(str(confidence)))))
    worst = sorted(values)[:k]
    var = value_at_risk(pnl, confidence)
    assert var == -worst[-1]
    es = expected_shortfall(pnl, confidence)
    assert es == pytest.approx(-math.fsum(worst) / k, rel=1e-9, abs=1e-6)
    assert es >= var - 1e-6 * max(1.0, abs(var))
    assert es <= -pnl.min() + 1e-6 * max(1.0, abs(pnl.min()))


def test_rows_of_scenarios_are_measured_along_the_last_axis():
    # row 0: losses 1..10; row 1: gains 1..10; row 2: one big loss among gains
    pnl = np.array(
        [
            -np.arange(1.0, 11.0),
            np.arange(1.0, 11.0),
            [5.0, 5.0, -50.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0],
        ]
    )
    # 80%: k = ceil(10 × 0.2) = 2 worst per row
    var = value_at_risk(pnl, 0.8)
    es = expected_shortfall(pnl, 0.8)
    assert isinstance(var, np.ndarray) and var.shape == (3,)
    assert isinstance(es, np.ndarray) and es.shape == (3,)
    np.testing.assert_array_equal(var, [9.0, -2.0, -5.0])
    np.testing.assert_array_equal(es, [9.5, -1.5, 22.5])


@settings(max_examples=50, deadline=None)
@given(
    st.integers(1, 4),
    st.integers(1, 3),
    st.integers(1, 60),
    st.sampled_from([0.5, 0.9, 0.95, 0.99]),
    st.integers(0, 2**32 - 1),
)
def test_every_row_equals_the_one_dimensional_measure(rows, depth, scenarios, confidence, seed):
    pnl = np.random.default_rng(seed).normal(size=(rows, depth, scenarios))
    var = value_at_risk(pnl, confidence)
    es = expected_shortfall(pnl, confidence)
    assert var.shape == es.shape == (rows, depth)
    for index in np.ndindex(rows, depth):
        row = pnl[index]
        assert isinstance(value_at_risk(row, confidence), float)
        assert var[index] == value_at_risk(row, confidence)
        k = max(1, math.ceil(Fraction(scenarios) * (1 - Fraction(str(confidence)))))
        assert var[index] == -np.sort(row)[k - 1]
        assert es[index] == pytest.approx(-math.fsum(np.sort(row)[:k]) / k, rel=1e-12, abs=1e-12)


def test_no_scenarios_is_an_error_in_any_shape():
    with pytest.raises(ValueError, match="no scenarios"):
        value_at_risk(np.zeros((3, 0)), 0.99)
    with pytest.raises(ValueError, match="no scenarios"):
        expected_shortfall(np.zeros(0), 0.99)
