"""Black-76 pricing kernels for options on forwards and futures.

Pure numpy/scipy, fully vectorised: every argument may be a scalar or an array, and all
arguments are broadcast against each other with the usual numpy rules.  Scalar inputs give
numpy scalar outputs.

Conventions used throughout
---------------------------
* ``forward`` (F) and ``strike`` (K) are prices in the quote currency (e.g. USD) per unit of
  the underlying, and must be strictly positive.
* ``time`` (T) is the time to expiry in years (ACT/365).  ``T <= 0`` means "expired".
* ``vol`` (sigma) is the annualised lognormal volatility as a decimal (0.60 means 60 %).
* ``discount`` is the discount factor to expiry, ``exp(-r * T)``; ``rate`` (r) is the
  continuously compounded annual rate as a decimal.
* Option values are per one option on one unit of the underlying, in the quote currency,
  and are always the value of a *long* position (positive).

For finite inputs the kernels never return NaN or inf and never emit floating-point
warnings: expired options (``T <= 0``) and options with no optionality left
(``vol * sqrt(T)`` below ``1e-12``, including ``vol <= 0``) are valued at the discounted
intrinsic value ``discount * max(+-(F - K), 0)``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

__all__ = ["Greeks", "black76_greeks", "black76_price", "implied_vol"]

#: Below this total standard deviation ``vol * sqrt(T)`` the option is treated as having
#: no time value left (discounted intrinsic value).
_MIN_STDEV = 1e-12
#: Total standard deviations above this are capped (the option is then worth its upper
#: no-arbitrage bound to machine precision); keeps huge finite vols from overflowing to inf.
_MAX_STDEV = 1e100

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


class _Core(NamedTuple):
    """Broadcast inputs and the shared intermediate quantities of the Black-76 formula."""

    forward: NDArray[np.float64]
    strike: NDArray[np.float64]
    time: NDArray[np.float64]
    vol: NDArray[np.float64]
    sign: NDArray[np.float64]  # +1 for calls, -1 for puts
    live: NDArray[np.bool_]  # True where the closed form applies (F, K > 0, stdev > min)
    stdev: NDArray[np.float64]  # vol * sqrt(T) capped at 1e100; 1.0 where not live
    d1: NDArray[np.float64]
    d2: NDArray[np.float64]
    undiscounted: NDArray[np.float64]  # forward value E[payoff], clamped to no-arb bounds


def _core(forward, strike, time, vol, is_call, *extra) -> tuple[_Core, tuple]:
    """Broadcast the inputs and evaluate the undiscounted Black-76 value.

    ``extra`` arrays (discount or rate) are broadcast together with the rest and returned.
    """
    arrays = np.broadcast_arrays(
        np.asarray(forward, dtype=np.float64),
        np.asarray(strike, dtype=np.float64),
        np.asarray(time, dtype=np.float64),
        np.asarray(vol, dtype=np.float64),
        np.asarray(is_call, dtype=bool),
        *(np.asarray(x, dtype=np.float64) for x in extra),
    )
    f, k, t, sigma, call = arrays[:5]
    sign = np.where(call, 1.0, -1.0)

    positive = (f > 0.0) & (k > 0.0)
    with np.errstate(over="ignore", under="ignore"):
        stdev = np.where(sigma > 0.0, sigma, 0.0) * np.sqrt(np.where(t > 0.0, t, 0.0))
        live = positive & (stdev > _MIN_STDEV)
        sd = np.where(live, np.minimum(stdev, _MAX_STDEV), 1.0)
        log_moneyness = np.log(np.where(positive, f, 1.0)) - np.log(np.where(positive, k, 1.0))
        # d1, d2 written without sd**2 so that huge (finite) vols cannot overflow to inf - inf.
        a = log_moneyness / sd
        half = 0.5 * sd
        d1 = a + half
        d2 = a - half
        raw = sign * (f * ndtr(sign * d1) - k * ndtr(sign * d2))

    intrinsic = np.maximum(sign * (f - k), 0.0)
    upper = np.where(call, f, k)
    # Rounding can push the closed form a few ulps outside [intrinsic, upper]; clamp it.
    undiscounted = np.where(live, np.minimum(np.maximum(raw, intrinsic), upper), intrinsic)
    return _Core(f, k, t, sigma, sign, live, sd, d1, d2, undiscounted), tuple(arrays[5:])


def _unwrap(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return numpy scalars for 0-d results, arrays otherwise."""
    return x[()]


