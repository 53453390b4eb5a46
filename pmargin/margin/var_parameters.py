"""The parameters of the ``var`` model, read from its YAML (``pmargin/models/var.yaml``): the
keys it knows (and those of earlier versions, with why they went) and the ``montecarlo:``
block."""

from __future__ import annotations

from typing import Any

from ..errors import ProblemCollector
from ..montecarlo import DISTRIBUTIONS, MAX_PATHS
from ..values import number, section, unknown_key_problem

KEYS = (
    "name",
    "method",
    "description",
    "source",
    "confidence",
    "horizon_days",
    "scenarios",
    "montecarlo",
    "historical",
    "maintenance_ratio",
    "liquidation",
)
MONTECARLO_KEYS = ("paths", "seed", "distribution", "df", "estimate")
HISTORICAL_KEYS = ("prices", "date_column")
#: keys of earlier versions of this model, and why they went
REMOVED_KEYS = {
    "returns": "Monte Carlo moves are log returns (S' = S·eˣ)",
    "days_per_year": "Monte Carlo vols scale by √(horizon_days / 365)",
}


def check_var_keys(block, valid: tuple[str, ...], where: str, problems: ProblemCollector) -> None:
    """Every key of ``block`` is one of ``valid``; a key of an earlier version says why it went."""
    for key in block:
        if key in REMOVED_KEYS:
            problems.add(
                f"{where}{key}", f"no longer a parameter: {REMOVED_KEYS[key]}", "Delete it."
            )
        elif key not in valid:
            problems.append(unknown_key_problem(f"{where}{key}", key, valid))


def montecarlo_parameters(
    document: dict[str, Any], where: str, problems: ProblemCollector
) -> dict[str, Any]:
    """The ``montecarlo:`` block as MonteCarloSet keywords (paths, seed, distribution, df)."""
    mc = section(document, "montecarlo", where, problems)
    check_var_keys(mc, MONTECARLO_KEYS, f"{where}: montecarlo.", problems)
    paths = number(
        mc.get("paths", 20000),
        f"{where}: montecarlo.paths",
        problems,
        minimum=100,
        maximum=MAX_PATHS,
    )
    seed = number(mc.get("seed", 0), f"{where}: montecarlo.seed", problems, minimum=0)
    for key, value in (("paths", paths), ("seed", seed)):
        if value is not None and value != int(value):
            problems.add(f"{where}: montecarlo.{key}", f"must be a whole number, found {value}")
    distribution = str(mc.get("distribution", "normal"))
    if distribution not in DISTRIBUTIONS:
        problems.add(
            f"{where}: montecarlo.distribution",
            f"unknown {distribution!r}",
            f"Use {' or '.join(DISTRIBUTIONS)}.",
        )
    df = number(mc.get("df", 5), f"{where}: montecarlo.df", problems)
    if df is not None and df <= 2:
        problems.add(f"{where}: montecarlo.df", f"must be above 2 (finite variance), found {df}")
    if paths is None or seed is None or df is None:
        return {}
    return {"paths": int(paths), "seed": int(seed), "distribution": distribution, "df": float(df)}
