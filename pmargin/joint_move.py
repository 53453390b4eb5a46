"""The most plausible joint spot move that reaches a boundary: least Mahalanobis distance.

Spot moves are log returns ``r = ln(1 + move)`` per underlying, distributed (for plausibility
only) with covariance ``Σ = D·C·D``: ``C`` the market's correlations, ``D`` the diagonal of
``σ·√(horizon_days / 365)`` — the same sizing as a Monte Carlo set's moves. With ``L·Lᵀ = Σ`` and
``r = L·z``, the Mahalanobis distance of a move is ``|z|`` (standard deviations over the
horizon), so the most plausible move on the boundary ``gap(move) = 0`` is the boundary point
nearest the origin in ``z``.

It is found in three steps, each a set of full evaluations of ``gap`` (the caller's whole
margin model on the moved market):

1. **rays** (bracketing): along directions in ``z`` — the seeds the caller found (moves of one
   underlying alone and of all together) and a fixed set of quasi-random directions — the first
   change of sign of ``gap`` is bracketed on a grid of trial points and refined by
   :func:`scipy.optimize.brentq` (:func:`pmargin.root_search.nearest_crossing`); a ray is
   searched only up to the nearest point found so far;
2. **solver**: from the nearest ray point, :func:`scipy.optimize.minimize` (SLSQP) minimises
   ``|z|²`` with ``gap = 0`` as an equality constraint and the move bounds (spot × 0.01 to × 10)
   as inequalities;
3. **polish**: the solver's answer gives a direction; the first change of sign along it is found
   by bracketing as in step 1, so the reported move lies on the boundary (and nothing nearer
   along its ray). The nearer of that and the best ray point is the answer; when the solver
   fails, the best ray point (the bracketing fallback) is.

A boundary point that no ray comes near and the solver does not reach can be missed; the rays
make that unlikely for the handful of underlyings a book holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from .root_search import nearest_crossing

#: spot moves searched: factor 0.01 to 10 of today's spot (moves −0.99 to +9)
LOG_LOWEST, LOG_HIGHEST = np.log(0.01), np.log(10.0)
#: quasi-random directions per underlying (at most :data:`MAX_RANDOM`)
RANDOM_PER_UNDERLYING, MAX_RANDOM = 4, 16
#: trial points per ray: evenly up to EVEN_UP_TO standard deviations, then geometric steps
RAY_STEPS, FAR_STEPS, EVEN_UP_TO = 12, 8, 8.0
#: tolerance of a root along a ray, in standard deviations
RAY_TOLERANCE = 1e-9
#: the nearest ray points the solver starts from
SOLVER_STARTS = 3
#: |gap| / |gap of no move| below which a solver point at the edge of the moves is on the boundary
BOUNDARY_TOLERANCE = 1e-9

#: ``gap(moves)``: > 0 while the target is not reached, for relative spot moves (U,)
Gap = Callable[[np.ndarray], float]


@dataclass(frozen=True)
class NearestMove:
    """Relative spot moves (U,) on the boundary and their Mahalanobis distance."""

    moves: np.ndarray
    distance: float


def nearest_move(
    gap: Gap, factor: np.ndarray, seeds: list[np.ndarray], *, here: float
) -> NearestMove | None:
    """The move with the least Mahalanobis distance at which ``gap`` reaches 0.

    ``factor`` is ``L`` with ``L·Lᵀ = Σ`` (log returns); ``seeds`` are relative moves known to
    reach the boundary; ``here`` is ``gap`` of no move (> 0). None when no ray and no solver
    step finds the boundary within the move bounds.
    """
    search = _RaySearch(gap, np.asarray(factor, dtype=np.float64), here)
    size = len(factor)
    directions = [search.direction_of(np.log1p(np.asarray(s, dtype=np.float64))) for s in seeds]
    directions = [d for d in directions if d is not None]
    count = min(RANDOM_PER_UNDERLYING * size, MAX_RANDOM) if size > 1 else 0
    random = np.random.default_rng(0).standard_normal((count, size))
    directions += list(random / np.linalg.norm(random, axis=1, keepdims=True))
    found: list[np.ndarray] = []
    for direction in directions:  # a few dozen rays, each a handful of model runs
        limit = np.linalg.norm(found[0]) * (1 + 1e-9) if found else None
        point = search.first_root(direction, limit)
        if point is not None:
            found.append(point)
            found.sort(key=np.linalg.norm)
    if not found:
        return None
    best = found[0]
    scale = abs(here) if here else 1.0
    for start in found[:SOLVER_STARTS]:
        solved = _solve(search, start, scale)
        if solved is None or not np.linalg.norm(solved) < np.linalg.norm(best):
            continue
        # the first crossing along the solver's direction; or the solver's point itself when
        # it lies on the boundary at the edge of the searched moves (nothing crosses before)
        polished = search.first_root(search.direction_of_z(solved), np.linalg.norm(best))
        if polished is None and abs(search.gap_at(solved)) <= BOUNDARY_TOLERANCE * scale:
            polished = solved
        if polished is not None and np.linalg.norm(polished) < np.linalg.norm(best):
            best = polished
    return NearestMove(np.expm1(search.factor @ best), float(np.linalg.norm(best)))


class _RaySearch:
    """Roots of ``gap`` along rays ``z = t·direction`` (``r = L·z``), by bracketing."""

    def __init__(self, gap: Gap, factor: np.ndarray, here: float):
        self.gap = gap
        self.factor = factor
        self.here = here  # gap of no move

    def gap_at(self, z: np.ndarray) -> float:
        return self.gap(np.expm1(self.factor @ z))

    def direction_of(self, log_move: np.ndarray) -> np.ndarray | None:
        """The unit direction in ``z`` of a log-return move (None for no move)."""
        z = np.linalg.lstsq(self.factor, log_move, rcond=None)[0]
        return self.direction_of_z(z)

    @staticmethod
    def direction_of_z(z: np.ndarray) -> np.ndarray | None:
        norm = np.linalg.norm(z)
        return None if not norm > 0 else z / norm

    def reach(self, direction: np.ndarray) -> float:
        """The largest ``t`` whose move stays within the bounds on every underlying."""
        step = self.factor @ direction
        with np.errstate(divide="ignore"):
            limits = np.where(
                step > 0, LOG_HIGHEST / step, np.where(step < 0, LOG_LOWEST / step, np.inf)
            )
        return float(limits.min())

    def first_root(self, direction: np.ndarray | None, limit: float | None) -> np.ndarray | None:
        """The nearest point ``t·direction`` (t ≤ ``limit`` and the bounds) with gap = 0."""
        if direction is None:
            return None
        reach = self.reach(direction)
        end = reach if limit is None else min(reach, limit)
        if not end > 0:
            return None
        even = np.linspace(0.0, min(end, EVEN_UP_TO), RAY_STEPS + 1)[1:]
        far = np.geomspace(EVEN_UP_TO, end, FAR_STEPS + 1)[1:] if end > EVEN_UP_TO else []
        t = nearest_crossing(
            lambda t: self.gap_at(t * direction),
            np.concatenate([even, far]),
            here=self.here,
            xtol=RAY_TOLERANCE,
        )
        return None if t is None else t * direction


def _solve(search: _RaySearch, start: np.ndarray, scale: float) -> np.ndarray | None:
    """SLSQP from ``start``: least |z|² with gap / ``scale`` = 0 and the move bounds."""
    factor = search.factor
    constraints = [
        {"type": "eq", "fun": lambda z: search.gap_at(z) / scale},
        {"type": "ineq", "fun": lambda z: factor @ z - LOG_LOWEST},
        {"type": "ineq", "fun": lambda z: LOG_HIGHEST - factor @ z},
    ]
    result = minimize(
        lambda z: 0.5 * float(z @ z),
        start,
        jac=lambda z: z,
        method="SLSQP",
        constraints=constraints,
        options={"maxiter": 60, "ftol": 1e-12, "eps": 1e-6},
    )
    if not np.all(np.isfinite(result.x)) or not np.linalg.norm(result.x) > 0:
        return None
    return result.x