def black76_price(
    forward: ArrayLike,
    strike: ArrayLike,
    time: ArrayLike,
    vol: ArrayLike,
    discount: ArrayLike,
    is_call: ArrayLike,
) -> NDArray[np.float64]:
    """Black-76 value of a European option on a forward or futures price.

    Parameters
    ----------
    forward : array_like
        Forward (or futures) price F of the underlying for the option's expiry, in the quote
        currency (e.g. USD) per unit of underlying.  Must be > 0.
    strike : array_like
        Strike K in the same currency units as ``forward``.  Must be > 0.
    time : array_like
        Time to expiry T in years (ACT/365).  ``T <= 0`` returns the discounted intrinsic value.
    vol : array_like
        Annualised lognormal volatility sigma as a decimal (0.5 = 50 %).  ``vol <= 0``, or
        ``vol * sqrt(T) < 1e-12``, returns the discounted intrinsic value on the forward.
    discount : array_like
        Discount factor to expiry, ``exp(-r * T)`` (scalar or array).
    is_call : array_like of bool
        True for calls, False for puts.

    Returns
    -------
    numpy.ndarray or numpy.float64
        Value of one long option on one unit of underlying, in the currency of ``forward``
        (always >= 0), broadcast to the common shape of the inputs::

            call = discount * (F N(d1) - K N(d2))
            put  = discount * (K N(-d2) - F N(-d1))
            d1,2 = (ln(F / K) +- sigma**2 T / 2) / (sigma sqrt(T))

    Notes
    -----
    Never returns NaN/inf for finite inputs with F, K > 0 and never emits floating-point
    warnings; results are clamped to the no-arbitrage band
    ``[discount * intrinsic, discount * F]`` (calls) / ``[..., discount * K]`` (puts).
    """
    core, (df,) = _core(forward, strike, time, vol, is_call, discount)
    return _unwrap(df * core.undiscounted)


class Greeks(NamedTuple):
    """Analytic Black-76 sensitivities of one long option on one unit of underlying.

    All values are in the currency of the forward (e.g. USD) per the stated unit of the
    bumped quantity.

    Attributes
    ----------
    delta : numpy.ndarray
        dV/dF, per 1 unit of forward price (calls in [0, df], puts in [-df, 0]).
    gamma : numpy.ndarray
        d2V/dF2, per (unit of forward price)^2; >= 0.
    vega : numpy.ndarray
        dV/dsigma per 1.00 (100 vol points) of volatility, not per vol point; >= 0.
    theta : numpy.ndarray
        dV/dt as calendar time passes (``-dV/dT``), per year, with F, sigma and r held
        fixed.  Includes the discount-factor carry ``r * V``.  Negative for a long option
        at r = 0.
    rho : numpy.ndarray
        dV/dr with F held fixed, per 1.00 (100 %) of rate; equals ``-T * V``.
    """

    delta: NDArray[np.float64]
    gamma: NDArray[np.float64]
    vega: NDArray[np.float64]
    theta: NDArray[np.float64]
    rho: NDArray[np.float64]


