"""Tests for the Black-76 kernels in :mod:`pmargin.pricing.black76`."""

from __future__ import annotations

import math
import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pmargin.pricing.black76 import Greeks, black76_greeks, black76_price, implied_vol

# --------------------------------------------------------------------------------------
# helpers / strategies
# --------------------------------------------------------------------------------------


@contextmanager
def strict_fp():
    """Turn every Python warning and every numpy floating-point error into an exception."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            yield


def fwd_from_spot(spot, rate, carry, time):
    """Forward for a cost-of-carry ``b`` underlying: F = S exp(b T)."""
    return spot * math.exp(carry * time)


forwards = st.floats(1.0, 1e6, allow_nan=False, allow_infinity=False)
ratios = st.floats(0.3, 3.0, allow_nan=False, allow_infinity=False)
times = st.floats(0.01, 3.0, allow_nan=False, allow_infinity=False)
vols = st.floats(0.05, 2.0, allow_nan=False, allow_infinity=False)
rates = st.floats(-0.02, 0.1, allow_nan=False, allow_infinity=False)
flags = st.booleans()

FD_SETTINGS = settings(max_examples=300, deadline=None)

#: rounding slack for bounds that hold exactly in real arithmetic: the kernel's
#: ``df * N(d1)`` and the test's ``exp(-r t)`` are two roundings of the same number, so a delta
#: whose N(d1) rounds to 1 (deep ITM) may pass ``df`` by one unit in the last place; likewise a
#: price at its no-arbitrage bound. 8 ulps of the bound is far below any real error.
ULPS = 8 * np.finfo(float).eps


# --------------------------------------------------------------------------------------
# golden values from textbooks
# --------------------------------------------------------------------------------------

# (id, F, K, T, r, sigma, is_call, expected, decimals printed by the source)
_S42 = fwd_from_spot(42.0, 0.10, 0.10, 0.5)
GOLDEN_PRICES = [
    # Hull, "Options, Futures and Other Derivatives", Black's model for futures options:
    # European put, F0 = K = 20, r = 9 %, T = 4 months, sigma = 25 %  ->  p = 1.12.
    ("hull_futures_put", 20.0, 20.0, 4.0 / 12.0, 0.09, 0.25, False, 1.12, 2),
    # Hull, OFOD, Example 15.6 (Black-Scholes-Merton): S0 = 42, K = 40, r = 10 %,
    # sigma = 20 %, T = 0.5  ->  c = 4.76, p = 0.81.  Via Black-76 with F = S exp(rT).
    ("hull_15_6_call", _S42, 40.0, 0.5, 0.10, 0.20, True, 4.76, 2),
    ("hull_15_6_put", _S42, 40.0, 0.5, 0.10, 0.20, False, 0.81, 2),
    # Haug, "The Complete Guide to Option Pricing Formulas" (2nd ed.), ch. 1, Black (1976)
    # options on futures: F = 19, K = 19, T = 0.75, r = 10 %, sigma = 28 %  ->  p = 1.7011.
    ("haug_black76_put", 19.0, 19.0, 0.75, 0.10, 0.28, False, 1.7011, 4),
    # Haug (2007), ch. 1, Black-Scholes (1973) stock option: S = 60, K = 65, T = 0.25,
    # r = 8 %, sigma = 30 %  ->  c = 2.1334.  F = S exp(rT).
    ("haug_bs_call", fwd_from_spot(60.0, 0.08, 0.08, 0.25), 65.0, 0.25, 0.08, 0.30, True,
     2.1334, 4),
    # Haug (2007), ch. 1, Merton (1973) index option with dividend yield: S = 100, K = 95,
    # T = 0.5, r = 10 %, q = 5 %, sigma = 20 %  ->  p = 2.4648.  F = S exp((r - q)T).
    ("haug_merton_put", fwd_from_spot(100.0, 0.10, 0.05, 0.5), 95.0, 0.5, 0.10, 0.20, False,
     2.4648, 4),
    # Haug (2007), ch. 1, Garman-Kohlhagen (1983) currency option: S = 1.56, K = 1.60,
    # T = 0.5, r = 6 %, rf = 8 %, sigma = 12 %  ->  c = 0.0291.  F = S exp((r - rf)T).
    ("haug_gk_call", fwd_from_spot(1.56, 0.06, -0.02, 0.5), 1.60, 0.5, 0.06, 0.12, True,
     0.0291, 4),
]  # fmt: skip


@pytest.mark.parametrize(
    ("forward", "strike", "time", "rate", "vol", "is_call", "expected", "decimals"),
    [row[1:] for row in GOLDEN_PRICES],
    ids=[row[0] for row in GOLDEN_PRICES],
)
def test_golden_prices(forward, strike, time, rate, vol, is_call, expected, decimals):
    value = black76_price(forward, strike, time, vol, math.exp(-rate * time), is_call)
    # Agreement to the number of decimals the source prints.
    assert abs(value - expected) <= 0.5 * 10.0**-decimals


# Greeks from Haug (2007), ch. 2 (Black-Scholes-Merton greeks).  The same numbers are used
# in QuantLib's test-suite (europeanoption.cpp, testGreekValues), which credits Haug.
# Haug's greeks are in the spot parametrisation with cost of carry b (F = S exp(bT)); they
# are mapped onto our forward-parametrised greeks with the chain rule where needed.


def test_golden_delta_haug_futures_option():
    # Haug: futures option (b = 0, so spot delta == forward delta): F = 105, K = 100,
    # T = 0.5, r = 10 %, sigma = 36 %  ->  call delta 0.5946, put delta -0.3566.
    g = black76_greeks(105.0, 100.0, 0.5, 0.36, 0.10, np.array([True, False]))
    np.testing.assert_allclose(g.delta, [0.5946, -0.3566], rtol=0, atol=0.5e-4)


def test_golden_gamma_and_vega_haug():
    # Haug: S = 55, K = 60, T = 0.75, r = b = 10 %, sigma = 30 %  ->  gamma 0.0278 (call and
    # put), vega 18.9358 (call and put).  Spot gamma = exp(2bT) * forward gamma; vega is the
    # same in both parametrisations.
    spot, strike, time, rate, vol = 55.0, 60.0, 0.75, 0.10, 0.30
    forward = fwd_from_spot(spot, rate, rate, time)
    for is_call in (True, False):
        g = black76_greeks(forward, strike, time, vol, rate, is_call)
        assert abs(g.gamma * math.exp(2 * rate * time) - 0.0278) <= 0.5e-4
        assert abs(g.vega - 18.9358) <= 0.5e-4


def test_golden_theta_haug():
    # Haug: put, S = 430, K = 405, T = 1/12, r = 7 %, q = 5 % (b = 2 %), sigma = 20 %
    # ->  theta -31.1924 per year with S fixed.  With F = S exp(bT), dF/dt|S = -b F, so
    # theta_spot = theta_forward - b F delta_forward.
    spot, strike, time, rate, carry, vol = 430.0, 405.0, 1.0 / 12.0, 0.07, 0.02, 0.20
    forward = fwd_from_spot(spot, rate, carry, time)
    g = black76_greeks(forward, strike, time, vol, rate, False)
    assert abs(g.theta - carry * forward * g.delta - (-31.1924)) <= 0.5e-4


def test_golden_rho_haug():
    # Haug: call, S = 72, K = 75, T = 1, r = b = 9 %, sigma = 19 %  ->  rho 38.7325 with S
    # fixed.  With F = S exp(rT), dF/dr|S = T F, so rho_spot = rho_forward + T F delta.
    spot, strike, time, rate, vol = 72.0, 75.0, 1.0, 0.09, 0.19
    forward = fwd_from_spot(spot, rate, rate, time)
    g = black76_greeks(forward, strike, time, vol, rate, True)
    assert abs(g.rho + time * forward * g.delta - 38.7325) <= 0.5e-4


# --------------------------------------------------------------------------------------
# QuantLib cross-check
# --------------------------------------------------------------------------------------

QL_FORWARDS = [1.0, 97.0, 30_000.0, 1e6]
QL_RATIOS = [0.3, 0.7, 0.95, 1.0, 1.3, 3.0]
QL_TIMES = [0.01, 0.25, 1.0, 3.0]
QL_VOLS = [0.05, 0.3, 1.0, 2.0]
QL_RATES = [-0.02, 0.0, 0.05, 0.1]


def _ql_grid():
    grid = np.array(
        np.meshgrid(QL_FORWARDS, QL_RATIOS, QL_TIMES, QL_VOLS, QL_RATES, [1.0, 0.0])
    ).reshape(6, -1)
    f, ratio, t, sigma, r, call = grid
    return f, f * ratio, t, sigma, r, call.astype(bool)


def test_price_matches_quantlib_black_formula():
    ql = pytest.importorskip("QuantLib")
    f, k, t, sigma, r, call = _ql_grid()
    df = np.exp(-r * t)
    ours = black76_price(f, k, t, sigma, df, call)
    theirs = np.array(
        [
            ql.blackFormula(ql.Option.Call if c else ql.Option.Put, kk, ff, s * math.sqrt(tt), d)
            for ff, kk, tt, s, d, c in zip(f, k, t, sigma, df, call, strict=True)
        ]
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-10)


def test_greeks_match_quantlib_black_calculator():
    ql = pytest.importorskip("QuantLib")
    f, k, t, sigma, r, call = _ql_grid()
    g = black76_greeks(f, k, t, sigma, r, call)
    rows = []
    for ff, kk, tt, s, rr, c in zip(f, k, t, sigma, r, call, strict=True):
        payoff = ql.PlainVanillaPayoff(ql.Option.Call if c else ql.Option.Put, kk)
        calc = ql.BlackCalculator(payoff, ff, s * math.sqrt(tt), math.exp(-rr * tt))
        # BlackCalculator.theta(spot, T) is the spot-fixed theta per year; with spot == forward
        # (zero carry) it coincides with the forward-fixed theta we define.
        rows.append((calc.deltaForward(), calc.gammaForward(), calc.vega(tt), calc.theta(ff, tt)))
    delta, gamma, vega, theta = np.array(rows).T
    # Compare each greek relative to its natural scale so that values that underflow for
    # deep OTM options are held to an absolute standard.
    sd = sigma * np.sqrt(t)
    df = np.exp(-r * t)
    checks = [
        ("delta", g.delta, delta, df),
        ("gamma", g.gamma, gamma, df / (f * sd)),
        ("vega", g.vega, vega, df * f * np.sqrt(t)),
        ("theta", g.theta, theta, df * f * (sd / t + np.abs(r))),
    ]
    for name, ours, theirs, scale in checks:
        err = np.abs(ours - theirs)
        bad = err > 1e-9 * np.abs(theirs) + 1e-11 * scale
        assert not bad.any(), (name, ours[bad][:5], theirs[bad][:5])


# --------------------------------------------------------------------------------------
# greeks against finite differences of the price
# --------------------------------------------------------------------------------------


def _price_r(f, k, t, sigma, r, call):
    return black76_price(f, k, t, sigma, math.exp(-r * t), call)


def _assert_close(name, analytic, numeric, scale, rel=1e-5, abs_=1e-6):
    err = abs(analytic - numeric)
    assert err <= rel * abs(analytic) + abs_ * scale, (name, analytic, numeric, scale)


@FD_SETTINGS
@given(f=forwards, ratio=ratios, t=times, sigma=vols, r=rates, call=flags)
def test_greeks_match_finite_differences(f, ratio, t, sigma, r, call):
    k = f * ratio
    sd = sigma * math.sqrt(t)
    df = math.exp(-r * t)
    g = black76_greeks(f, k, t, sigma, r, call)
    assert isinstance(g, Greeks)
    v0 = _price_r(f, k, t, sigma, r, call)

    # delta and gamma: bumps in F proportional to the distribution width F * sd.
    h = 1e-4 * f * sd
    fd_delta = (_price_r(f + h, k, t, sigma, r, call) - _price_r(f - h, k, t, sigma, r, call)) / (
        2 * h
    )
    _assert_close("delta", g.delta, fd_delta, df)

    h = 1e-3 * f * sd
    fd_gamma = (
        _price_r(f + h, k, t, sigma, r, call) - 2 * v0 + _price_r(f - h, k, t, sigma, r, call)
    ) / h**2
    _assert_close("gamma", g.gamma, fd_gamma, df / (f * sd), rel=1e-4)

    # vega: bump in sigma.
    h = 1e-4 * sigma
    fd_vega = (_price_r(f, k, t, sigma + h, r, call) - _price_r(f, k, t, sigma - h, r, call)) / (
        2 * h
    )
    _assert_close("vega", g.vega, fd_vega, df * f * math.sqrt(t))

    # theta = dV/dt = -dV/dT, with the discount factor exp(-r T) recomputed at each T.
    h = 1e-4 * t
    fd_theta = -(_price_r(f, k, t + h, sigma, r, call) - _price_r(f, k, t - h, sigma, r, call)) / (
        2 * h
    )
    _assert_close("theta", g.theta, fd_theta, df * f * (sd / t + abs(r)))

    # rho: bump in r with F held fixed.
    h = 1e-5
    fd_rho = (_price_r(f, k, t, sigma, r + h, call) - _price_r(f, k, t, sigma, r - h, call)) / (
        2 * h
    )
    _assert_close("rho", g.rho, fd_rho, t * df * f)
    assert g.rho == pytest.approx(-t * v0, rel=1e-12, abs=1e-300)


@FD_SETTINGS
@given(f=forwards, ratio=ratios, t=times, sigma=vols, r=rates)
def test_greek_signs(f, ratio, t, sigma, r):
    call = black76_greeks(f, f * ratio, t, sigma, r, True)
    put = black76_greeks(f, f * ratio, t, sigma, r, False)
    df = math.exp(-r * t)
    slack = ULPS * df
    assert 0.0 <= call.delta <= df + slack
    assert -df - slack <= put.delta <= 0.0
    assert call.gamma >= 0.0 and put.gamma >= 0.0
    assert call.vega >= 0.0 and put.vega >= 0.0
    # delta parity, identical gamma and vega for calls and puts
    assert call.delta - put.delta == pytest.approx(df, rel=1e-12)
    assert call.gamma == pytest.approx(put.gamma, rel=1e-12, abs=1e-300)
    assert call.vega == pytest.approx(put.vega, rel=1e-12, abs=1e-300)


@given(f=forwards, ratio=ratios, t=times, sigma=vols, call=flags)
def test_theta_negative_for_long_option_at_zero_rate(f, ratio, t, sigma, call):
    g = black76_greeks(f, f * ratio, t, sigma, 0.0, call)
    assert g.theta <= 0.0


# --------------------------------------------------------------------------------------
# put-call parity
# --------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    f=forwards,
    ratio=st.floats(1e-3, 1e3),
    t=st.floats(0.0, 10.0),
    sigma=st.floats(0.0, 5.0),
    r=rates,
)
def test_put_call_parity(f, ratio, t, sigma, r):
    k = f * ratio
    df = math.exp(-r * t)
    c = black76_price(f, k, t, sigma, df, True)
    p = black76_price(f, k, t, sigma, df, False)
    assert c - p == pytest.approx(df * (f - k), abs=1e-12 * (f + k))


@settings(max_examples=500, deadline=None)
@given(
    f=forwards,
    ratio=st.floats(1e-4, 1e4),
    t=st.floats(0.0, 10.0),
    sigma=st.floats(0.0, 5.0),
    r=rates,
    call=flags,
)
def test_price_within_no_arbitrage_bounds(f, ratio, t, sigma, r, call):
    k = f * ratio
    df = math.exp(-r * t)
    v = black76_price(f, k, t, sigma, df, call)
    upper = df * (f if call else k)
    slack = ULPS * upper
    assert _intrinsic(f, k, df, call) - slack <= v <= upper + slack


@pytest.mark.parametrize(
    ("forward", "strike", "time", "vol", "is_call"),
    [
        # Inputs where the raw closed form lands a few ulps below intrinsic value.
        (100.0, 44.0, 1.0, 0.1, True),
        (100.0, 85.0, 0.01, 0.2, True),
        (100.0, 129.0, 0.1, 0.1, False),
        (100.0, 151.0, 1.0, 0.05, False),
    ],
)
def test_price_never_below_intrinsic_through_rounding(forward, strike, time, vol, is_call):
    v = black76_price(forward, strike, time, vol, 1.0, is_call)
    assert v >= _intrinsic(forward, strike, 1.0, is_call)


def test_put_call_parity_vectorised():
    rng = np.random.default_rng(7)
    n = 5_000
    f = np.exp(rng.uniform(0.0, np.log(1e6), n))
    k = f * np.exp(rng.uniform(np.log(0.3), np.log(3.0), n))
    t = rng.uniform(0.01, 3.0, n)
    sigma = rng.uniform(0.05, 2.0, n)
    df = np.exp(-rng.uniform(-0.02, 0.1, n) * t)
    diff = black76_price(f, k, t, sigma, df, True) - black76_price(f, k, t, sigma, df, False)
    np.testing.assert_allclose(diff, df * (f - k), rtol=0, atol=1e-12 * np.max(f + k))


# --------------------------------------------------------------------------------------
# edge cases, broadcasting, no NaN / inf / warnings
# --------------------------------------------------------------------------------------

EDGE_F = 100.0
EDGE_STRIKES = np.array([1e-2, 50.0, 99.999, 100.0, 100.001, 150.0, 1e6])


def _intrinsic(f, k, df, call):
    return df * np.maximum(np.where(call, 1.0, -1.0) * (f - k), 0.0)


@pytest.mark.parametrize("time", [0.0, -0.5, -1e-12])
@pytest.mark.parametrize("call", [True, False])
def test_expired_is_discounted_intrinsic(time, call):
    df = 0.97
    with strict_fp():
        v = black76_price(EDGE_F, EDGE_STRIKES, time, 0.8, df, call)
        g = black76_greeks(EDGE_F, EDGE_STRIKES, time, 0.8, 0.03, call)
    np.testing.assert_array_equal(v, _intrinsic(EDGE_F, EDGE_STRIKES, df, call))
    df_g = math.exp(-0.03 * time)
    sign = 1.0 if call else -1.0
    np.testing.assert_array_equal(g.delta, sign * df_g * (sign * (EDGE_F - EDGE_STRIKES) > 0))
    np.testing.assert_array_equal(g.gamma, 0.0)
    np.testing.assert_array_equal(g.vega, 0.0)
    np.testing.assert_array_equal(g.theta, 0.0)
    np.testing.assert_allclose(
        g.rho, -time * _intrinsic(EDGE_F, EDGE_STRIKES, df_g, call), rtol=1e-15
    )


@pytest.mark.parametrize("vol", [0.0, -0.3, 1e-14, 1e-300])
@pytest.mark.parametrize("call", [True, False])
def test_zero_vol_is_discounted_intrinsic_on_forward(vol, call):
    t, r = 0.5, 0.05
    df = math.exp(-r * t)
    with strict_fp():
        v = black76_price(EDGE_F, EDGE_STRIKES, t, vol, df, call)
        g = black76_greeks(EDGE_F, EDGE_STRIKES, t, vol, r, call)
    intrinsic = _intrinsic(EDGE_F, EDGE_STRIKES, df, call)
    np.testing.assert_array_equal(v, intrinsic)
    sign = 1.0 if call else -1.0
    np.testing.assert_allclose(g.delta, sign * df * (sign * (EDGE_F - EDGE_STRIKES) > 0))
    np.testing.assert_array_equal(g.gamma, 0.0)
    np.testing.assert_array_equal(g.vega, 0.0)
    # With no optionality left the only time dependence is the discount factor: theta = rV.
    np.testing.assert_allclose(g.theta, r * intrinsic, rtol=1e-15)
    np.testing.assert_allclose(g.rho, -t * intrinsic, rtol=1e-15)


@pytest.mark.parametrize("call", [True, False])
def test_tiny_vol_is_close_to_intrinsic(call):
    t, df = 0.5, 0.98
    with strict_fp():
        v = black76_price(EDGE_F, EDGE_STRIKES, t, 1e-9, df, call)
        g = black76_greeks(EDGE_F, EDGE_STRIKES, t, 1e-9, 0.04, call)
    intrinsic = _intrinsic(EDGE_F, EDGE_STRIKES, df, call)
    np.testing.assert_allclose(v, intrinsic, rtol=0, atol=1e-9 * EDGE_F)
    for x in g:
        assert np.all(np.isfinite(x))


@pytest.mark.parametrize("call", [True, False])
@pytest.mark.parametrize("ratio", [1e-4, 1e4])
@pytest.mark.parametrize("vol", [0.05, 0.8, 3.0])
def test_deep_itm_otm_finite_and_bounded(call, ratio, vol):
    f, t, r = 50_000.0, 0.25, 0.05
    k = f * ratio
    df = math.exp(-r * t)
    with strict_fp():
        v = black76_price(f, k, t, vol, df, call)
        g = black76_greeks(f, k, t, vol, r, call)
    intrinsic = _intrinsic(f, k, df, call)
    assert np.isfinite(v)
    assert intrinsic <= v <= df * (f if call else k)
    # More than 10 standard deviations from the money the time value is below 1e-20 F.
    if abs(math.log(ratio)) / (vol * math.sqrt(t)) > 10.0:
        itm = (f > k) == call
        if itm:
            assert v == pytest.approx(intrinsic, rel=1e-12)
            assert abs(g.delta) == pytest.approx(df, rel=1e-12)
        else:
            assert v < 1e-20 * f
            assert abs(g.delta) < 1e-20
    for x in g:
        assert np.isfinite(x)


@pytest.mark.parametrize("vol", [50.0, 1e3, 1e150, 1e308])
def test_huge_vol_tends_to_upper_bound(vol):
    f, k, t, r = 100.0, np.array([1.0, 100.0, 1e4]), 4.0, 0.02
    df = math.exp(-r * t)
    with strict_fp():
        c = black76_price(f, k, t, vol, df, True)
        p = black76_price(f, k, t, vol, df, False)
        gc = black76_greeks(f, k, t, vol, r, True)
    np.testing.assert_allclose(c, df * f, rtol=1e-12)
    np.testing.assert_allclose(p, df * k, rtol=1e-12)
    for x in gc:
        assert np.all(np.isfinite(x))
    np.testing.assert_allclose(gc.delta, df, rtol=1e-12)


def test_extreme_but_finite_inputs_do_not_warn_or_produce_nan():
    f = np.array([1e-300, 1e300, 1.0, 1.0, 1e6, 1e6])
    k = np.array([1e300, 1e-300, 1.0, 1e-8, 1e-6, 1e12])
    t = np.array([1e-30, 1e3, 1e-16, 50.0, 1e-10, 3.0])
    sigma = np.array([1e-200, 1e200, 1.0, 1e-3, 10.0, 0.01])
    r = np.array([0.0, 0.001, 0.1, -0.01, 0.5, 0.05])
    with strict_fp():
        for call in (True, False):
            v = black76_price(f, k, t, sigma, np.exp(-r * t), call)
            g = black76_greeks(f, k, t, sigma, r, call)
            assert np.all(np.isfinite(v)) and np.all(v >= 0.0)
            for x in g:
                assert np.all(np.isfinite(x))


def test_broadcasting_and_scalar_outputs():
    v = black76_price(100.0, 100.0, 1.0, 0.5, 1.0, True)
    assert np.ndim(v) == 0 and isinstance(v, np.floating)
    g = black76_greeks(100.0, 100.0, 1.0, 0.5, 0.0, True)
    assert all(np.ndim(x) == 0 for x in g)

    f = np.array([[90.0], [100.0], [110.0]])  # (3, 1)
    k = np.array([80.0, 100.0, 120.0, 140.0])  # (4,)
    call = np.array([True, False, True, False])
    v = black76_price(f, k, 0.5, 0.6, 0.99, call)
    assert v.shape == (3, 4)
    # discount may be an array broadcasting like everything else
    df = np.array([[0.99], [0.98], [0.97]])
    v2 = black76_price(f, k, 0.5, 0.6, df, call)
    np.testing.assert_allclose(v2, v / 0.99 * df, rtol=1e-14)
    for x in black76_greeks(f, k, 0.5, 0.6, 0.01, call):
        assert x.shape == (3, 4)
    # element-wise agreement with scalar evaluation
    for i in range(3):
        for j in range(4):
            assert v[i, j] == black76_price(f[i, 0], k[j], 0.5, 0.6, 0.99, call[j])


def test_is_call_accepts_python_bools_and_ints():
    a = black76_price(100.0, 90.0, 1.0, 0.5, 1.0, [True, False])
    b = black76_price(100.0, 90.0, 1.0, 0.5, 1.0, np.array([1, 0]))
    np.testing.assert_array_equal(a, b)
    assert a[0] > a[1]


# --------------------------------------------------------------------------------------
# implied volatility
# --------------------------------------------------------------------------------------


def _time_value(price, f, k, df, call):
    return price - _intrinsic(f, k, df, call)


@settings(max_examples=300, deadline=None)
@given(f=forwards, ratio=ratios, t=times, sigma=vols, r=rates, call=flags)
def test_implied_vol_round_trip(f, ratio, t, sigma, r, call):
    k = f * ratio
    df = math.exp(-r * t)
    price = black76_price(f, k, t, sigma, df, call)
    # The vol is only identifiable if the time value survives in double precision.
    assume(_time_value(price, f, k, df, call) > 1e-8 * f)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        iv = implied_vol(price, f, k, t, df, call)
    assert abs(iv - sigma) <= 1e-8


@settings(max_examples=300, deadline=None)
@given(
    f=forwards,
    t=times,
    sigma=vols,
    r=rates,
    z=st.floats(1.0, 6.0),
    call=flags,
)
def test_implied_vol_round_trip_deep_otm(f, t, sigma, r, z, call):
    # Strike z standard deviations out of the money (up to ~6 sd: prices down to 1e-8 F).
    sd = sigma * math.sqrt(t)
    k = f * math.exp(z * sd if call else -z * sd)
    df = math.exp(-r * t)
    price = black76_price(f, k, t, sigma, df, call)
    assume(price > 1e-8 * f)
    iv = implied_vol(price, f, k, t, df, call)
    assert abs(iv - sigma) <= 1e-8


def test_implied_vol_nan_outside_no_arbitrage_bounds():
    f, k, t, r = 100.0, 90.0, 0.5, 0.05
    df = math.exp(-r * t)
    call_intrinsic = df * (f - k)
    put_intrinsic = 0.0
    prices = np.array(
        [
            call_intrinsic - 1e-6,  # call below discounted intrinsic
            df * f + 1e-6,  # call above df * F
            -1e-3,  # put below zero
            df * k + 1e-6,  # put above df * K
            call_intrinsic,  # exactly intrinsic: implied vol 0, outside [low, high]
            put_intrinsic,
        ]
    )
    call = np.array([True, True, False, False, True, False])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        iv = implied_vol(prices, f, k, t, df, call)
    assert np.all(np.isnan(iv))


@pytest.mark.parametrize("time", [0.0, -0.25])
def test_implied_vol_nan_for_expired(time):
    iv = implied_vol(5.0, 100.0, 100.0, time, 1.0, True)
    assert np.isnan(iv)


def test_implied_vol_nan_for_invalid_inputs():
    iv = implied_vol(
        np.array([5.0, 5.0, 5.0, np.nan, 5.0]),
        np.array([0.0, 100.0, 100.0, 100.0, np.inf]),
        np.array([100.0, -1.0, 100.0, 100.0, 100.0]),
        1.0,
        np.array([1.0, 1.0, 0.0, 1.0, 1.0]),
        True,
    )
    assert np.all(np.isnan(iv))


def test_implied_vol_nan_when_vol_outside_bracket():
    f, k, t, df = 100.0, 100.0, 1.0, 1.0
    high_price = black76_price(f, k, t, 3.0, df, True)
    low_price = black76_price(f, k, t, 0.01, df, True)
    assert np.isnan(implied_vol(high_price, f, k, t, df, True, high=2.0))
    assert np.isnan(implied_vol(low_price, f, k, t, df, True, low=0.05))
    assert implied_vol(high_price, f, k, t, df, True) == pytest.approx(3.0, abs=1e-8)
    assert implied_vol(low_price, f, k, t, df, True) == pytest.approx(0.01, abs=1e-8)


@pytest.mark.parametrize("sigma", [1e-3, 0.02, 4.0, 9.0])
def test_implied_vol_extreme_but_identifiable_vols(sigma):
    f, k, t, df = 100.0, np.array([80.0, 100.0, 125.0]), 1.0, 0.95
    for call in (True, False):
        price = black76_price(f, k, t, sigma, df, call)
        ok = _time_value(price, f, k, df, call) > 1e-8 * f
        iv = implied_vol(price, f, k, t, df, call)
        np.testing.assert_allclose(iv[ok], sigma, rtol=0, atol=1e-8)


def test_implied_vol_scalar_and_golden_value():
    # Haug's Black-76 example price backs out its vol (to the precision of the 4-decimal price).
    iv = implied_vol(1.7011, 19.0, 19.0, 0.75, math.exp(-0.10 * 0.75), False)
    assert np.ndim(iv) == 0
    assert iv == pytest.approx(0.28, abs=1e-4)


def test_implied_vol_vectorised_10k_mixed():
    rng = np.random.default_rng(20240601)
    shape = (100, 100)
    n = 10_000
    f = np.exp(rng.uniform(0.0, np.log(1e6), n))
    k = f * np.exp(rng.uniform(np.log(0.3), np.log(3.0), n))
    t = rng.uniform(0.01, 3.0, n)
    sigma = rng.uniform(0.05, 2.0, n)
    r = rng.uniform(-0.02, 0.1, n)
    df = np.exp(-r * t)
    call = rng.random(n) < 0.5
    price = black76_price(f, k, t, sigma, df, call)

    # Corrupt ~5 % of the quotes so that they violate the no-arbitrage bounds or are expired.
    kind = rng.integers(0, 4, n)
    corrupt = rng.random(n) < 0.05
    intrinsic = _intrinsic(f, k, df, call)
    upper = df * np.where(call, f, k)
    bad_price = np.select(
        [kind == 0, kind == 1], [intrinsic - 1e-3 * f - 1.0, upper * 1.01 + 1.0], price
    )
    price = np.where(corrupt & (kind <= 1), bad_price, price)
    t = np.where(corrupt & (kind >= 2), -t * (kind == 3), t)

    identifiable = ~corrupt & (_time_value(price, f, k, df, call) > 1e-8 * f)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        iv = implied_vol(
            price.reshape(shape),
            f.reshape(shape),
            k.reshape(shape),
            t.reshape(shape),
            df.reshape(shape),
            call.reshape(shape),
        )
    assert iv.shape == shape
    iv = iv.ravel()
    assert np.all(np.isnan(iv[corrupt]))
    assert identifiable.sum() > 9_000
    assert not np.any(np.isnan(iv[identifiable]))
    np.testing.assert_allclose(iv[identifiable], sigma[identifiable], rtol=0, atol=1e-8)
    # Whatever is returned for the remaining (time value lost to rounding) quotes is either
    # NaN or reprices the quote.
    rest = ~corrupt & ~identifiable & ~np.isnan(iv)
    repriced = black76_price(f[rest], k[rest], t[rest], iv[rest], df[rest], call[rest])
    assert np.all(np.abs(repriced - price[rest]) <= 1e-8 * f[rest])
