"""Value at risk and expected shortfall from scenario P&L (a vector, or rows of them).

Both are reported as positive losses in USD (SPEC §1). With ``n`` scenarios and confidence
``α``, let ``k = ceil(n·(1 − α))`` (at least 1) and sort the P&L ascending, ``x₁ ≤ x₂ ≤ …``:

* ``VaR_α = −x_k`` — minus the empirical (1 − α) quantile, the inverse of the empirical CDF,
  with no interpolation between scenarios (``k`` is computed so that 10,000 scenarios at 99%
  give exactly the 100th worst, where ``numpy.quantile(..., method="inverted_cdf")`` can take
  the 101st through the rounding of ``1 − 0.99``);
* ``ES_α = −(x₁ + … + x_k) / k`` — minus the mean of the ``k`` worst scenarios, the tail that
  VaR bounds; so ``ES_α ≥ VaR_α`` always.

Every scenario counts equally (scenario weights of margin models do not apply). A negative figure
means even the tail scenario is a gain. With fewer than ``1 / (1 − α)`` scenarios (100 at 99%)
both measures are the single worst scenario.

Both take the scenarios along the last axis of ``pnl``: 1-D P&L gives a float, an (..., n) array
gives an array of shape (...), one figure per row (e.g. per instrument or per underlying).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: the confidence levels reported for historical and Monte Carlo sets
LEVELS = (0.95, 0.99)


def tail_count(count: int, confidence: float) -> int:
    """Number of worst scenarios in the (1 − confidence) tail: ceil(count·(1 − confidence)) ≥ 1."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"`confidence` must be in (0, 1), found {confidence}")
    # round first so that 10,000 × (1 − 0.99) = 100.00000000000001 counts as 100
    return max(1, math.ceil(round(count * (1.0 - confidence), 9)))


def _tail(pnl: np.ndarray, confidence: float) -> tuple[np.ndarray, int]:
    """The P&L partitioned along the last axis so that ``[..., :k]`` are the k worst, and k."""
    pnl = np.asarray(pnl, dtype=np.float64)
    if pnl.ndim == 0:
        pnl = pnl.reshape(1)
    if pnl.shape[-1] == 0:
        raise ValueError("no scenarios to measure")
    k = tail_count(pnl.shape[-1], confidence)
    return np.partition(pnl, k - 1, axis=-1), k


def _result(values: np.ndarray) -> float | np.ndarray:
    return float(values) if values.ndim == 0 else values


def value_at_risk(pnl: np.ndarray, confidence: float) -> float | np.ndarray:
    """VaR at ``confidence`` (e.g. 0.99) of scenario P&L ``pnl`` (USD, loss < 0), as a loss.

    Scenarios run along the last axis: a float for 1-D ``pnl``, else an array of its leading
    shape (one VaR per row).
    """
    partitioned, k = _tail(pnl, confidence)
    return _result(-partitioned[..., k - 1])


def expected_shortfall(pnl: np.ndarray, confidence: float) -> float | np.ndarray:
    """ES at ``confidence``: minus the mean P&L of the worst ceil(n·(1 − confidence)) scenarios.

    Scenarios run along the last axis, as in :func:`value_at_risk`.
    """
    partitioned, k = _tail(pnl, confidence)
    return _result(-np.mean(partitioned[..., :k], axis=-1))


@dataclass(frozen=True)
class TailRisk:
    """VaR and ES at 95% and 99%, USD, positive = loss."""

    var_95: float
    var_99: float
    es_95: float
    es_99: float

    @classmethod
    def of(cls, pnl: np.ndarray) -> TailRisk:
        return cls(
            var_95=value_at_risk(pnl, 0.95),
            var_99=value_at_risk(pnl, 0.99),
            es_95=expected_shortfall(pnl, 0.95),
            es_99=expected_shortfall(pnl, 0.99),
        )

    def as_dict(self) -> dict[str, float]:
        return {
            "var_95": self.var_95,
            "var_99": self.var_99,
            "es_95": self.es_95,
            "es_99": self.es_99,
        }