def black76_greeks(
    forward: ArrayLike,
    strike: ArrayLike,
    time: ArrayLike,
    vol: ArrayLike,
    rate: ArrayLike,
    is_call: ArrayLike,
) -> Greeks:
    """Analytic Black-76 greeks.

    Parameters
    ----------
    forward, strike, time, vol, is_call : array_like
        As in :func:`black76_price`.
    rate : array_like
        Continuously compounded annual rate r as a decimal; the discount factor is computed
        as ``exp(-rate * time)``.  Needed explicitly because theta and rho include the
        sensitivity of the discount factor.

    Returns
    -------
    Greeks
        Named tuple ``(delta, gamma, vega, theta, rho)`` (see :class:`Greeks` for units and
        signs), each broadcast to the common input shape::

            delta = +-df N(+-d1)
            gamma = df n(d1) / (F sigma sqrt(T))
            vega  = df F n(d1) sqrt(T)
            theta = r V - df F n(d1) sigma / (2 sqrt(T))
            rho   = -T V

    Notes
    -----
    Where the closed form degenerates (``T <= 0``, ``vol <= 0`` or ``vol * sqrt(T) < 1e-12``)
    the option is worth its discounted intrinsic value V = df * max(+-(F - K), 0) and:
    delta is the discounted step (``df * 1{F > K}`` for calls, ``-df * 1{F < K}`` for puts),
    gamma = vega = 0, rho = -T V, and theta = r V if T > 0 (pure discount-factor carry,
    the exact time derivative of the intrinsic value) and 0 if T <= 0.
    """
    core, (r,) = _core(forward, strike, time, vol, is_call, rate)
    f, t, sign, live, sd, d1 = core.forward, core.time, core.sign, core.live, core.stdev, core.d1
    with np.errstate(over="ignore", under="ignore"):
        df = np.exp(-r * t)
        value = df * core.undiscounted
        pdf = _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1)
        t_safe = np.where(live, t, 1.0)
        f_safe = np.where(live, f, 1.0)

        step = (sign * (f - core.strike) > 0.0).astype(np.float64)
        # "+ 0.0" turns the -0.0 of zero put deltas / zero rhos into +0.0.
        delta = np.where(live, sign * df * ndtr(sign * d1), sign * df * step) + 0.0
        gamma = np.where(live, df * pdf / (f_safe * sd), 0.0)
        vega = np.where(live, df * f_safe * pdf * np.sqrt(t_safe), 0.0)
        # sigma / (2 sqrt T) == sd / (2 T); pdf underflows to 0 long before sd can be large.
        decay = df * f_safe * pdf * sd / (2.0 * t_safe)
        theta = np.where(live, r * value - decay, np.where(t > 0.0, r * value, 0.0))
        rho = -t * value + 0.0
    return Greeks(*(_unwrap(g) for g in (delta, gamma, vega, theta, rho)))


