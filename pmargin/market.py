"""Market snapshot: spots, forwards, implied vols (flat or smile), rates and correlations.

A :class:`Market` is data plus lookups. It knows nothing of scenarios; the engine applies shocks
to the arrays these lookups return.

Conventions: time in years ACT/365 from ``as_of``; vols decimal annualised; rates and carry
continuously compounded decimals; prices in USD per coin.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np

SECONDS_PER_YEAR = 365.0 * 86400.0


def year_fraction(start: datetime, end: np.ndarray | datetime) -> np.ndarray:
    """ACT/365 years from ``start`` to ``end`` (UTC datetimes or numpy datetime64)."""
    start64 = np.datetime64(start.replace(tzinfo=None), "s")
    end64 = np.asarray(end, dtype="datetime64[s]")
    return (end64 - start64).astype(np.float64) / SECONDS_PER_YEAR


@dataclass(frozen=True)
class Smile:
    """Implied vols per expiry: strike -> vol, interpolated linearly in strike (flat outside),
    linearly in total variance σ²T between expiries, flat in vol before the first and after the
    last expiry."""

    expiries: np.ndarray  # datetime64[s], ascending
    strikes: tuple[np.ndarray, ...]  # one ascending strike array per expiry
    vols: tuple[np.ndarray, ...]

    def vol(self, as_of: datetime, expiry: np.ndarray, strike: np.ndarray) -> np.ndarray:
        """Implied vol for each (expiry, strike) pair; arrays of equal length."""
        expiry = np.asarray(expiry, dtype="datetime64[s]")
        strike = np.asarray(strike, dtype=np.float64)
        # vols of every slice at every requested strike: (slices, n)
        slice_vols = np.stack([np.interp(strike, k, v) for k, v in zip(self.strikes, self.vols)])
        slice_t = year_fraction(as_of, self.expiries)
        t = year_fraction(as_of, expiry)
        if len(self.expiries) == 1:
            return slice_vols[0]
        right = np.clip(np.searchsorted(slice_t, t), 1, len(slice_t) - 1)
        left = right - 1
        cols = np.arange(len(t))
        t0, t1 = slice_t[left], slice_t[right]
        w0 = slice_vols[left, cols] ** 2 * np.maximum(t0, 0.0)
        w1 = slice_vols[right, cols] ** 2 * np.maximum(t1, 0.0)
        share = np.clip((t - t0) / (t1 - t0), 0.0, 1.0)
        total_var = w0 + share * (w1 - w0)
        interpolated = np.sqrt(np.maximum(total_var, 0.0) / np.maximum(t, 1e-12))
        before = t <= slice_t[0]
        after = t >= slice_t[-1]
        return np.where(before, slice_vols[0], np.where(after, slice_vols[-1], interpolated))


@dataclass(frozen=True)
class UnderlyingMarket:
    """Market data for one underlying.

    ``forwards`` maps an expiry (datetime64[s]) to a quoted forward price; other expiries use
    ``spot · exp((rate(T) − carry) · T)``. ``perpetual_price`` is the perpetuals' mark when it
    differs from spot (a funding basis). ``vol`` is the flat implied vol used when there is no
    smile; either may be missing, in which case options need a ``mark_price`` to imply a vol.
    """

    spot: float
    vol: float | None = None
    carry: float = 0.0
    forwards: dict[np.datetime64, float] = field(default_factory=dict)
    smile: Smile | None = None
    #: mark price of the underlying's perpetuals (USD per coin); None: they mark at spot
    perpetual_price: float | None = None

    @property
    def has_vol(self) -> bool:
        return self.vol is not None or self.smile is not None


@dataclass(frozen=True)
class Market:
    """A market snapshot as of one instant.

    Parameters
    ----------
    as_of : datetime
        Valuation instant, UTC.
    rate : float
        USD rate, continuously compounded, used to discount option values.
    rates : dict
        ``{expiry (datetime64[s]): rate}``: the USD rate quoted for an expiry; expiries not
        listed use ``rate``.
    underlyings : dict
        ``{"BTC": UnderlyingMarket, ...}``.
    correlations : dict
        ``{("BTC", "ETH"): 0.85, ...}`` with both orders present; used by Monte Carlo.
    source : str
        Where the snapshot came from (a path, or "bundled demo"), for messages.
    marks : dict
        Observed mark prices by instrument symbol, in the units of a position's ``mark_price``
        (coin for inverse options, USD otherwise), e.g. from a venue export; a position without
        its own ``mark_price`` takes its instrument's mark from here.

    ``Market.from_dict(document)`` builds a snapshot from the market YAML's structure; it is
    installed by the public API (:mod:`pmargin`), which joins the file loaders' validation to
    the domain.
    """

    as_of: datetime
    rate: float
    underlyings: dict[str, UnderlyingMarket]
    correlations: dict[tuple[str, str], float] = field(default_factory=dict)
    source: str = ""
    marks: dict[str, float] = field(default_factory=dict)
    rates: dict[np.datetime64, float] = field(default_factory=dict)

    @property
    def as_of64(self) -> np.datetime64:
        return np.datetime64(self.as_of.replace(tzinfo=None), "s")

    def spot(self, underlying: str) -> float:
        return self.underlyings[underlying].spot

    def perpetual_price(self, underlying: str) -> float:
        """Mark price of ``underlying``'s perpetuals, USD per coin (spot unless quoted)."""
        data = self.underlyings[underlying]
        return data.spot if data.perpetual_price is None else data.perpetual_price

    def rates_for(self, expiry: np.ndarray) -> np.ndarray:
        """USD rate for each expiry (datetime64[s]): the quoted one, else (and for NaT) ``rate``."""
        expiry = np.asarray(expiry, dtype="datetime64[s]")
        rates = np.full(expiry.shape, float(self.rate))
        for quoted_expiry, quoted in self.rates.items():
            rates = np.where(expiry == quoted_expiry, quoted, rates)
        return rates

    def time_to(self, expiry: np.ndarray) -> np.ndarray:
        """Years (ACT/365) from ``as_of`` to each expiry."""
        return year_fraction(self.as_of, expiry)

    def forwards(self, underlying: str, expiry: np.ndarray) -> np.ndarray:
        """Forward price for each expiry (datetime64[s]); NaT (no expiry) gives the spot."""
        data = self.underlyings[underlying]
        expiry = np.asarray(expiry, dtype="datetime64[s]")
        t = np.where(
            np.isnat(expiry), 0.0, self.time_to(np.where(np.isnat(expiry), self.as_of64, expiry))
        )
        rate = self.rates_for(expiry)
        forward = data.spot * np.exp((rate - data.carry) * np.maximum(t, 0.0))
        for quoted_expiry, quoted in data.forwards.items():
            forward = np.where(expiry == quoted_expiry, quoted, forward)
        return forward

    def vols(self, underlying: str, expiry: np.ndarray, strike: np.ndarray) -> np.ndarray:
        """Implied vol for each option (expiry, strike); NaN where the market has no vol."""
        data = self.underlyings[underlying]
        if data.smile is not None:
            return data.smile.vol(self.as_of, expiry, strike)
        flat = np.nan if data.vol is None else data.vol
        return np.full(np.shape(strike), flat, dtype=np.float64)

    def with_spot_scaled(self, underlying: str, factor: float) -> Market:
        """This market with ``underlying``'s spot × ``factor`` (> 0), everything else held.

        Quoted forwards move by the same factor (the others follow the spot through
        ``spot·exp((rate − carry)·T)``); implied vols stay as given per strike (sticky strike),
        and every other underlying is unchanged.
        """
        if not factor > 0:
            raise ValueError(f"`factor` must be > 0, not {factor!r}")
        data = self.underlyings[underlying]
        moved = replace(
            data,
            spot=data.spot * factor,
            forwards={expiry: price * factor for expiry, price in data.forwards.items()},
        )
        return replace(self, underlyings={**self.underlyings, underlying: moved})

    def correlation(self, first: str, second: str) -> float | None:
        if first == second:
            return 1.0
        return self.correlations.get((first, second))
