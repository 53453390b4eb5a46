"""Scenario set loader (YAML), and the bundled library of named sets.

A file holds one set; ``kind`` is ``explicit`` (default), ``grid``, ``historical``
(:mod:`pmargin.io.historical_file`) or ``montecarlo`` (:mod:`pmargin.io.montecarlo_file`); a
further kind registers its builder in :data:`KINDS`. Formats (SPEC §3)::

    name: crash
    description: Broad crypto crash with a volatility spike
    days: 0                      # default time shock of every scenario
    vol_term: {ref_days: 30, short_power: 0.30, long_power: 0.13, floor: 0.0}   # optional
    weight: 1.0                  # optional, fraction of the loss that counts
    scenarios:
      - name: "All -30%, vol +50%"
        spot: -0.30              # every underlying ...
        vol: 0.5
      - name: "BTC -20%, ETH -35%"
        shocks:                  # ... or per underlying; "*" is the default entry
          BTC: {spot: -0.20, vol: 0.3}
          ETH: {spot: -0.35, vol_shift: 0.25}

    kind: grid
    spot: {min: -0.16, max: 0.16, steps: 9}   # or a list of moves
    vol: [-0.25, 0, 0.5]                      # relative; or vol_shift: [...]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, Problem, ProblemCollector
from ..scenarios import COMMON_SET_KEYS, DEFAULT_KEY, ScenarioSet, VolTerm, grid_set
from ..values import (
    DAYS_MAX,
    MAX_SCENARIOS,
    MOVE_MAX,
    VOL_MAX,
    WEIGHT_MAX,
    check_keys,
    number,
    same_key_problems,
    spot_axis,
    upper_key,
)
from .historical_file import build_historical
from .montecarlo_file import build_montecarlo
from .yaml_safe import load_yaml

SHOCK_KEYS = ("spot", "vol", "vol_shift")
SCENARIO_KEYS = ("name", "description", "days", "weight", "shocks", *SHOCK_KEYS)
EXPLICIT_KEYS = (*COMMON_SET_KEYS, "scenarios")
GRID_KEYS = (*COMMON_SET_KEYS, "spot", "vol", "vol_shift")

Builder = Callable[[dict, str, Path, ProblemCollector], Any]
#: the range of each kind of shock (see the bounds in :mod:`pmargin.values`): a relative spot
#: move above −1 (a price stays > 0), a relative vol move from −1, an absolute vol shift
SHOCK_RANGES = {"spot": (None, MOVE_MAX), "vol": (-1.0, MOVE_MAX), "vol_shift": (-VOL_MAX, VOL_MAX)}
#: one scenario's shocks: shock kind -> underlying (or "*") -> move
Entry = dict[str, dict[str, float]]


def bundled_dir() -> Path:
    """Folder of the bundled scenario library."""
    return Path(str(resources.files("pmargin.scenario_library")))


def bundled_sets() -> list[str]:
    return sorted(p.stem for p in bundled_dir().glob("*.yaml"))


def resolve_scenario(name_or_path: str | Path, label: str = "--scenario") -> Path:
    """A path as given if it exists, else the bundled set of that name (``label``: what named
    it, for the message)."""
    text = str(name_or_path)
    path = Path(text)
    if path.exists():
        return path
    bundled = bundled_dir() / f"{text.removesuffix('.yaml')}.yaml"
    if bundled.exists() and path.parent == Path("."):
        return bundled
    raise InputError(
        Problem(
            f"{label} {text}",
            "no such file or bundled scenario set",
            f"Bundled sets: {', '.join(bundled_sets())}.",
        )
    )


def _explicit(document: dict, where: str, path: Path, problems: ProblemCollector) -> ScenarioSet:
    check_keys(document, EXPLICIT_KEYS, where, problems)
    raw = document.get("scenarios")
    if not isinstance(raw, list) or not raw:
        problems.add(f"{where}: scenarios", "expected a non-empty list of scenarios")
        raw = []
    if len(raw) > MAX_SCENARIOS:
        problems.add(
            f"{where}: scenarios", f"at most {MAX_SCENARIOS:,} scenarios, found {len(raw):,}"
        )
        raw = []
    default_days = _days(document.get("days", 0), f"{where}: days", problems) or 0.0
    default_weight = _weight(document.get("weight", 1), f"{where}: weight", problems)
    if default_weight is None:  # already a problem: not one more for each scenario
        default_weight = 1.0
    names: list[str] = []
    entries: list[Entry] = []
    days, weights = [], []
    for index, scenario in enumerate(raw):
        key = f"{where}: scenarios[{index}]"
        if not isinstance(scenario, dict):
            problems.add(key, "expected a mapping with `name` and shocks")
            continue
        check_keys(scenario, SCENARIO_KEYS, key, problems)
        name = str(scenario.get("name") or f"scenario {index + 1}")
        if name in names:
            problems.add(f"{key}.name", f"duplicate scenario name {name!r}", "Names must differ.")
        names.append(name)
        entries.append(_scenario_shocks(scenario, key, problems))
        days.append(_days(scenario.get("days", default_days), f"{key}.days", problems) or 0.0)
        weights.append(
            _weight(scenario.get("weight", default_weight), f"{key}.weight", problems) or 0.0
        )
    arrays = _shock_arrays(entries)
    return ScenarioSet(
        name=str(document.get("name") or path.stem),
        scenario_names=tuple(names[: len(entries)]),
        spot=arrays["spot"],
        vol=arrays["vol"],
        vol_shift=arrays["vol_shift"],
        days=np.array(days),
        weight=np.array(weights),
        vol_term=VolTerm.parse(document.get("vol_term"), f"{where}: vol_term", problems),
        description=str(document.get("description") or ""),
        kind="explicit",
        source=str(path),
    )


def _days(value, where: str, problems: ProblemCollector) -> float | None:
    return number(value, where, problems, minimum=0, maximum=DAYS_MAX)


def _weight(value, where: str, problems: ProblemCollector) -> float | None:
    return number(value, where, problems, minimum=0, maximum=WEIGHT_MAX)


def _shock(value, shock: str, where: str, problems: ProblemCollector) -> float | None:
    low, high = SHOCK_RANGES[shock]
    return number(value, where, problems, minimum=low, maximum=high)


def _scenario_shocks(scenario: dict, key: str, problems: ProblemCollector) -> Entry:
    """One scenario's moves: top-level ones under ``"*"``, then those under ``shocks:``."""
    entry: Entry = {k: {} for k in SHOCK_KEYS}
    for shock in SHOCK_KEYS:
        if shock in scenario:
            value = _shock(scenario[shock], shock, f"{key}.{shock}", problems)
            if value is not None:
                entry[shock][DEFAULT_KEY] = value
    per_underlying = scenario.get("shocks") or {}
    if not isinstance(per_underlying, dict):
        problems.add(f"{key}.shocks", "expected a mapping underlying -> {spot, vol, ...}")
        per_underlying = {}
    problems.extend(same_key_problems(per_underlying, f"{key}.shocks", "underlying"))
    for underlying, shocks in per_underlying.items():
        ukey = f"{key}.shocks.{underlying}"
        if not isinstance(shocks, dict):
            problems.add(ukey, "expected a mapping such as {spot: -0.2, vol: 0.3}")
            continue
        check_keys(shocks, SHOCK_KEYS, ukey, problems)
        code = upper_key(underlying) if underlying != DEFAULT_KEY else DEFAULT_KEY
        for shock in SHOCK_KEYS:
            if shock in shocks:
                value = _shock(shocks[shock], shock, f"{ukey}.{shock}", problems)
                if value is not None:
                    entry[shock][code] = value
    for u, move in entry["spot"].items():
        if move <= -1:
            problems.add(
                f"{key}",
                f"spot move {move} for {u} would make the price ≤ 0",
                "Spot moves are relative: -0.3 means -30%.",
            )
    return entry