def implied_vol(
    price: ArrayLike,
    forward: ArrayLike,
    strike: ArrayLike,
    time: ArrayLike,
    discount: ArrayLike,
    is_call: ArrayLike,
    *,
    low: float = 1e-4,
    high: float = 10.0,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> NDArray[np.float64]:
    """Vectorised Black-76 implied volatility.

    Parameters
    ----------
    price : array_like
        Option value per option on one unit of underlying, in the currency of ``forward``
        (same convention as the output of :func:`black76_price`).
    forward, strike, time, discount, is_call : array_like
        As in :func:`black76_price`.
    low, high : float, optional
        Search bracket for the volatility (annualised decimal).  Default [1e-4, 10].
    tol : float, optional
        Absolute tolerance on the volatility.  Default 1e-10.
    max_iter : int, optional
        Maximum number of safeguarded-Newton iterations.  Default 100.

    Returns
    -------
    numpy.ndarray or numpy.float64
        Annualised implied volatility as a decimal, broadcast to the common input shape.
        **Failures are signalled with NaN, no mask is returned: callers must test
        ``np.isnan``.**  An element is NaN when

        * its price is outside the no-arbitrage bounds: below the discounted intrinsic
          value ``df * max(+-(F - K), 0)`` or above ``df * F`` (calls) / ``df * K`` (puts);
        * ``T <= 0``, ``F <= 0``, ``K <= 0``, ``discount <= 0`` or any input is non-finite;
        * the price is inside the bounds but its implied vol lies outside ``[low, high]``
          (this includes a price exactly equal to the discounted intrinsic value, i.e. an
          implied vol of 0, and a deep in-the-money price whose time value is lost to
          rounding);
        * the iteration did not converge within ``max_iter`` (not expected in practice).

    Notes
    -----
    The price is first mapped to the equivalent out-of-the-money option through put-call
    parity (time value ``price - df * intrinsic``), which keeps in-the-money inversions
    well conditioned.  Newton-Raphson is then run on ``log(price)`` (step
    ``(ln V - ln V*) V / vega``, robust for deep out-of-the-money options), started from
    ``max(Manaster-Koehler, Brenner-Subrahmanyam)`` and safeguarded by a bracket that is
    shrunk on every iteration: whenever a Newton step leaves the bracket, is not finite, or
    does not at least halve the previous step, a (geometric) bisection step is taken.
    """
    p, f, k, t, df, call = np.broadcast_arrays(
        np.asarray(price, dtype=np.float64),
        np.asarray(forward, dtype=np.float64),
        np.asarray(strike, dtype=np.float64),
        np.asarray(time, dtype=np.float64),
        np.asarray(discount, dtype=np.float64),
        np.asarray(is_call, dtype=bool),
    )
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        problem = _OtmProblem.of(p, f, k, t, df, call)
        result = problem.solve(low, high, tol, max_iter)
    return _unwrap(result)


class _OtmProblem(NamedTuple):
    """An implied-vol problem restated on the out-of-the-money option (see :func:`implied_vol`).

    Elements outside the no-arbitrage bounds (``ok`` False) carry harmless placeholder inputs
    (1.0) so the vectorised iteration never meets a NaN; their result stays NaN.
    """

    ok: np.ndarray
    target: np.ndarray  # time value: price − df · intrinsic
    time: np.ndarray
    forward: np.ndarray
    strike: np.ndarray
    discount: np.ndarray
    otm_call: np.ndarray

    @classmethod
    def of(cls, p, f, k, t, df, call) -> _OtmProblem:
        sign = np.where(call, 1.0, -1.0)
        intrinsic = df * np.maximum(sign * (f - k), 0.0)
        upper = df * np.where(sign > 0, f, k)
        ok = (
            np.isfinite(p)
            & np.isfinite(f)
            & np.isfinite(k)
            & np.isfinite(t)
            & np.isfinite(df)
            & (f > 0.0)
            & (k > 0.0)
            & (t > 0.0)
            & (df > 0.0)
            & (p >= intrinsic)
            & (p <= upper)
        )
        # Work with the out-of-the-money option: call if K >= F, put otherwise.
        return cls(
            ok=ok,
            target=np.where(ok, p - intrinsic, 1.0),
            time=np.where(ok, t, 1.0),
            forward=np.where(ok, f, 1.0),
            strike=np.where(ok, k, 1.0),
            discount=np.where(ok, df, 1.0),
            otm_call=k >= f,
        )

    def value_vega(self, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Value and vega of the out-of-the-money option at vol ``sigma``."""
        c, _ = _core(self.forward, self.strike, self.time, sigma, self.otm_call)
        pdf = _INV_SQRT_2PI * np.exp(-0.5 * c.d1 * c.d1)
        vega = np.where(c.live, self.discount * self.forward * pdf * np.sqrt(self.time), 0.0)
        return self.discount * c.undiscounted, vega

    def solve(self, low: float, high: float, tol: float, max_iter: int) -> np.ndarray:
        """Safeguarded Newton on log(price) inside a shrinking bracket; NaN where unsolved."""
        shape, target = self.target.shape, self.target
        lo = np.full(shape, float(low))
        hi = np.full(shape, float(high))
        v_lo, _ = self.value_vega(lo)
        v_hi, _ = self.value_vega(hi)
        # Target strictly positive and inside [V(low), V(high)].
        active = self.ok & (target > 0.0) & (target >= v_lo) & (target <= v_hi)

        tt, ff, kk, dff = self.time, self.forward, self.strike, self.discount
        log_moneyness = np.abs(np.log(kk / ff))
        mk = np.sqrt(2.0 * log_moneyness / tt)
        bs = np.sqrt(2.0 * np.pi / tt) * target / (dff * np.sqrt(ff * kk))
        sigma = np.clip(np.maximum(mk, bs), lo, hi)
        log_target = np.log(np.where(active, target, 1.0))
        prev_step = np.full(shape, np.inf)
        result = np.full(shape, np.nan)

        for _ in range(max_iter):
            if not active.any():
                break
            v, vega = self.value_vega(sigma)
            below = v < target
            lo = np.where(active & below, sigma, lo)
            hi = np.where(active & ~below, sigma, hi)

            pos = v > 0.0
            newton = -(np.log(np.where(pos, v, 1.0)) - log_target) * v / vega
            cand = sigma + newton
            use_newton = (
                pos
                & np.isfinite(cand)
                & (cand > lo)
                & (cand < hi)
                & (np.abs(newton) <= 0.5 * np.abs(prev_step))
            )
            mid = np.where(lo > 0.0, np.sqrt(lo * hi), 0.5 * (lo + hi))
            new_sigma = np.where(use_newton, cand, mid)
            step = new_sigma - sigma
            done = active & (
                (v == target) | (use_newton & (np.abs(step) <= tol)) | (hi - lo <= tol)
            )
            final = np.where(v == target, sigma, new_sigma)
            result = np.where(done, final, result)
            active = active & ~done
            prev_step = np.where(use_newton, step, hi - lo)
            sigma = np.where(active, new_sigma, sigma)
        return result
