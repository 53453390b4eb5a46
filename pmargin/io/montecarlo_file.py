"""Monte Carlo scenario sets from YAML (SPEC §3); the draws are :mod:`pmargin.montecarlo`'s.

::

    kind: montecarlo
    paths: 10000                 # number of scenarios, 1 to 1,000,000
    horizon_days: 2              # h, calendar days (ACT/365), > 0 and at most 3,650
    distribution: student_t      # or normal (default)
    df: 4                        # degrees of freedom of student_t, > 2
    seed: 7                      # default 0: the same seed always gives the same numbers
    correlation_stress: 0.5      # optional, 0 to 1: every ρ becomes ρ + s·(1 − ρ)
    vol_spike: 0.5               # optional, ≥ 0: moves drawn with vol × 1.5, implied vols × 1.5
    days: 0                      # optional, as in every set: time shock, weight, vol_term
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ProblemCollector
from ..montecarlo import DISTRIBUTIONS, MAX_PATHS, PARAMETERS, MonteCarloSet
from ..scenarios import COMMON_SET_KEYS, VolTerm
from ..values import DAYS_MAX, MOVE_MAX, WEIGHT_MAX, check_keys, finite_number, whole_number

SPECIFIC_KEYS = PARAMETERS


def build_montecarlo(
    document: dict, where: str, path: Path, problems: ProblemCollector
) -> MonteCarloSet | None:
    """``kind: montecarlo`` builder for :data:`pmargin.io.scenario_file.KINDS`."""
    check_keys(document, (*COMMON_SET_KEYS, *SPECIFIC_KEYS), where, problems)
    if "paths" not in document:
        problems.add(f"{where}: paths", "missing", "Give the number of paths, e.g. `paths: 10000`.")
        paths = None
    else:
        paths = whole_number(document["paths"], f"{where}: paths", problems, minimum=1)
        if paths is not None and paths > MAX_PATHS:
            problems.add(f"{where}: paths", f"at most {MAX_PATHS:,} paths, found {paths:,}")
    horizon = finite_number(
        document.get("horizon_days", 1),
        f"{where}: horizon_days",
        problems,
        strictly_positive=True,
        maximum=DAYS_MAX,
    )
    distribution = str(document.get("distribution", "normal"))
    if distribution not in DISTRIBUTIONS:
        problems.add(
            f"{where}: distribution",
            f"unknown distribution {distribution!r}",
            f"Use one of {', '.join(DISTRIBUTIONS)}.",
        )
    df = _degrees_of_freedom(document, distribution, where, problems)
    seed = whole_number(document.get("seed", 0), f"{where}: seed", problems, minimum=0)
    days = finite_number(
        document.get("days", 0), f"{where}: days", problems, minimum=0, maximum=DAYS_MAX
    )
    weight = finite_number(
        document.get("weight", 1), f"{where}: weight", problems, minimum=0, maximum=WEIGHT_MAX
    )
    vol_term = VolTerm.parse(document.get("vol_term"), f"{where}: vol_term", problems)
    stress = finite_number(
        document.get("correlation_stress", 0),
        f"{where}: correlation_stress",
        problems,
        minimum=0,
    )
    if stress is not None and stress > 1:
        problems.add(
            f"{where}: correlation_stress",
            f"must be between 0 and 1, found {stress:g}",
            "1 moves every coin as one; 0 keeps the market's correlations.",
        )
    spike = finite_number(
        document.get("vol_spike", 0), f"{where}: vol_spike", problems, minimum=0, maximum=MOVE_MAX
    )
    if problems:
        return None
    return MonteCarloSet(
        name=str(document.get("name") or path.stem),
        paths=paths,
        horizon_days=horizon,
        distribution=distribution,
        df=df,
        seed=seed,
        days=days or 0.0,
        weight=1.0 if weight is None else weight,
        vol_term=vol_term,
        description=str(document.get("description") or ""),
        source=where,
        correlation_stress=stress,
        vol_spike=spike,
    )


def _degrees_of_freedom(
    document: dict, distribution: str, where: str, problems: ProblemCollector
) -> float | None:
    """``df`` for student_t (> 2, finite variance); None for normal, where it must be absent."""
    if distribution != "student_t":
        if "df" in document:
            problems.add(f"{where}: df", "only applies to `distribution: student_t`")
        return None
    if "df" not in document:
        problems.add(f"{where}: df", "missing for student_t", "Give e.g. `df: 4`.")
        return None
    df = finite_number(document["df"], f"{where}: df", problems, maximum=1e6)
    if df is not None and df <= 2:
        problems.add(
            f"{where}: df",
            f"must be > 2 (finite variance), found {df:g}",
            "Fat tails as in crypto: 3 to 6.",
        )
    return df
