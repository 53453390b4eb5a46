"""TIMS-style margin (FINRA Rule 4210(g) portfolio margin, OCC TIMS): the largest loss on a range.

For each underlying (a "class group") separately:

1. the price range of the underlying's class (``classes``; ±15% — FINRA's range for individual
   equities — for the bundled ``crypto`` class; an underlying may set its own range) in
   ``price_points`` (10) equidistant relative moves from the low end to the high end, both ends
   included (so 0 is not one of the 10 points);
2. each point at the current implied vols, and with vol up and down by ``vol_stress``
   (relative: σ' = σ·(1 ± stress)) — pmargin's vol stress in the manner of OCC's TIMS;
3. the largest loss over those scenarios (≥ 0);
4. floored at the rule's minimum: ``minimum_per_contract`` USD × coins per contract for each
   derivative contract (options, futures, perpetuals; not spot or coin collateral), capped at the
   market value of a long option.

Initial margin = Σ over underlyings of max(largest loss, minimum). No offsets between class groups
are taken (the rule allows partial ones within a product group; crypto has none defined).
Maintenance = initial (FINRA portfolio margin has one requirement).

About the minimum: FINRA's $0.375 × the contract multiplier is $0.375 per unit of underlying
($37.50 per 100-share equity option). pmargin keeps it literally as USD 0.375 per coin of
underlying: negligible for BTC and ETH, it binds only on far OTM positions in low-priced coins.
Raise ``minimum_per_contract`` for a stricter floor. An inverse future's coins per contract are
its USD face / forward.

A model *of* the FINRA 4210(g) / OCC TIMS method, not an official replication.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..accounts import Holdings
from ..book import Book, InstrumentTable
from ..engine import underlying_matrix
from ..errors import InputError, Problem, ProblemCollector
from ..market import Market
from ..scenarios import ScenarioSet, Shocks, format_move
from ..values import check_keys, number, number_list, same_key_problems, section
from .base import (
    AccountModel,
    AccountRequirements,
    ScenarioPnl,
    WorstScenarios,
    isolated_from_unit,
    maintenance_ratio,
    model_pnl,
    worst_loss,
)
from .batch import Allocation, per_instrument_allocation, worst_scenario_allocation
from .liquidation_parameters import LiquidationParameters, parse_liquidation

KEYS = (
    "name",
    "method",
    "description",
    "source",
    "classes",
    "default_class",
    "per_underlying",
    "price_points",
    "vol_stress",
    "minimum_per_contract",
    "maintenance_ratio",
    "liquidation",
)
UNDERLYING_KEYS = ("class", "price_range")


@dataclass(frozen=True)
class PriceRange:
    """Relative price moves from ``down`` (< 0) to ``up`` (> 0)."""

    down: float
    up: float


@dataclass(frozen=True)
class TimsModel(AccountModel):
    name: str
    description: str
    source: str
    parameters: dict[str, Any]
    path: str
    classes: dict[str, PriceRange]
    default_class: str | None
    underlying_class: dict[str, str]
    underlying_range: dict[str, PriceRange]
    price_points: int
    vol_stress: float
    minimum_per_contract: float
    maintenance_ratio: float
    method: str = "tims"
    liquidation: LiquidationParameters = field(default_factory=LiquidationParameters)

    def range_for(self, underlying: str) -> PriceRange:
        """The underlying's own range, else its class's, else the default class's."""
        if underlying in self.underlying_range:
            return self.underlying_range[underlying]
        name = self.underlying_class.get(underlying, self.default_class)
        if name is None:
            raise InputError(
                Problem(
                    f"{self.path}: per_underlying",
                    f"no class or price range for {underlying}",
                    f"Add `{underlying}: {{class: ...}}` under `per_underlying:` or set "
                    "`default_class:`.",
                )
            )
        return self.classes[name]

    def scenario_set(self, underlyings: tuple[str, ...]) -> ScenarioSet:
        """``price_points`` equidistant moves × vol {unchanged, up, down}, per underlying range."""
        steps = np.linspace(0.0, 1.0, self.price_points)
        stress = self.vol_stress
        vols = np.array([0.0, stress, -stress] if stress > 0 else [0.0])
        labels = ["unchanged", f"up {format_move(stress)}", f"down {format_move(-stress)}"]
        step_grid, vol_grid = np.meshgrid(steps, vols, indexing="ij")
        step_flat, vol_flat = step_grid.ravel(), vol_grid.ravel()
        spot = {}
        for underlying in underlyings:
            r = self.range_for(underlying)
            spot[underlying] = r.down + step_flat * (r.up - r.down)
        names = tuple(
            f"point {i // len(vols) + 1}/{self.price_points}, vol {labels[i % len(vols)]}"
            for i in range(len(vol_flat))
        )
        return ScenarioSet(
            name=f"{self.name} valuation points",
            scenario_names=names,
            spot=spot,
            vol={underlying: vol_flat for underlying in underlyings},
            kind="grid",
        )

    def shocks(self, underlyings: tuple[str, ...]) -> Shocks:
        return self.scenario_set(underlyings).shocks(underlyings)

    def unit_minimum(self, table: InstrumentTable) -> tuple[np.ndarray, np.ndarray]:
        """The rule's minimum for +1 and −1 contract of each instrument, USD."""
        coins = np.where(
            table.is_inverse & ~table.is_option,
            table.multiplier / table.forward,
            table.multiplier,
        )
        derivative = table.kind != "spot"
        short = np.where(derivative, self.minimum_per_contract * coins, 0.0)
        option_value = table.option_prices() * table.multiplier
        long = np.where(table.is_option, np.minimum(short, option_value), short)
        return long, short

    def scenario_pnl(self, table: InstrumentTable, market: Market) -> ScenarioPnl:
        return model_pnl(self, table, lambda: self.shocks(table.underlyings))

    def requirements(self, holdings: Holdings, scenarios: ScenarioPnl) -> AccountRequirements:
        by_underlying = holdings.by_underlying(scenarios.pnl)  # (A, U, S)
        largest_loss = worst_loss(by_underlying)
        long_min, short_min = self.unit_minimum(holdings.instruments)
        minimum = holdings.by_underlying(long_min, "long")
        minimum += holdings.by_underlying(short_min, "short")
        per_underlying = np.maximum(largest_loss, minimum)
        initial = per_underlying.sum(axis=1)
        return AccountRequirements(
            initial=initial,
            maintenance=self.maintenance_ratio * initial,
            underlyings=holdings.instruments.underlyings,
            by_underlying=per_underlying,
            components={
                "largest_loss": largest_loss.sum(axis=1),
                "minimum_per_contract": minimum.sum(axis=1),
            },
            worst=WorstScenarios.of(holdings, scenarios, by_underlying.sum(axis=1)),
        )

    def isolated_margin(self, book: Book, scenarios: ScenarioPnl) -> np.ndarray:
        pnl = scenarios.pnl
        long_min, short_min = self.unit_minimum(book.instruments)
        return isolated_from_unit(
            book, np.maximum(worst_loss(pnl), long_min), np.maximum(worst_loss(-pnl), short_min)
        )

    def allocation(self, book: Book) -> Allocation:
        """Per underlying: each position's loss in the worst valuation point, or, where the
        per-contract minimum is larger, its share of that minimum."""
        table = book.instruments
        shocks, pnl = self.scenario_pnl(table, book.market)
        q = book.net_quantity
        matrix = underlying_matrix(book)
        by_underlying = matrix @ (q[:, None] * pnl)
        long_min, short_min = self.unit_minimum(table)
        net_minimum = np.where(q > 0, q * long_min, -q * short_min)
        minimum = matrix @ net_minimum
        scenario, worst, has_loss = worst_scenario_allocation(book, by_underlying, pnl)
        minimum_binds = minimum > worst_loss(by_underlying)
        row_u = table.underlying_index[book.instrument]
        contribution = np.where(
            minimum_binds[row_u], per_instrument_allocation(book, net_minimum), scenario
        )
        basis = {
            u: "minimum per contract"
            if binds
            else (f"worst valuation point: {shocks.names[w]}" if loss else "no loss at any point")
            for u, w, loss, binds in zip(table.underlyings, worst, has_loss, minimum_binds)
        }
        return Allocation(contribution, basis)


