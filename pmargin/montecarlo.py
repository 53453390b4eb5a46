"""Monte Carlo scenario sets: correlated random spot moves drawn from the market's vols.

The YAML format is read by :mod:`pmargin.io.montecarlo_file`.

For the portfolio's underlyings ``u = 1..U``, each path draws a vector ``X`` of unit-variance
shocks with correlation matrix ``C`` (the market's ``correlations:``), and moves spot by

    r_u = σ_u · sqrt(h / 365) · X_u          (a log return, no drift)
    spot shock_u = exp(min(r_u, log 101)) − 1  (relative, as every spot shock, at most +10,000%)

* ``normal``: ``X = L·Z`` with ``Z`` independent standard normals and ``L·Lᵀ = C`` (Cholesky;
  an eigen-factor when ``C`` is singular but positive semi-definite). A matrix with a negative
  eigenvalue is an error.
* ``student_t``: multivariate Student t, ``X = L·Z · sqrt((df − 2) / W)`` with one
  ``W ~ χ²(df)`` per path shared by every underlying (crashes hit all at once), scaled to unit
  variance so ``σ_u`` keeps its meaning; the correlation of ``X`` is still ``C``.

``σ_u`` is the underlying's flat ``vol``; where the market gives a smile it is the 30-day ATM vol
of the smile (strike = the 30-day forward, interpolated in total variance between expiries, flat
outside them) — the smile is what options are priced with, so the two agree. A set built with an
``estimate`` (:class:`pmargin.estimate.Estimate`) takes ``σ`` and ``C`` from it instead.
Moves are applied instantaneously (``days: 0``, no theta) unless the file sets ``days``.

Stress (the "diversification failure" of :mod:`pmargin.scenario_library`'s
``diversification_failure`` set):

* ``correlation_stress: s`` (0 ≤ s ≤ 1): every off-diagonal ρ of ``C`` becomes ρ + s·(1 − ρ),
  i.e. ``C' = (1 − s)·C + s·11ᵀ``, PSD whenever ``C`` is; s = 1 moves all coins as one.
  :meth:`MonteCarloSet.unstressed` is the same set (same seed, same normals) with s = 0, so the
  difference of the two is what the correlations contributed.
* ``vol_spike: v`` (≥ 0): the moves are drawn with ``σ_u·(1 + v)`` and every option is valued at
  its implied vol × (1 + v) (a relative vol shock, as ``vol:`` in explicit sets). Otherwise
  implied vols are not shocked.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .errors import MarketDataError, Problem, ProblemCollector
from .estimate import Estimate
from .market import Market
from .nearest_correlation import PSD_TOLERANCE
from .scenarios import Shocks, VolTerm
from .values import MOVE_MAX

DISTRIBUTIONS = ("normal", "student_t")
#: a Monte Carlo set's own keys (its YAML keys beside the common ones, and what it lists)
PARAMETERS = (
    "paths",
    "horizon_days",
    "distribution",
    "df",
    "seed",
    "correlation_stress",
    "vol_spike",
)
MAX_PATHS = 1_000_000
#: paths × underlyings a set may draw (each of its few (underlyings × paths) arrays is then at
#: most 80 MB)
MAX_DRAWS = 10_000_000
VOL_TENOR_DAYS = 30.0
#: the largest log move of a path: log(1 + MOVE_MAX), the +10,000% that bounds every spot move
#: pmargin reads; a fat-tailed draw beyond it (which would overflow exp) is counted at it
MAX_LOG_MOVE = float(np.log1p(MOVE_MAX))


@dataclass(frozen=True)
class MonteCarloSet:
    """A seeded Monte Carlo scenario set; its shocks need the market's vols and correlations."""

    name: str
    paths: int
    horizon_days: float
    distribution: str = "normal"
    df: float | None = None
    seed: int = 0
    days: float = 0.0
    weight: float = 1.0
    vol_term: VolTerm | None = None
    description: str = ""
    kind: str = "montecarlo"
    source: str = ""
    bundled: bool = False
    correlation_stress: float = 0.0
    vol_spike: float = 0.0
    estimate: Estimate | None = None  # vols and correlations from history, not the market

    def __post_init__(self) -> None:
        if self.paths < 1:
            raise ValueError(f"`paths` must be ≥ 1, found {self.paths}")
        if self.horizon_days <= 0:
            raise ValueError(f"`horizon_days` must be > 0, found {self.horizon_days}")
        if self.distribution not in DISTRIBUTIONS:
            raise ValueError(f"`distribution` must be one of {DISTRIBUTIONS}")
        if self.distribution == "student_t" and (self.df is None or self.df <= 2):
            raise ValueError(f"`df` must be > 2 for student_t, found {self.df}")
        if not 0.0 <= self.correlation_stress <= 1.0:
            raise ValueError(
                f"`correlation_stress` must be in [0, 1], found {self.correlation_stress}"
            )
        if self.vol_spike < 0:
            raise ValueError(f"`vol_spike` must be ≥ 0, found {self.vol_spike}")

    @property
    def count(self) -> int:
        return self.paths

    @property
    def named_underlyings(self) -> set[str]:
        return set()  # it draws moves for whatever the portfolio holds

    def draws(self, correlation: np.ndarray) -> np.ndarray:
        """Unit-variance shocks with correlation ``correlation``: shape (U, paths)."""
        factor = correlation_factor(correlation)
        rng = np.random.default_rng(self.seed)
        normals = rng.standard_normal((len(correlation), self.paths))
        shocks = factor @ normals
        if self.distribution == "student_t":
            chi2 = rng.chisquare(self.df, self.paths)
            shocks *= np.sqrt((self.df - 2.0) / chi2)
        return shocks

    def unstressed(self) -> MonteCarloSet | None:
        """This set without its correlation stress (same seed and draws), or None if it has none."""
        if not self.correlation_stress:
            return None
        return replace(self, correlation_stress=0.0)

    def shocks(self, underlyings: tuple[str, ...], market: Market) -> Shocks:
        if len(underlyings) * self.paths > MAX_DRAWS:
            raise MarketDataError(
                Problem(
                    self.source or f"Monte Carlo set {self.name}",
                    f"{self.paths:,} paths × {len(underlyings)} underlyings is "
                    f"{len(underlyings) * self.paths:,} draws, more than the {MAX_DRAWS:,} a set "
                    "may make",
                    "Use fewer paths.",
                )
            )
        if self.estimate is not None:
            vols, correlation = self.estimate.draw_inputs(underlyings, self.name)
        else:
            vols = underlying_vols(market, underlyings, self.name)
            correlation = correlation_matrix(market, underlyings, self.name)
        correlation = stressed_correlation(correlation, self.correlation_stress)
        try:
            draws = self.draws(correlation)
        except NotPositiveSemiDefinite as exc:
            raise MarketDataError(
                Problem(
                    f"{market.source}: correlations",
                    f"the correlation matrix of {', '.join(underlyings)} is not positive "
                    f"semi-definite (smallest eigenvalue {exc.eigenvalue:.4g}), so Monte Carlo "
                    f"set {self.name} cannot draw correlated moves",
                    "Make the correlations consistent (e.g. if A~B and B~C are high, A~C cannot "
                    "be strongly negative).",
                )
            ) from None
        scale = (1.0 + self.vol_spike) * np.sqrt(self.horizon_days / 365.0)
        log_returns = np.minimum(vols[:, None] * scale * draws, MAX_LOG_MOVE)
        count = self.paths
        return Shocks(
            names=tuple(f"path {i}" for i in range(1, count + 1)),
            underlyings=tuple(underlyings),
            spot=np.expm1(log_returns),
            vol=np.full_like(log_returns, self.vol_spike),
            vol_shift=np.zeros_like(log_returns),
            days=np.full(count, float(self.days)),
            weight=np.full(count, float(self.weight)),
            vol_term=self.vol_term,
        )


