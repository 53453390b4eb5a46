"""The engine's Black-76: the reference formula without the guards the engine does not need.

:mod:`pmargin.pricing.black76` is the reference (guards against σ ≤ 0, F ≤ 0, huge vols; greeks;
implied vol). This twin prices the (instruments × scenarios) grid of the engine, whose inputs are
already valid, at about one formula evaluation per cell. ``tests/engine`` checks the two agree.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr


def black76_valid(forward, strike, time, vol, discount, is_call) -> np.ndarray:
    """Black-76 value for the inputs the engine guarantees: F, K > 0, vol ≥ VOL_FLOOR, T ≥ 0.

    The hot-path twin of :func:`pmargin.pricing.black76.black76_price` (the reference, which
    also guards against σ ≤ 0, F ≤ 0 and huge vols): the same formula with the guards the engine
    does not need, so a scenario grid costs about one formula evaluation per cell. T = 0 gives
    intrinsic value. ``tests/engine`` checks the two agree.
    """
    sign = np.where(is_call, 1.0, -1.0)
    root_time = np.sqrt(time)
    stdev = vol * root_time
    with np.errstate(divide="ignore", invalid="ignore"):
        d1 = np.log(forward / strike) / stdev + 0.5 * stdev
        value = sign * (forward * ndtr(sign * d1) - strike * ndtr(sign * (d1 - stdev)))
    if np.min(root_time) < 1e-6:  # some options expire within the scenarios: intrinsic value
        expired = np.broadcast_to(stdev < 1e-12, value.shape)
        value = np.where(expired, np.maximum(sign * (forward - strike), 0.0), value)
    return value if np.isscalar(discount) and discount == 1.0 else discount * value
