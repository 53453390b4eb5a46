"""The derive model's parameters: PMRMLib_2's parameter structs, read from the model YAML.

Each section of ``pmargin/models/derive.yaml`` is one struct of ``src/interfaces/IPMRMLib_2.sol``;
every key is required and checked against the bounds of its on-chain setter (``PMRMLib_2.sol``),
so a copied YAML that PMRM_2 would refuse is refused here, naming the key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..values import DAYS_MAX, MOVE_MAX, PRICE_MAX, WEIGHT_MAX, check_keys, number, section

UP, NONE, DOWN, LINEAR, ABS = "up", "none", "down", "linear", "abs"
VOL_SHOCKS = (UP, NONE, DOWN, LINEAR, ABS)
SKEW = (LINEAR, ABS)
THIRTY_DAYS = 30 * 86400.0
MAX_SCENARIOS = 40  # PMRM_2.setScenarios

#: section -> key -> (least, greatest) value the PMRMLib_2 setters accept (None: unbounded)
BOUNDS: dict[str, dict[str, tuple[float | None, float | None]]] = {
    "vol_shock": {
        "range_up": (0, 10),
        "range_down": (0, 10),
        "short_term_power": (0, 10),
        "long_term_power": (0, 10),
        "dte_floor_days": (0, 400),
        "min_vol_up": (0, 20),
    },
    "margin": {"initial_factor": (0.5, 10), "maintenance_factor": (0.1, 10)},
    "static_discount": {
        "long_base": (0, 4),
        "long_rate_scale": (0, 10),
        "long_rate_add": (0, 10),
        "short_base": (0, 4),
        "short_rate_scale": (0, 10),
        "short_rate_add": (0, 10),
    },
    "basis_contingency": {
        "spot_up": (0, 2),
        "spot_down": (-1, 0),
        "add_factor": (0, 20),
        "mult_factor": (0, 20),
    },
    "contingencies": {
        "perp_maintenance": (0, 3),
        "perp_initial": (0, 3),
        "option_maintenance": (0, 2),
        "option_initial": (0, 2),
        "peg_loss_threshold": (0, 100),
        "peg_loss_factor": (0, 10),
    },
    "skew_shock": {
        "linear_base_cap": (0, 10),
        "abs_base_cap": (0, 10),
        "linear_c_base": (-10, 10),
        "abs_c_base": (-10, 10),
        "min_k_star": (0, 10),
        "width_scale": (0, 10),
        "vol_param_static": (0, 10),
        "vol_param_scale": (-20, 20),
    },
    "base_collateral": {"maintenance_haircut": (0, 1), "initial_haircut": (0, 1)},
}
TOP_KEYS = (
    "name",
    "method",
    "description",
    "source",
    *BOUNDS,
    "stable_price",
    "settlement_twap_minutes",
    "scenarios",
    "liquidation",
)


@dataclass(frozen=True)
class VolShock:
    """Per-expiry vol shocks (PMRMLib_2.VolShockParameters)."""

    range_up: float
    range_down: float
    short_term_power: float
    long_term_power: float
    dte_floor_days: float
    min_vol_up: float

    def multipliers(self, seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vol-up and vol-down multipliers of options ``seconds`` from expiry.

        ``m = (30 days / max(T, floor))^p``, p = short_term_power up to 30 days (inclusive);
        up = 1 + range_up·m, down = max(0, 1 − range_down·m).
        """
        floor = np.floor(self.dte_floor_days * 86400.0)
        with np.errstate(divide="ignore"):
            ratio = THIRTY_DAYS / np.maximum(seconds, floor)
        power = np.where(seconds <= THIRTY_DAYS, self.short_term_power, self.long_term_power)
        scale = ratio**power
        return 1.0 + self.range_up * scale, np.maximum(0.0, 1.0 - self.range_down * scale)


