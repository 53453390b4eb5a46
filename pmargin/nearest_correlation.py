"""The nearest correlation matrix to an estimate that is not positive semi-definite.

Correlations estimated pair by pair (over different spans of history, or typed by hand) need not
form a valid correlation matrix. :func:`nearest_correlation` finds the closest one in the
Frobenius norm; :func:`positive_semi_definite` applies it only when needed and states the size of
the change as a :class:`Repair`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: eigenvalues above −PSD_TOLERANCE count as zero (rounding in a hand-written matrix)
PSD_TOLERANCE = 1e-10


@dataclass(frozen=True)
class Repair:
    """How far the nearest correlation matrix is from an estimate that was not PSD."""

    smallest_eigenvalue: float  # of the estimate, < 0
    distance: float  # Frobenius norm of (repaired − estimated)
    pair: tuple[str, str]  # the pair that moved most
    before: float
    after: float

    @property
    def largest_change(self) -> float:
        return abs(self.after - self.before)

    def message(self) -> str:
        first, second = self.pair
        return (
            "the estimated correlation matrix is not positive semi-definite (smallest "
            f"eigenvalue {self.smallest_eigenvalue:.4g}); it was replaced by the nearest "
            f"correlation matrix (Higham 2002): Frobenius distance {self.distance:.4g}, largest "
            f"change {first}/{second} {self.before:+.4f} → {self.after:+.4f} "
            f"({self.largest_change:.4f})"
        )


def positive_semi_definite(
    correlation: np.ndarray, coins: tuple[str, ...]
) -> tuple[np.ndarray, Repair | None]:
    """The matrix itself when PSD, else the nearest correlation matrix and the repair's size."""
    smallest = float(np.linalg.eigvalsh(correlation)[0])
    if smallest >= -PSD_TOLERANCE:
        return correlation, None
    repaired = nearest_correlation(correlation)
    change = np.abs(repaired - correlation)
    i, j = np.unravel_index(int(np.argmax(change)), change.shape)
    repair = Repair(
        smallest_eigenvalue=smallest,
        distance=float(np.linalg.norm(repaired - correlation)),
        pair=(coins[i], coins[j]),
        before=float(correlation[i, j]),
        after=float(repaired[i, j]),
    )
    return repaired, repair


def nearest_correlation(
    matrix: np.ndarray, *, tolerance: float = 1e-12, max_iterations: int = 100_000
) -> np.ndarray:
    """The correlation matrix nearest to a symmetric ``matrix`` in the Frobenius norm.

    Higham's alternating projections with Dykstra's correction (N. J. Higham, "Computing the
    nearest correlation matrix — a problem from finance", IMA J. Numer. Anal. 22, 2002),
    alternately onto the PSD cone and the unit-diagonal matrices, until an iterate moves by less
    than ``tolerance``; the limit is then clipped to PSD and rescaled to a unit diagonal, so
    rounding leaves no negative eigenvalue of note.
    """
    current = np.array(matrix, dtype=np.float64)
    correction = np.zeros_like(current)
    for _ in range(max_iterations):
        residual = current - correction
        projected = _psd_part(residual)
        correction = projected - residual
        following = projected.copy()
        np.fill_diagonal(following, 1.0)
        converged = np.max(np.abs(following - current)) < tolerance
        current = following
        if converged:
            break
    clipped = _psd_part(current)
    scale = np.sqrt(np.diag(clipped))
    result = clipped / np.outer(scale, scale)
    np.fill_diagonal(result, 1.0)
    return (result + result.T) / 2.0


def _psd_part(matrix: np.ndarray) -> np.ndarray:
    """Projection of a symmetric matrix onto the PSD cone: negative eigenvalues set to 0."""
    eigenvalues, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (vectors * np.maximum(eigenvalues, 0.0)) @ vectors.T