def _price_range(value: Any, where: str, problems: ProblemCollector) -> PriceRange | None:
    """``0.15`` (±15%) or ``[-0.08, 0.06]`` (down, up)."""
    if isinstance(value, list):
        bounds = number_list(value, where, problems)
        if len(bounds) != 2 or not (-1 < bounds[0] < 0 < bounds[1]):
            problems.add(where, f"expected [down, up] with -1 < down < 0 < up, found {value!r}")
            return None
        return PriceRange(bounds[0], bounds[1])
    size = number(value, where, problems, positive=True)
    if size is None:
        return None
    if size >= 1:
        problems.add(where, f"must be below 1 (100%), found {size}")
        return None
    return PriceRange(-size, size)


def _classes(document: dict, where: str, problems: ProblemCollector) -> dict[str, PriceRange]:
    """``classes:``: product class -> its price range; at least one."""
    classes: dict[str, PriceRange] = {}
    for name, entry in section(document, "classes", where, problems).items():
        at = f"{where}: classes.{name}"
        if not isinstance(entry, dict) or "price_range" not in entry:
            problems.add(at, "expected a mapping with `price_range`, e.g. {price_range: 0.15}")
            continue
        parsed = _price_range(entry["price_range"], f"{at}.price_range", problems)
        if parsed is not None:
            classes[str(name)] = parsed
    if not classes and not problems:
        problems.add(
            f"{where}: classes",
            "needs at least one class",
            "Add e.g. `classes: {crypto: {price_range: 0.15}}`.",
        )
    return classes


