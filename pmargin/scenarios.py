"""Scenario sets as data, and their resolution into arrays of market shocks.

A scenario only transforms market data (SPEC §1):

* ``spot`` — relative move: S' = S·(1 + spot); forwards of that underlying move by the same factor;
* ``vol`` — relative: σ' = σ·(1 + vol); ``vol_shift`` — absolute: σ' = σ + vol_shift;
  never below :data:`VOL_FLOOR`;
* ``days`` — the valuation date moves forward (options lose time value);
* ``weight`` — the fraction of a loss that counts (extended scenarios of margin models).

``vol_term`` scales each option's vol shock by (ref_days / max(DTE, 1))^p, with p = short_power
below ref_days and long_power from it on; ``floor`` is the least vol an upward shock may give.

Every kind of set (explicit, grid, historical, Monte Carlo) ends as a :class:`Shocks`: arrays of
shape (underlyings × scenarios) that the engine applies to the market in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .errors import ProblemCollector
from .market import Market
from .values import DAYS_MAX, POWER_MAX, VOL_MAX, check_keys, number

VOL_FLOOR = 0.01
DEFAULT_KEY = "*"
#: keys every kind of scenario set file may have (each kind adds its own)
COMMON_SET_KEYS = ("name", "description", "kind", "days", "weight", "vol_term")


@dataclass(frozen=True)
class VolTerm:
    """Term-structure scaling of vol shocks: short-dated vol moves more than long-dated."""

    ref_days: float = 30.0
    short_power: float = 0.30
    long_power: float = 0.13
    floor: float = 0.0

    def scale(self, days_to_expiry: np.ndarray) -> np.ndarray:
        """Multiplier of the vol shock for each option, from its days to expiry."""
        dte = np.maximum(np.asarray(days_to_expiry, dtype=np.float64), 1.0)
        power = np.where(dte < self.ref_days, self.short_power, self.long_power)
        return (self.ref_days / dte) ** power

    KEYS = ("ref_days", "short_power", "long_power", "floor")

    @classmethod
    def parse(cls, raw: object, where: str, problems: ProblemCollector) -> VolTerm | None:
        """A VolTerm from a mapping ``{ref_days, short_power, long_power, floor}`` (each key
        optional, defaulting to the class's); None for a missing ``raw`` or after a problem."""
        if raw is None:
            return None
        if not isinstance(raw, dict):
            problems.add(where, "expected a mapping {ref_days, short_power, long_power, floor}")
            return None
        check_keys(raw, cls.KEYS, where, problems)
        defaults = cls()
        bounds = {"ref_days": DAYS_MAX, "short_power": POWER_MAX, "long_power": POWER_MAX}
        values = {
            key: number(
                raw.get(key, getattr(defaults, key)),
                f"{where}.{key}",
                problems,
                minimum=0,
                maximum=bounds.get(key, VOL_MAX),
            )
            for key in cls.KEYS
        }
        if None in values.values():
            return None
        if values["ref_days"] < 1:
            problems.add(f"{where}.ref_days", "must be ≥ 1")
            return None
        return cls(**values)


@dataclass(frozen=True)
class Shocks:
    """Scenario shocks resolved for given underlyings, as arrays.

    ``spot``, ``vol`` and ``vol_shift`` have shape (underlyings, scenarios); ``days`` and
    ``weight`` have shape (scenarios,).
    """

    names: tuple[str, ...]
    underlyings: tuple[str, ...]
    spot: np.ndarray
    vol: np.ndarray
    vol_shift: np.ndarray
    days: np.ndarray
    weight: np.ndarray
    vol_term: VolTerm | None = None

    @property
    def count(self) -> int:
        return len(self.names)

    def columns(self, start: int, stop: int) -> Shocks:
        """Scenarios ``start:stop`` of these shocks."""
        if start == 0 and stop == self.count:
            return self
        return Shocks(
            self.names[start:stop],
            self.underlyings,
            self.spot[:, start:stop],
            self.vol[:, start:stop],
            self.vol_shift[:, start:stop],
            self.days[start:stop],
            self.weight[start:stop],
            self.vol_term,
        )

    def take(self, indices: np.ndarray) -> Shocks:
        """The scenarios at ``indices`` (in that order)."""
        indices = np.asarray(indices, dtype=np.int64)
        return Shocks(
            tuple(self.names[i] for i in indices),
            self.underlyings,
            self.spot[:, indices],
            self.vol[:, indices],
            self.vol_shift[:, indices],
            self.days[indices],
            self.weight[indices],
            self.vol_term,
        )

    def concat(self, other: Shocks) -> Shocks:
        """These scenarios followed by ``other``'s (same underlyings; vol_term of this set)."""
        if self.underlyings != other.underlyings or self.vol_term != other.vol_term:
            raise ValueError("can only join shocks for the same underlyings and vol_term")
        return Shocks(
            self.names + other.names,
            self.underlyings,
            np.hstack([self.spot, other.spot]),
            np.hstack([self.vol, other.vol]),
            np.hstack([self.vol_shift, other.vol_shift]),
            np.concatenate([self.days, other.days]),
            np.concatenate([self.weight, other.weight]),
            self.vol_term,
        )


def move_shocks(underlyings: tuple[str, ...], spot, vol, vol_term=None) -> Shocks:
    """The (U, K) relative spot and vol moves as instantaneous scenarios of full weight."""
    count = spot.shape[1]
    return Shocks(
        names=tuple(str(k) for k in range(count)),
        underlyings=underlyings,
        spot=spot,
        vol=vol,
        vol_shift=np.zeros_like(vol),
        days=np.zeros(count),
        weight=np.ones(count),
        vol_term=vol_term,
    )


class ScenarioSource(Protocol):
    """Anything that resolves into :class:`Shocks` for a market and a list of underlyings."""

    name: str
    description: str
    kind: str

    def shocks(self, underlyings: tuple[str, ...], market: Market) -> Shocks: ...


@dataclass(frozen=True)
class GridAxes:
    """The axes of a grid set, kept so its P&L can be shown as a spot × vol heatmap."""

    spot: tuple[float, ...]
    vol: tuple[float, ...]
    vol_kind: str  # "vol" (relative) or "vol_shift" (absolute)


@dataclass(frozen=True)
class ScenarioSet:
    """A named list of scenarios whose shocks are known without a market.

    ``spot``, ``vol`` and ``vol_shift`` map an underlying (or ``"*"``, the default for any
    underlying not listed) to an array with one shock per scenario. An underlying with neither its
    own entry nor a ``"*"`` entry is not shocked.
    """

    name: str
    scenario_names: tuple[str, ...]
    spot: dict[str, np.ndarray] = field(default_factory=dict)
    vol: dict[str, np.ndarray] = field(default_factory=dict)
    vol_shift: dict[str, np.ndarray] = field(default_factory=dict)
    days: np.ndarray | None = None
    weight: np.ndarray | None = None
    vol_term: VolTerm | None = None
    description: str = ""
    kind: str = "explicit"
    source: str = ""
    grid: GridAxes | None = None
    #: part of pmargin's own scenario library (its sets name BTC and ETH for every book)
    bundled: bool = False

    @property
    def count(self) -> int:
        return len(self.scenario_names)

    @property
    def named_underlyings(self) -> set[str]:
        return {u for table in (self.spot, self.vol, self.vol_shift) for u in table} - {DEFAULT_KEY}

    def shocks(self, underlyings: tuple[str, ...], market: Market | None = None) -> Shocks:
        count = self.count

        def table(shocks: dict[str, np.ndarray]) -> np.ndarray:
            zero = np.zeros(count)
            default = shocks.get(DEFAULT_KEY, zero)
            return np.array([shocks.get(u, default) for u in underlyings]).reshape(
                len(underlyings), count
            )

        return Shocks(
            names=tuple(self.scenario_names),
            underlyings=tuple(underlyings),
            spot=table(self.spot),
            vol=table(self.vol),
            vol_shift=table(self.vol_shift),
            days=np.zeros(count) if self.days is None else np.asarray(self.days, float),
            weight=np.ones(count) if self.weight is None else np.asarray(self.weight, float),
            vol_term=self.vol_term,
        )


def format_move(value: float) -> str:
    """``-0.16`` -> ``"-16%"``, ``0.125`` -> ``"+12.5%"``."""
    return f"{value * 100:+.4g}%" if value else "0%"


def grid_set(
    name: str,
    spot_moves: list[float],
    vol_moves: list[float],
    *,
    vol_kind: str = "vol",
    days: float = 0.0,
    weight: float = 1.0,
    vol_term: VolTerm | None = None,
    description: str = "",
    source: str = "",
) -> ScenarioSet:
    """The cartesian product spot × vol, spot outermost, named ``"spot -16%, vol +50%"``."""
    spot_grid, vol_grid = np.meshgrid(spot_moves, vol_moves, indexing="ij")
    spot_flat, vol_flat = spot_grid.ravel(), vol_grid.ravel()
    label = "vol" if vol_kind == "vol" else "vol shift"
    names = tuple(
        f"spot {format_move(s)}, {label} "
        + (format_move(v) if vol_kind == "vol" else f"{v * 100:+.4g} pts")
        for s, v in zip(spot_flat, vol_flat)
    )
    zeros = np.zeros_like(spot_flat)
    return ScenarioSet(
        name=name,
        scenario_names=names,
        spot={DEFAULT_KEY: spot_flat},
        vol={DEFAULT_KEY: vol_flat if vol_kind == "vol" else zeros},
        vol_shift={DEFAULT_KEY: vol_flat if vol_kind == "vol_shift" else zeros},
        days=np.full(len(names), float(days)),
        weight=np.full(len(names), float(weight)),
        vol_term=vol_term,
        description=description,
        kind="grid",
        source=source,
        grid=GridAxes(tuple(spot_moves), tuple(vol_moves), vol_kind),
    )