@dataclass(frozen=True)
class StaticDiscount:
    """Haircut of long and gross-up of short expiry values (PMRMLib_2.MarginParameters)."""

    long_base: float
    long_rate_scale: float
    long_rate_add: float
    short_base: float
    short_rate_scale: float
    short_rate_add: float

    def factors(self, years: np.ndarray, rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(factor for a value ≥ 0, factor for a value < 0) of expiries ``years`` away at
        ``rate`` (already floored at 0). The short factor is capped at 1 / discount."""
        positive = self.long_base * np.exp(
            -years * (rate * self.long_rate_scale + self.long_rate_add)
        )
        negative = self.short_base * np.exp(
            years * (rate * self.short_rate_scale + self.short_rate_add)
        )
        return positive, np.minimum(np.exp(rate * years), negative)


@dataclass(frozen=True)
class Basis:
    """Forward (basis) contingency (PMRMLib_2.BasisContingencyParameters); moves relative."""

    spot_up: float
    spot_down: float
    add_factor: float
    mult_factor: float


@dataclass(frozen=True)
class Contingencies:
    """Perpetual, naked-short-option and peg-loss terms (OtherContingencyParameters)."""

    perp_maintenance: float
    perp_initial: float
    option_maintenance: float
    option_initial: float
    peg_loss_threshold: float
    peg_loss_factor: float


@dataclass(frozen=True)
class SkewShock:
    """The LINEAR and ABS vol tilts (PMRMLib_2.SkewShockParameters)."""

    linear_base_cap: float
    abs_base_cap: float
    linear_c_base: float
    abs_c_base: float
    min_k_star: float
    width_scale: float
    vol_param_static: float
    vol_param_scale: float

    def multipliers(
        self, log_moneyness: np.ndarray, years: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Vol multipliers (linear, abs) ≥ 0 of options at ``ln(K/F)``, ``years`` to expiry."""
        root = np.sqrt(years)
        vol_param = self.vol_param_static + root * self.vol_param_scale
        k_star = np.maximum(self.min_k_star, root * self.width_scale * vol_param)
        # PMRM_2 reverts where k* = 0; the limit of the tilt there is its cap
        k_star = np.maximum(k_star, np.finfo(float).tiny)
        result = []
        for c_base, base_cap, k in (
            (self.linear_c_base, self.linear_base_cap, log_moneyness),
            (self.abs_c_base, self.abs_base_cap, np.abs(log_moneyness)),
        ):
            cap = c_base * root + base_cap
            with np.errstate(over="ignore"):
                tilt = k * cap / k_star
            tilt = np.where(k >= 0, np.minimum(cap, tilt), np.maximum(-cap, tilt))
            result.append(np.maximum(1.0 + tilt, 0.0))
        return result[0], result[1]


@dataclass(frozen=True)
class BaseCollateral:
    """Coin of an underlying held as spot or collateral (PMRMLib_2.CollateralParameters)."""

    risk_cancelling: bool
    maintenance_haircut: float
    initial_haircut: float


@dataclass(frozen=True)
class DeriveParameters:
    vol_shock: VolShock
    static_discount: StaticDiscount
    basis: Basis
    contingencies: Contingencies
    skew: SkewShock
    collateral: BaseCollateral
    initial_factor: float
    maintenance_factor: float
    stable_price: float
    settlement_twap_seconds: float
    moves: np.ndarray
    directions: np.ndarray
    dampening: np.ndarray
    names: tuple[str, ...]

    @property
    def initial_factor_at_peg(self) -> float:
        """initial_factor plus the peg-loss add-on when the stable coin is below its threshold."""
        c = self.contingencies
        shortfall = max(c.peg_loss_threshold - self.stable_price, 0.0)
        return self.initial_factor + shortfall * c.peg_loss_factor


def _numbers(document: dict, key: str, where: str, problems) -> dict[str, float]:
    block = section(document, key, where, problems)
    extra = ("risk_cancelling",) if key == "base_collateral" else ()
    check_keys(block, (*BOUNDS[key], *extra), f"{where}: {key}", problems, sep=".")
    values = {}
    for name, (least, greatest) in BOUNDS[key].items():
        at = f"{where}: {key}.{name}"
        if name not in block:
            problems.add(at, "missing", "Copy it from the bundled derive.yaml.")
            continue
        value = number(block[name], at, problems, minimum=least)
        if value is not None and greatest is not None and value > greatest:
            problems.add(at, f"must be ≤ {greatest:g} (PMRMLib_2's bound), found {value:g}")
            value = None
        if value is not None:
            values[name] = value
    return values


def _scenarios(raw: Any, where: str, problems, label) -> tuple | None:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_SCENARIOS:
        problems.add(where, f"expected a list of 1 to {MAX_SCENARIOS} scenarios")
        return None
    moves, directions, dampening = [], [], []
    for i, entry in enumerate(raw):
        at = f"{where}[{i}]"
        if not isinstance(entry, dict):
            problems.add(at, "expected a mapping {spot, vol, dampening}")
            continue
        check_keys(entry, ("spot", "vol", "dampening"), at, problems)
        direction = str(entry.get("vol", "")).lower()
        if direction not in VOL_SHOCKS:
            problems.add(f"{at}.vol", f"expected one of {', '.join(VOL_SHOCKS)}")
            continue
        move = number(entry.get("spot", 0.0), f"{at}.spot", problems, minimum=-1, maximum=MOVE_MAX)
        damp = number(
            entry.get("dampening", 1.0), f"{at}.dampening", problems, minimum=0, maximum=WEIGHT_MAX
        )
        if move is None or damp is None:
            continue
        if direction in SKEW and move != 0:
            problems.add(f"{at}.spot", "a skew scenario (linear, abs) moves no spot", "Use 0.")
        moves.append(move)
        directions.append(direction)
        dampening.append(damp)
    for skew in SKEW:
        if directions.count(skew) > 1:
            problems.add(where, f"at most one `{skew}` scenario (PMRM_2.setScenarios)")
    names = tuple(label(m, d) for m, d in zip(moves, directions))
    return np.array(moves), np.array(directions), np.array(dampening), names


def parse_parameters(
    document: dict[str, Any], where: str, problems, label: Callable[[float, str], str]
) -> DeriveParameters | None:
    """The parameters of a derive model YAML; problems name each bad key. ``label(move,
    direction)`` names a scenario."""
    check_keys(document, TOP_KEYS, where, problems, sep=": ")
    blocks = {key: _numbers(document, key, where, problems) for key in BOUNDS}
    collateral = section(document, "base_collateral", where, problems)
    cancelling = collateral.get("risk_cancelling")
    if not isinstance(cancelling, bool):
        problems.add(f"{where}: base_collateral.risk_cancelling", "expected true or false")
    basis = blocks["basis_contingency"]
    if basis.get("spot_up") == 0 or basis.get("spot_down") == 0:
        problems.add(
            f"{where}: basis_contingency", "spot_up must be > 0 and spot_down < 0 (PMRMLib_2)"
        )
    haircuts = blocks["base_collateral"]
    if sum(haircuts.values()) > 1:
        problems.add(
            f"{where}: base_collateral", "maintenance_haircut + initial_haircut must be ≤ 1"
        )
    stable = number(
        document.get("stable_price"),
        f"{where}: stable_price",
        problems,
        positive=True,
        maximum=PRICE_MAX,
    )
    twap = number(
        document.get("settlement_twap_minutes"),
        f"{where}: settlement_twap_minutes",
        problems,
        minimum=0,
        maximum=DAYS_MAX * 24 * 60,
    )
    scenarios = _scenarios(document.get("scenarios"), f"{where}: scenarios", problems, label)
    if problems or scenarios is None or stable is None or twap is None:
        return None
    margin = blocks["margin"]
    moves, directions, dampening, names = scenarios
    return DeriveParameters(
        vol_shock=VolShock(**blocks["vol_shock"]),
        static_discount=StaticDiscount(**blocks["static_discount"]),
        basis=Basis(**blocks["basis_contingency"]),
        contingencies=Contingencies(**blocks["contingencies"]),
        skew=SkewShock(**blocks["skew_shock"]),
        collateral=BaseCollateral(bool(cancelling), **haircuts),
        initial_factor=margin["initial_factor"],
        maintenance_factor=margin["maintenance_factor"],
        stable_price=stable,
        settlement_twap_seconds=twap * 60.0,
        moves=moves,
        directions=directions,
        dampening=dampening,
        names=names,
    )