class NotPositiveSemiDefinite(ValueError):
    def __init__(self, eigenvalue: float):
        super().__init__(f"matrix is not positive semi-definite (eigenvalue {eigenvalue})")
        self.eigenvalue = eigenvalue


def correlation_factor(correlation: np.ndarray) -> np.ndarray:
    """``L`` with ``L·Lᵀ = correlation``: Cholesky, or an eigen-factor if singular but PSD.

    Raises :class:`NotPositiveSemiDefinite` when an eigenvalue is below ``−PSD_TOLERANCE``.
    """
    correlation = np.asarray(correlation, dtype=np.float64)
    if correlation.size == 0:  # no underlyings (a book of cash only)
        return np.zeros((0, 0))
    eigenvalues, vectors = np.linalg.eigh(correlation)
    if eigenvalues[0] < -PSD_TOLERANCE:
        raise NotPositiveSemiDefinite(float(eigenvalues[0]))
    try:
        return np.linalg.cholesky(correlation)
    except np.linalg.LinAlgError:
        return vectors * np.sqrt(np.maximum(eigenvalues, 0.0))


def stressed_correlation(correlation: np.ndarray, stress: float) -> np.ndarray:
    """``correlation`` with every off-diagonal ρ moved to ρ + stress·(1 − ρ), 0 ≤ stress ≤ 1."""
    if not stress:
        return correlation
    return correlation + stress * (1.0 - correlation)


def correlation_matrix(market: Market, underlyings: tuple[str, ...], set_name: str) -> np.ndarray:
    """The market's correlation matrix for ``underlyings``; every missing pair is an error."""
    size = len(underlyings)
    matrix = np.eye(size)
    problems = ProblemCollector(MarketDataError)
    for i in range(size):
        for j in range(i + 1, size):
            rho = market.correlation(underlyings[i], underlyings[j])
            if rho is None:
                problems.add(
                    f"{market.source}: correlations.{underlyings[i]}.{underlyings[j]}",
                    f"no correlation between {underlyings[i]} and {underlyings[j]}, which "
                    f"Monte Carlo set {set_name} needs",
                    f"Add `correlations: {{{underlyings[i]}: {{{underlyings[j]}: 0.8}}}}` "
                    "(your estimate) to the market file.",
                )
            else:
                matrix[i, j] = matrix[j, i] = rho
    problems.raise_if_any()
    return matrix


def underlying_vols(market: Market, underlyings: tuple[str, ...], set_name: str) -> np.ndarray:
    """Annualised vol per underlying: flat ``vol``, or the smile's 30-day ATM vol."""
    problems = ProblemCollector(MarketDataError)
    vols = np.full(len(underlyings), np.nan)
    horizon = np.array([market.as_of64 + np.timedelta64(int(VOL_TENOR_DAYS * 86400), "s")])
    for index, underlying in enumerate(underlyings):
        data = market.underlyings.get(underlying)
        if data is None or not data.has_vol:
            problems.add(
                f"{market.source}: underlyings.{underlying}.vol",
                f"no vol or smile for {underlying}, which Monte Carlo set {set_name} needs "
                "to size its moves",
                f"Add `vol:` (decimal, e.g. 0.6) under `underlyings: {underlying}:`.",
            )
            continue
        if data.smile is not None:
            forward = market.forwards(underlying, horizon)
            vols[index] = float(market.vols(underlying, horizon, forward)[0])
        else:
            vols[index] = float(data.vol)
    problems.raise_if_any()
    return vols
