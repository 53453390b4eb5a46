"""Liquidation prices: the spot of one underlying at which equity falls to maintenance margin.

For each underlying alone, the spot moves (forwards with it, implied vols held per strike, every
other underlying held: :meth:`Market.with_spot_scaled`) and a caller's ``gap(underlying,
factor)`` — equity − maintenance margin with the *whole* margin model re-run on the moved
market — is searched for a change of sign: outward from the current spot on a geometric grid
of trial spots, then refined by :func:`scipy.optimize.brentq` between the two trial spots that
bracket it. The nearest such spot below and above the current one are reported, each with its
distance from spot as a signed fraction; None where no spot within [0.01×, 10×] the current one
gives equity = maintenance margin. A sign change that opens and closes between two neighbouring
trial spots (one step is about 13% down, 10% up) is not seen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from .market import Market

#: the range searched, as factors of the current spot
LOWEST, HIGHEST = 0.01, 10.0
#: trial spots between the current spot and each end of the range (geometric steps)
DOWN_STEPS, UP_STEPS = 32, 24
#: tolerance of the root, as a fraction of the current spot
FACTOR_TOLERANCE = 1e-9

#: ``gap(underlying, factor)``: equity − maintenance margin (USD) with that underlying's spot
#: × factor
Gap = Callable[[str, float], float]


@dataclass(frozen=True)
class LiquidationPrice:
    """Spots of one underlying (USD per coin) at which equity = maintenance margin.

    ``down``/``up`` are the nearest below/above the current spot, or None;
    ``distance_down``/``distance_up`` are their signed distances from spot (−0.2 = 20% below).
    """

    spot: float
    down: float | None
    up: float | None

    @property
    def distance_down(self) -> float | None:
        return None if self.down is None else self.down / self.spot - 1.0

    @property
    def distance_up(self) -> float | None:
        return None if self.up is None else self.up / self.spot - 1.0

    def as_dict(self) -> dict[str, float | None]:
        """The SPEC §8 keys: down, up, distance_down, distance_up."""
        return {
            "down": self.down,
            "up": self.up,
            "distance_down": self.distance_down,
            "distance_up": self.distance_up,
        }


def search_liquidation_prices(market: Market, underlyings, gap: Gap) -> dict[str, LiquidationPrice]:
    """The liquidation prices of each of ``underlyings`` (spots from ``market``) for an account
    whose equity − maintenance margin with one underlying's spot moved is ``gap``."""
    prices = {}
    for underlying in underlyings:

        def moved(factor: float, underlying: str = underlying) -> float:
            return gap(underlying, factor)

        here = moved(1.0)
        spot = market.spot(underlying)
        down = _nearest_root(moved, here, np.geomspace(1.0, LOWEST, DOWN_STEPS + 1)[1:])
        up = _nearest_root(moved, here, np.geomspace(1.0, HIGHEST, UP_STEPS + 1)[1:])
        prices[underlying] = LiquidationPrice(
            spot=spot,
            down=None if down is None else down * spot,
            up=None if up is None else up * spot,
        )
    return prices


def _nearest_root(
    gap_at: Callable[[float], float], here: float, factors: np.ndarray
) -> float | None:
    """The factor nearest 1 where ``gap_at`` changes sign, walking out through ``factors``."""
    if here == 0:
        return 1.0
    previous, previous_gap = 1.0, here
    for factor in factors:  # a few dozen trial spots, each a full margin run
        value = gap_at(float(factor))
        if value == 0:
            return float(factor)
        if (value < 0) != (previous_gap < 0):
            low, high = sorted((previous, float(factor)))
            return float(brentq(gap_at, low, high, xtol=FACTOR_TOLERANCE * low, maxiter=200))
        previous, previous_gap = float(factor), value
    return None