def _per_underlying(
    document: dict, classes: dict[str, PriceRange], where: str, problems: ProblemCollector
) -> tuple[dict[str, str], dict[str, PriceRange]]:
    """``per_underlying:``: each underlying's class and/or own price range."""
    underlying_class, underlying_range = {}, {}
    raw = section(document, "per_underlying", where, problems)
    problems.extend(same_key_problems(raw, f"{where}: per_underlying", "underlying"))
    for name, entry in raw.items():
        at = f"{where}: per_underlying.{name}"
        if not isinstance(entry, dict):
            problems.add(at, "expected a mapping {class: ..., price_range: ...}")
            continue
        check_keys(entry, UNDERLYING_KEYS, at, problems, sep=".")
        upper = str(name).upper()
        if "class" in entry:
            if str(entry["class"]) not in classes:
                problems.add(f"{at}.class", f"unknown class {entry['class']!r}")
            else:
                underlying_class[upper] = str(entry["class"])
        if "price_range" in entry:
            parsed = _price_range(entry["price_range"], f"{at}.price_range", problems)
            if parsed is not None:
                underlying_range[upper] = parsed
    return underlying_class, underlying_range


def build(document: dict[str, Any], where: str, problems: ProblemCollector) -> TimsModel | None:
    """A TimsModel from a parsed model YAML (see ``pmargin/models/tims.yaml``)."""
    check_keys(document, KEYS, where, problems, sep=": ")
    classes = _classes(document, where, problems)
    default_class = document.get("default_class")
    if default_class is not None and str(default_class) not in classes:
        problems.add(
            f"{where}: default_class",
            f"unknown class {default_class!r}",
            f"Use one of {', '.join(classes) or 'the classes under `classes:`'}.",
        )
    underlying_class, underlying_range = _per_underlying(document, classes, where, problems)
    points = number(document.get("price_points", 10), f"{where}: price_points", problems, minimum=2)
    if points is not None and points != int(points):
        problems.add(f"{where}: price_points", f"must be a whole number, found {points}")
    stress = number(document.get("vol_stress", 0.0), f"{where}: vol_stress", problems, minimum=0)
    if stress is not None and stress >= 1:
        problems.add(f"{where}: vol_stress", f"must be below 1 (a relative move), found {stress}")
    minimum = number(
        document.get("minimum_per_contract", 0.375),
        f"{where}: minimum_per_contract",
        problems,
        minimum=0,
    )
    ratio = maintenance_ratio(document, where, problems, default=1.0)
    liquidation = parse_liquidation(document, where, problems)
    if problems:
        return None
    return TimsModel(
        name=str(document.get("name", "tims")),
        description=str(document.get("description", "")),
        source=str(document.get("source", "")),
        parameters=document,
        path=where,
        classes=classes,
        default_class=None if default_class is None else str(default_class),
        underlying_class=underlying_class,
        underlying_range=underlying_range,
        price_points=int(points),
        vol_stress=float(stress),
        minimum_per_contract=float(minimum),
        maintenance_ratio=float(ratio),
        liquidation=liquidation,
    )