def _shock_arrays(entries: list[Entry]) -> dict[str, dict[str, np.ndarray]]:
    """Per shock kind and underlying, one move per scenario; an underlying a scenario does not
    list takes that scenario's ``"*"`` entry (else 0)."""
    arrays: dict[str, dict[str, np.ndarray]] = {}
    for shock in SHOCK_KEYS:
        codes = {u for entry in entries for u in entry[shock]}
        arrays[shock] = {
            code: np.array([e[shock].get(code, e[shock].get(DEFAULT_KEY, 0.0)) for e in entries])
            for code in codes
        }
    return arrays


def _grid(document: dict, where: str, path: Path, problems: ProblemCollector) -> ScenarioSet:
    check_keys(document, GRID_KEYS, where, problems)
    low, high = SHOCK_RANGES["spot"]
    spot = spot_axis(
        document.get("spot", [0.0]), f"{where}: spot", problems, minimum=low, maximum=high
    )
    if "vol" in document and "vol_shift" in document:
        problems.add(where, "give either `vol` (relative) or `vol_shift` (absolute), not both")
    vol_kind = "vol_shift" if "vol_shift" in document else "vol"
    low, high = SHOCK_RANGES[vol_kind]
    vol = spot_axis(
        document.get(vol_kind, [0.0]), f"{where}: {vol_kind}", problems, minimum=low, maximum=high
    )
    if any(s <= -1 for s in spot):
        problems.add(f"{where}: spot", "a move ≤ -1 would make the price ≤ 0")
    if len(spot) * len(vol) > MAX_SCENARIOS:
        problems.add(
            where,
            f"{len(spot):,} spot × {len(vol):,} vol moves is {len(spot) * len(vol):,} scenarios, "
            f"more than the {MAX_SCENARIOS:,} a set may have",
            "Use fewer steps.",
        )
        spot, vol = [], []
    days = _days(document.get("days", 0), f"{where}: days", problems) or 0.0
    weight = _weight(document.get("weight", 1), f"{where}: weight", problems)
    vol_term = VolTerm.parse(document.get("vol_term"), f"{where}: vol_term", problems)
    return grid_set(
        str(document.get("name") or path.stem),
        spot,
        vol,
        vol_kind=vol_kind,
        days=days,
        weight=1.0 if weight is None else weight,
        vol_term=vol_term,
        description=str(document.get("description") or ""),
        source=str(path),
    )


#: scenario kind -> builder(document, where, path, problems)
KINDS: dict[str, Builder] = {
    "explicit": _explicit,
    "grid": _grid,
    "historical": build_historical,
    "montecarlo": build_montecarlo,
}


def load_scenarios(name_or_path: str | Path, label: str = "--scenario"):
    """Load one scenario set from a file, or a bundled set by name (``label``: what named it)."""
    path = resolve_scenario(name_or_path, label)
    where = str(path)
    document = load_yaml(path, "scenario set")
    if not isinstance(document, dict):
        raise InputError(Problem(where, "expected a mapping with `scenarios:` or `kind:`"))
    kind = str(document.get("kind", "explicit"))
    if kind not in KINDS:
        raise InputError(
            Problem(f"{where}: kind", f"unknown kind {kind!r}", f"Use one of {', '.join(KINDS)}.")
        )
    problems = ProblemCollector()
    scenario_set = KINDS[kind](document, where, path, problems)
    problems.raise_if_any()
    if path.resolve().parent == bundled_dir().resolve():
        scenario_set = replace(scenario_set, bundled=True)
    return scenario_set
