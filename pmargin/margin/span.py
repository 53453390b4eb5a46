"""SPAN-style margin: 16 risk scenarios per underlying, inter-commodity credits, a short option
minimum.

For each underlying (SPAN's "combined commodity") separately, with its parameters from
``per_underlying`` (or its ``default`` entry):

1. **Risk scenarios** (CME's standard 16): the price moves 0, ±1/3, ±2/3 and ±1 price scan range,
   each with vol up and vol down by the vol scan range (absolute vol points) — 14 scenarios —
   plus ±``extreme_multiple`` × the price scan range with vol unchanged, counted at
   ``extreme_cover`` (35%) of its P&L. Relative price moves: S' = S·(1 + f·range).
2. **Scan risk** = the largest counted loss over the 16 scenarios (≥ 0).
3. **Composite delta**: the base (unshocked) delta of the underlying's positions, in coins. CME
   averages the deltas of the price scenarios with probability weights; pmargin uses the base
   delta, a simplification that agrees for linear books and is close for options when the scan
   range is small.
4. **Inter-commodity spread credit** between pairs of underlyings (``inter_commodity_spreads``,
   in priority order): spreads are formed from *opposite-signed* composite deltas in the
   ``delta_ratio`` (coins of the first : coins of the second); each leg earns
   ``credit_rate`` × spreads × its ratio × its weighted price risk (WPR). WPR = price risk /
   |composite delta|, capped at the price scan range in USD per coin (CME's ``SCANRANGE_CAP``
   method), where price risk = scan risk − the average loss of the two unchanged-price scenarios
   (CME's "time risk"; here it is the vol part, as there is no look-ahead decay). So a leg's
   credit never exceeds ``credit_rate`` × its scan risk.
5. **Short option minimum** = Σ over short option contracts of ``short_option_minimum`` × spot ×
   coins per contract (a fraction of spot per coin of underlying, so it scales with price).
6. **Underlying requirement** = max(scan risk − credit, short option minimum); the total is the
   sum over underlyings. No intra-commodity (calendar spread) charge is implemented: futures of
   different expiries of one coin offset fully in the scan.

**Net option value** (long minus short option value, USD) is shown as a component but not
subtracted: pmargin's equity already counts option values, which is where SPAN applies NOV.
Maintenance = ``maintenance_ratio`` × initial, 1.0 by default (SPAN's member requirement; CME
sets initial = 1.1 × maintenance for speculators — set 1/1.1 to model that).

A model *of* CME's SPAN method with illustrative crypto parameters, not an official replication.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..accounts import Holdings
from ..book import Book, InstrumentTable
from ..engine import underlying_matrix
from ..errors import InputError, Problem, ProblemCollector
from ..greeks import unit_greeks
from ..market import Market
from ..scenarios import ScenarioSet, Shocks
from ..values import number, same_key_problems, section, unknown_key_problem
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
from .span_parameters import (
    DEFAULT_UNDERLYING,
    RANGE_KEYS,
    InterCommoditySpread,
    SpanRanges,
    parse_ranges,
    parse_spreads,
)

KEYS = (
    "name",
    "method",
    "description",
    "source",
    "per_underlying",
    "extreme_move",
    "inter_commodity_spreads",
    "maintenance_ratio",
    "liquidation",
)

# CME's scenario order: (price move as a fraction of the scan range, vol direction)
_PRICE_FRACTIONS = (0, 0, 1 / 3, 1 / 3, -1 / 3, -1 / 3, 2 / 3, 2 / 3, -2 / 3, -2 / 3, 1, 1, -1, -1)
_VOL_SIGNS = (1, -1) * 7
_FRACTION_LABELS = {0: "0", 1 / 3: "1/3", 2 / 3: "2/3", 1: "1"}


@dataclass(frozen=True)
class _UnitTerms:
    """Per contract of each instrument (I,): P&L in the 16 scenarios (raw and counted, (I, 16)),
    base delta (coins), short option minimum (USD); per underlying (U,): spot and price scan
    range in USD per coin."""

    shocks: Shocks
    pnl: np.ndarray
    counted: np.ndarray
    delta: np.ndarray
    short_option_minimum: np.ndarray
    spot: np.ndarray
    scan_range_usd: np.ndarray


@dataclass(frozen=True)
class SpanModel(AccountModel):
    name: str
    description: str
    source: str
    parameters: dict[str, Any]
    path: str
    ranges: dict[str, SpanRanges]
    extreme_multiple: float
    extreme_cover: float
    spreads: tuple[InterCommoditySpread, ...]
    maintenance_ratio: float
    method: str = "span"
    liquidation: LiquidationParameters = field(default_factory=LiquidationParameters)

    def ranges_for(self, underlyings: tuple[str, ...]) -> list[SpanRanges]:
        """Each underlying's parameters (its own entry, else ``default``)."""
        missing = [u for u in underlyings if u not in self.ranges]
        if missing and DEFAULT_UNDERLYING not in self.ranges:
            raise InputError(
                Problem(
                    f"{self.path}: per_underlying",
                    f"no SPAN parameters for {', '.join(missing)}",
                    f"Add {missing[0]} (or `default`) under `per_underlying:` with "
                    f"{', '.join(RANGE_KEYS)}.",
                )
            )
        return [self.ranges.get(u, self.ranges.get(DEFAULT_UNDERLYING)) for u in underlyings]

    def scenario_names(self) -> tuple[str, ...]:
        names = []
        for fraction, sign in zip(_PRICE_FRACTIONS, _VOL_SIGNS):
            move = _FRACTION_LABELS[abs(fraction)]
            price = "0" if fraction == 0 else f"{'+' if fraction > 0 else '-'}{move} range"
            names.append(f"price {price}, vol {'up' if sign > 0 else 'down'}")
        cover = f"{self.extreme_cover:.0%} cover"
        names += [
            f"price +{self.extreme_multiple:g}x range, {cover}",
            f"price -{self.extreme_multiple:g}x range, {cover}",
        ]
        return tuple(names)

    def scenario_set(self, underlyings: tuple[str, ...]) -> ScenarioSet:
        """The 16 risk scenarios, each underlying scaled by its own scan ranges."""
        fractions = np.array([*_PRICE_FRACTIONS, self.extreme_multiple, -self.extreme_multiple])
        signs = np.array([*_VOL_SIGNS, 0, 0], dtype=float)
        ranges = self.ranges_for(underlyings)
        weight = np.ones(len(fractions))
        weight[-2:] = self.extreme_cover
        return ScenarioSet(
            name=f"{self.name} risk scenarios",
            scenario_names=self.scenario_names(),
            spot={u: fractions * r.price_scan_range for u, r in zip(underlyings, ranges)},
            vol_shift={u: signs * r.vol_scan_range for u, r in zip(underlyings, ranges)},
            weight=weight,
            kind="explicit",
        )

    def shocks(self, underlyings: tuple[str, ...]) -> Shocks:
        return self.scenario_set(underlyings).shocks(underlyings)

    def inter_commodity_credit(
        self,
        underlyings: tuple[str, ...],
        delta: np.ndarray,
        price_risk: np.ndarray,
        scan_range_usd: np.ndarray,
    ) -> np.ndarray:
        """Credit per underlying (..., U), USD, from composite deltas (coins) and price risk (USD).

        Spreads are taken in the order of ``spreads`` (SPAN's priority); each uses up the deltas
        it is formed from. Leading axes (candidate books) are computed independently.
        """
        index = {u: i for i, u in enumerate(underlyings)}
        magnitude = np.abs(delta)
        wpr = np.minimum(
            np.divide(price_risk, magnitude, out=np.zeros_like(price_risk), where=magnitude > 0),
            scan_range_usd,
        )
        remaining = magnitude.copy()
        credit = np.zeros_like(magnitude)
        for spread in self.spreads:  # a handful of parameter rows, not positions
            first, second = (index.get(u) for u in spread.pair)
            if first is None or second is None:
                continue
            ratio_a, ratio_b = spread.delta_ratio
            opposite = delta[..., first] * delta[..., second] < 0
            count = np.where(
                opposite,
                np.minimum(remaining[..., first] / ratio_a, remaining[..., second] / ratio_b),
                0.0,
            )
            remaining[..., first] -= count * ratio_a
            remaining[..., second] -= count * ratio_b
            credit[..., first] += spread.credit_rate * count * ratio_a * wpr[..., first]
            credit[..., second] += spread.credit_rate * count * ratio_b * wpr[..., second]
        return credit

    def scenario_pnl(self, table: InstrumentTable, market: Market) -> ScenarioPnl:
        """The 16 scenarios and the P&L of one contract of each instrument in them, (I, 16) USD.

        SPAN's risk array of an instrument is the negative of a row (losses positive); multiply
        by ``shocks.weight`` for the counted P&L.
        """
        return model_pnl(self, table, lambda: self.shocks(table.underlyings))

    def unit_terms(
        self, table: InstrumentTable, market: Market, scenarios: ScenarioPnl | None = None
    ) -> _UnitTerms:
        """What SPAN needs per contract of each instrument of ``table`` (``scenarios``: its
        :meth:`scenario_pnl`, priced here when not given)."""
        ranges = self.ranges_for(table.underlyings)
        spot = np.array([market.spot(u) for u in table.underlyings])
        som_rate = np.array([r.short_option_minimum for r in ranges])
        u = table.underlying_index
        shocks, pnl = self.scenario_pnl(table, market) if scenarios is None else scenarios
        return _UnitTerms(
            shocks=shocks,
            pnl=pnl,
            counted=pnl * shocks.weight,
            delta=unit_greeks(table).delta,
            short_option_minimum=np.where(
                table.is_option, som_rate[u] * table.spot * table.multiplier, 0.0
            ),
            spot=spot,
            scan_range_usd=np.array([r.price_scan_range for r in ranges]) * spot,
        )

    def underlying_margin(
        self,
        underlyings: tuple[str, ...],
        terms: _UnitTerms,
        by_underlying: np.ndarray,
        delta: np.ndarray,
        short_option_minimum: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Scan risk, inter-commodity credit and requirement per underlying (..., U), from the
        counted P&L per underlying (..., U, 16), composite deltas (..., U) and short option
        minimum (..., U)."""
        scan_risk = worst_loss(by_underlying)
        unchanged_price_loss = np.maximum(-by_underlying[..., :2].mean(axis=-1), 0.0)
        price_risk = np.maximum(scan_risk - unchanged_price_loss, 0.0)
        credit = self.inter_commodity_credit(underlyings, delta, price_risk, terms.scan_range_usd)
        return scan_risk, credit, np.maximum(scan_risk - credit, short_option_minimum)

    def requirements(self, holdings: Holdings, scenarios: ScenarioPnl) -> AccountRequirements:
        table = holdings.instruments
        underlyings = table.underlyings
        terms = self.unit_terms(table, holdings.market, scenarios)
        by_underlying = holdings.by_underlying(terms.counted)  # (A, U, 16) counted P&L
        delta = holdings.by_underlying(terms.delta)  # composite delta, coins
        short_option_minimum = holdings.by_underlying(terms.short_option_minimum, "short")
        scan_risk, credit, per_underlying = self.underlying_margin(
            underlyings, terms, by_underlying, delta, short_option_minimum
        )
        initial = per_underlying.sum(axis=1)
        option_values = np.where(table.is_option, table.option_prices() * table.multiplier, 0.0)
        return AccountRequirements(
            initial=initial,
            maintenance=self.maintenance_ratio * initial,
            underlyings=underlyings,
            by_underlying=per_underlying,
            components={
                "scan_risk": scan_risk.sum(axis=1),
                "inter_commodity_credit": credit.sum(axis=1),
                "short_option_minimum": short_option_minimum.sum(axis=1),
                "net_option_value": holdings.net(option_values),
            },
            underlying_components={"composite_delta_usd": delta * terms.spot},
            worst=WorstScenarios.of(holdings, scenarios, by_underlying.sum(axis=1)),
        )

    def isolated_margin(self, book: Book, scenarios: ScenarioPnl) -> np.ndarray:
        terms = self.unit_terms(book.instruments, book.market, scenarios)
        return isolated_from_unit(
            book,
            worst_loss(terms.counted),
            np.maximum(worst_loss(-terms.counted), terms.short_option_minimum),
        )

    def allocation(self, book: Book) -> Allocation:
        """Per underlying: where the short option minimum binds, each short option's own
        minimum (pro rata to its signed share of its instrument's net short); else each
        position's counted loss in the worst scenario less its share of the inter-commodity
        credit, pro rata to its signed share of the underlying's composite delta."""
        table = book.instruments
        terms = self.unit_terms(table, book.market)
        q = book.net_quantity
        matrix = underlying_matrix(book)
        by_underlying = matrix @ (q[:, None] * terms.counted)
        delta = matrix @ (q * terms.delta)
        short_option_minimum = matrix @ (np.maximum(-q, 0.0) * terms.short_option_minimum)
        scan_risk, credit, _ = self.underlying_margin(
            table.underlyings, terms, by_underlying, delta, short_option_minimum
        )
        scan, worst, _ = worst_scenario_allocation(book, by_underlying, terms.counted)
        row_u = table.underlying_index[book.instrument]
        row_delta = book.quantity * terms.delta[book.instrument]
        share = np.divide(
            row_delta, delta[row_u], out=np.zeros_like(row_delta), where=delta[row_u] != 0
        )
        minimum_binds = short_option_minimum > scan_risk - credit
        floor = per_instrument_allocation(book, np.maximum(-q, 0.0) * terms.short_option_minimum)
        contribution = np.where(minimum_binds[row_u], floor, scan - credit[row_u] * share)
        basis = {}
        for i, u in enumerate(table.underlyings):
            if minimum_binds[i]:
                basis[u] = "short option minimum"
            elif scan_risk[i] > 0:
                basis[u] = f"worst scenario: {terms.shocks.names[worst[i]]}" + (
                    ", less the inter-commodity credit by composite delta" if credit[i] else ""
                )
            else:
                basis[u] = "no loss in any scenario"
        return Allocation(contribution, basis)


def build(document: dict[str, Any], where: str, problems: ProblemCollector) -> SpanModel | None:
    """A SpanModel from a parsed model YAML (see ``pmargin/models/span.yaml``)."""
    for key in document:
        if key not in KEYS:
            problems.append(unknown_key_problem(f"{where}: {key}", key, KEYS))
    raw = section(document, "per_underlying", where, problems)
    if not raw:
        problems.add(f"{where}: per_underlying", "needs at least one underlying (or `default`)")
    ranges = {}
    problems.extend(same_key_problems(raw, f"{where}: per_underlying", "underlying"))
    for name, entry in raw.items():
        key = str(name) if str(name) == DEFAULT_UNDERLYING else str(name).upper()
        parsed = parse_ranges(entry, f"{where}: per_underlying.{name}", problems)
        if parsed is not None:
            ranges[key] = parsed
    extreme = section(document, "extreme_move", where, problems)
    multiple = number(
        extreme.get("multiple", 2.0), f"{where}: extreme_move.multiple", problems, minimum=0
    )
    cover = number(extreme.get("cover", 0.35), f"{where}: extreme_move.cover", problems, minimum=0)
    spreads = parse_spreads(
        document.get("inter_commodity_spreads"), f"{where}: inter_commodity_spreads", problems
    )
    ratio = maintenance_ratio(document, where, problems, default=1.0)
    liquidation = parse_liquidation(document, where, problems)
    for name, entry in ranges.items():
        if multiple is not None and multiple * entry.price_scan_range >= 1:
            problems.add(
                f"{where}: extreme_move.multiple",
                f"{multiple:g} × the {name} price scan range {entry.price_scan_range:g} "
                "moves the price to zero or below",
                "Lower the multiple or the scan range.",
            )
    if problems:
        return None
    return SpanModel(
        name=str(document.get("name", "span")),
        description=str(document.get("description", "")),
        source=str(document.get("source", "")),
        parameters=document,
        path=where,
        ranges=ranges,
        extreme_multiple=float(multiple),
        extreme_cover=float(cover),
        spreads=tuple(spreads),
        maintenance_ratio=float(ratio),
        liquidation=liquidation,
    )
