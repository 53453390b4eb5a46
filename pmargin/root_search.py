"""The nearest point where a function of one move changes sign, for reverse stress searches.

Liquidation prices (:mod:`pmargin.liquidation_price`), breakeven moves
(:mod:`pmargin.reverse_stress`) and the rays of the joint move (:mod:`pmargin.joint_move`) all
ask where equity − a target, re-run by the whole margin model at each trial point, first
changes sign as a move grows: walk out through trial points, then refine the first bracket
with :func:`scipy.optimize.brentq`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: brentq's smallest relative tolerance (4 × machine epsilon)
MIN_RTOL = 4 * np.finfo(float).eps


def nearest_crossing(
    gap_at: Callable[[float], float],
    points: np.ndarray,
    *,
    here: float,
    start: float = 0.0,
    xtol: float,
    rtol: float = MIN_RTOL,
) -> float | None:
    """The point nearest ``start`` where ``gap_at`` changes sign (or is 0), walking out through
    ``points`` (ordered away from ``start``, all on one side); ``here`` is ``gap_at(start)``
    (``start`` itself when it is 0). The first trial point on the other side of 0 and the one
    before it bracket the root, refined to ``xtol + rtol·|x|``. None when no trial point
    crosses; a change of sign that opens and closes between two neighbouring points is not
    seen."""
    if here == 0:
        return start
    previous = start
    for point in points:  # each a full margin run; the walk stops at the first crossing
        point = float(point)
        value = gap_at(point)
        if value == 0:
            return point
        if (value < 0) != (here < 0):
            from scipy.optimize import brentq  # 0.14 s of imports that only a search needs

            low, high = sorted((previous, point))
            return float(brentq(gap_at, low, high, xtol=xtol, rtol=rtol, maxiter=200))
        previous = point
    return None
