"""Derive (ex-Lyra) PMRM_2 portfolio margin, a model of derivexyz/v2-core ``PMRMLib_2.sol``.

Each underlying is one PMRM_2 portfolio (Derive runs one manager per currency); their margins are
summed. Within an underlying:

1. **Options by expiry.** Every scenario revalues each expiry's options with Black-76 on the
   shocked forward: ``F' = F·(fixed + (1 − fixed)·(1 + move))``, where ``fixed`` is the share of
   the forward that the settlement TWAP has already fixed in its last 30 minutes. Vol up:
   ``max(min_vol_up, σ·(1 + range_up·m))``; down: ``σ·max(0, 1 − range_down·m)``, with
   ``m = (30 days / max(DTE, dte_floor))^p`` (p short up to 30 days, long after). Skew scenarios
   keep F and tilt each vol by ``max(0, 1 + clamp(k·cap/k*, ±cap))``, k = ln(K/F) (|k| for abs).
   Discount factors use the rate floored at 0.
2. **Static discounting.** Each expiry's shocked value V' is scaled by ``long_base·e^{−T(r·a+b)}``
   when V' ≥ 0, else by ``min(e^{rT}, short_base·e^{T(r·c+d)})``; the base value is not. The
   expiry's P&L is ``(V'·discount − V)·dampening`` (skew scenarios: ``−|…|``, the worst tilt).
3. **Linear exposures.** Perpetuals and dated futures move with spot (pmargin's engine P&L, so
   inverse contracts keep their coin conversion); coin held as spot or collateral is the base
   asset, shocked if ``risk_cancelling``, valued in the stable coin. Both are dampened.
4. **Basis contingency** per expiry: ``min(V(up) − V, V(down) − V, 0)·(add + mult·T)``, summed; it
   is a candidate inside the min, not an add-on.
5. **Margins.** ``worst = min(basis, scenario P&L)`` (≤ 0). The requirement is the part of
   PMRM_2's surplus ``factor·worst − contingencies + MtM + cash`` that does not depend on the
   account's equity: initial = ``−(initial_factor + peg add-on)·worst + initial and maintenance
   contingencies``; maintenance = ``−maintenance_factor·worst + maintenance contingencies``.
   Contingencies: perpetuals and futures ``|notional|·percent`` (each instrument), naked short
   options per strike ``max(−(calls + puts), 0)·spot·percent``, base collateral ``|value|·haircut``.

pmargin prices options in USD: an inverse (coin-settled) option has the USD value of the linear
option with its payoff. Not modelled: the oracle-confidence contingency (a market snapshot has no
feed confidences), foreign collateral, ``maxExpiries``, OI fees. A model *of* Derive's published
contract, not an official replication.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..book import Book, InstrumentTable
from ..engine import instrument_pnl, underlying_matrix
from ..market import SECONDS_PER_YEAR
from ..pricing.black76 import black76_price
from ..scenarios import DEFAULT_KEY, ScenarioSet, format_move
from .base import Requirement, isolated_from_unit, memoised
from .derive_parameters import ABS, DOWN, LINEAR, NONE, SKEW, UP, DeriveParameters, parse_parameters
from .liquidation_parameters import LiquidationParameters, parse_liquidation


@dataclass(frozen=True)
class DeriveRisk:
    """PMRM_2's figures for a book, per underlying (rows in ``underlyings``), USD.

    ``scenario_pnl`` (U, S) is each scenario's counted P&L (dampened, static-discounted; a loss
    is negative); ``basis_contingency`` (U,) is ≤ 0. Contingencies are ≥ 0: ``maintenance_*``
    count in both margins, ``initial_*`` in the initial margin only, on top.
    """

    underlyings: tuple[str, ...]
    scenario_names: tuple[str, ...]
    dampening: np.ndarray
    scenario_pnl: np.ndarray
    basis_contingency: np.ndarray
    maintenance_contingency: dict[str, np.ndarray]
    initial_contingency: dict[str, np.ndarray]
    initial_factor: float
    maintenance_factor: float

    @property
    def worst(self) -> np.ndarray:
        """min(basis contingency, every scenario's P&L) per underlying (≤ 0)."""
        return np.minimum(self.basis_contingency, self.scenario_pnl.min(axis=1))

    @property
    def initial(self) -> np.ndarray:
        extra = sum(self.initial_contingency.values()) + sum(self.maintenance_contingency.values())
        return -self.initial_factor * self.worst + extra

    @property
    def maintenance(self) -> np.ndarray:
        return -self.maintenance_factor * self.worst + sum(self.maintenance_contingency.values())


@dataclass(frozen=True)
class _Inputs:
    """What PMRM_2 needs of each instrument of a table, per contract (independent of quantity).

    Options (rows ``options``): USD values (O, S + 3) under the scenarios, then the basis
    scenarios up and down, then unshocked; their expiry group and strike group. Linear rows
    (perpetuals, futures, spot): dampened P&L (L, S) and, for the contingencies, the notional of
    perpetuals and futures and the stable-coin value of spot.
    """

    options: np.ndarray
    option_values: np.ndarray
    option_expiry: np.ndarray
    option_strike_group: np.ndarray
    strike_group_underlying: np.ndarray
    strike_group_spot: np.ndarray
    coins: np.ndarray
    expiry_underlying: np.ndarray
    static_positive: np.ndarray
    static_negative: np.ndarray
    basis_scale: np.ndarray
    linear: np.ndarray
    linear_pnl: np.ndarray
    perp_notional: np.ndarray
    collateral_value: np.ndarray


@dataclass(frozen=True)
class DeriveModel:
    """PMRM_2 with the parameters of a derive model YAML. :meth:`evaluate` gives its figures
    per underlying; :meth:`requirement` the margins, components and isolated margins."""

    name: str
    description: str
    source: str
    parameters: dict[str, Any]
    settings: DeriveParameters
    liquidation: LiquidationParameters = field(default_factory=LiquidationParameters)
    method: str = "derive"

    # ---- per instrument -------------------------------------------------------------------

    def _inputs(self, table: InstrumentTable) -> _Inputs:
        return memoised(self, table, lambda: self._compute_inputs(table))

    def _compute_inputs(self, table: InstrumentTable) -> _Inputs:
        p = self.settings
        options = np.flatnonzero(table.is_option)
        years = table.time[options]
        seconds = np.round(years * SECONDS_PER_YEAR, 6)
        rate = np.maximum(table.rate[options], 0.0)  # PMRM_2 floors the rate feed at 0
        expiry_key = np.stack([table.underlying_index[options], years])
        _, first, option_expiry = np.unique(
            expiry_key, axis=1, return_index=True, return_inverse=True
        )
        option_expiry = option_expiry.reshape(-1)
        strike_key = np.stack([option_expiry, table.strike[options]])
        _, strike_first, strike_group = np.unique(
            strike_key, axis=1, return_index=True, return_inverse=True
        )
        positive, negative = p.static_discount.factors(years[first], rate[first])
        basis = p.basis
        linear = np.flatnonzero(~table.is_option)
        return _Inputs(
            options=options,
            option_values=self._option_values(table, options, seconds, rate),
            option_expiry=option_expiry,
            option_strike_group=strike_group.reshape(-1),
            strike_group_underlying=table.underlying_index[options][strike_first],
            strike_group_spot=table.spot[options][strike_first],
            coins=table.multiplier[options],
            expiry_underlying=table.underlying_index[options][first],
            static_positive=positive,
            static_negative=negative,
            basis_scale=basis.add_factor + basis.mult_factor * years[first],
            linear=linear,
            linear_pnl=self._linear_pnl(table, linear),
            perp_notional=np.where(
                table.is_inverse[linear],
                table.multiplier[linear],  # USD face
                table.multiplier[linear] * table.spot[linear],
            )
            * (table.kind[linear] != "spot"),
            collateral_value=(table.kind[linear] == "spot")
            * table.multiplier[linear]
            * table.spot[linear]
            / p.stable_price,
        )

    def _option_values(self, table, options, seconds, rate) -> np.ndarray:
        """USD value per contract (O, S + 3): every scenario, basis up, basis down, unshocked."""
        p = self.settings
        moves = np.concatenate([p.moves, [p.basis.spot_up, p.basis.spot_down, 0.0]])
        directions = np.concatenate([p.directions, [NONE, NONE, NONE]])
        forward, strike = table.forward[options], table.strike[options]
        window = p.settlement_twap_seconds
        fixed = np.where(seconds < window, (window - seconds) / max(window, 1.0), 0.0)
        shocked_forward = forward[:, None] * (
            fixed[:, None] + (1.0 - fixed[:, None]) * (1.0 + moves[None, :])
        )
        vol = table.vol[options][:, None]
        up, down = p.vol_shock.multipliers(seconds)
        skew = p.skew.multipliers(np.log(strike / forward), table.time[options])
        shocked_vol = np.select(
            [directions == UP, directions == DOWN, directions == LINEAR, directions == ABS],
            [
                np.maximum(p.vol_shock.min_vol_up, vol * up[:, None]),
                vol * down[:, None],
                vol * skew[0][:, None],
                vol * skew[1][:, None],
            ],
            vol,
        )
        shocked_forward = np.where(np.isin(directions, SKEW), forward[:, None], shocked_forward)
        price = black76_price(
            shocked_forward,
            strike[:, None],
            table.time[options, None],
            shocked_vol,
            np.exp(-rate * table.time[options])[:, None],
            table.is_call[options, None],
        )
        return table.multiplier[options, None] * price

    def _linear_pnl(self, table, linear) -> np.ndarray:
        """Dampened USD P&L per contract (L, S) of perpetuals, futures and spot (base asset)."""
        p = self.settings
        moves = ScenarioSet("derive spot moves", p.names, spot={DEFAULT_KEY: p.moves})
        rows = table.rows(linear)
        pnl = instrument_pnl(rows, moves.shocks(table.underlyings)) * p.dampening
        spot = rows.kind == "spot"
        cancelling = 1.0 if p.collateral.risk_cancelling else 0.0
        pnl[spot] *= cancelling / p.stable_price
        return pnl

    # ---- per book -------------------------------------------------------------------------

    def evaluate(self, book: Book) -> DeriveRisk:
        """PMRM_2's scenario P&L, basis contingency and contingencies of ``book``."""
        table, q = book.instruments, book.net_quantity
        x = self._inputs(table)
        p = self.settings
        groups = len(x.static_positive)
        per_expiry = np.zeros((groups, len(x.options)))
        per_expiry[x.option_expiry, np.arange(len(x.options))] = 1.0
        values = per_expiry @ (q[x.options, None] * x.option_values)
        expiry_pnl = self._expiry_pnl(values, x.static_positive, x.static_negative)
        expiry_basis = self._basis(values, x.basis_scale)
        to_underlying = np.zeros((len(table.underlyings), groups))
        to_underlying[x.expiry_underlying, np.arange(groups)] = 1.0
        linear_matrix = underlying_matrix(book)[:, x.linear]
        q_linear = q[x.linear]
        scenario_pnl = to_underlying @ expiry_pnl + linear_matrix @ (
            q_linear[:, None] * x.linear_pnl
        )
        coins = np.bincount(
            x.option_strike_group, q[x.options] * x.coins, minlength=len(x.strike_group_underlying)
        )
        naked = np.zeros(len(table.underlyings))  # USD notional of naked shorts
        np.add.at(naked, x.strike_group_underlying, np.maximum(-coins, 0.0) * x.strike_group_spot)
        perp = linear_matrix @ (np.abs(q_linear) * x.perp_notional)
        collateral = linear_matrix @ (np.abs(q_linear) * x.collateral_value)
        c, h = p.contingencies, p.collateral
        return DeriveRisk(
            underlyings=table.underlyings,
            scenario_names=p.names,
            dampening=p.dampening,
            scenario_pnl=scenario_pnl,
            basis_contingency=to_underlying @ expiry_basis,
            maintenance_contingency={
                "perpetual_contingency": perp * c.perp_maintenance,
                "option_contingency": naked * c.option_maintenance,
                "collateral_haircut": collateral * h.maintenance_haircut,
            },
            initial_contingency={
                "perpetual_contingency": perp * c.perp_initial,
                "option_contingency": naked * c.option_initial,
                "collateral_haircut": collateral * h.initial_haircut,
            },
            initial_factor=p.initial_factor_at_peg,
            maintenance_factor=p.maintenance_factor,
        )

    def _expiry_pnl(self, values, positive, negative) -> np.ndarray:
        """Counted P&L (…, S) of expiry values (…, S + 3) with their static discounts (…,)."""
        p = self.settings
        count = len(p.moves)
        shocked, base = values[..., :count], values[..., -1:]
        factor = np.where(shocked >= 0, positive[..., None], negative[..., None])
        pnl = (shocked * factor - base) * p.dampening
        return np.where(np.isin(p.directions, SKEW), -np.abs(pnl), pnl)

    def _basis(self, values, scale) -> np.ndarray:
        """Basis contingency (…,) ≤ 0 of expiry values (…, S + 3)."""
        up, down, base = values[..., -3], values[..., -2], values[..., -1]
        return np.minimum(np.minimum(up - base, down - base), 0.0) * scale

    def _unit_margins(self, table: InstrumentTable, sign: float) -> np.ndarray:
        """Initial margin of ``sign`` × one contract of each instrument held alone (I,)."""
        x = self._inputs(table)
        p, c, h = self.settings, self.settings.contingencies, self.settings.collateral
        pnl = np.zeros((len(table), len(p.moves)))
        basis = np.zeros(len(table))
        expiry = x.option_expiry
        values = sign * x.option_values
        pnl[x.options] = self._expiry_pnl(
            values, x.static_positive[expiry], x.static_negative[expiry]
        )
        basis[x.options] = self._basis(values, x.basis_scale[expiry])
        pnl[x.linear] = sign * x.linear_pnl
        naked = np.zeros(len(table))
        if sign < 0:
            naked[x.options] = x.coins * table.spot[x.options]
        perp = np.zeros(len(table))
        perp[x.linear] = x.perp_notional
        collateral = np.zeros(len(table))
        collateral[x.linear] = x.collateral_value
        maintenance = (
            perp * c.perp_maintenance
            + naked * c.option_maintenance
            + collateral * h.maintenance_haircut
        )
        initial = perp * c.perp_initial + naked * c.option_initial + collateral * h.initial_haircut
        worst = np.minimum(basis, pnl.min(axis=1))
        return -p.initial_factor_at_peg * worst + initial + maintenance

    def requirement(self, book: Book) -> Requirement:
        risk = self.evaluate(book)
        table = book.instruments
        initial, maintenance = risk.initial, risk.maintenance
        total = risk.scenario_pnl.sum(axis=0)
        worst = int(np.argmin(total))
        basis = float(risk.basis_contingency.sum())
        if basis < total[worst]:
            worst_scenario = {"name": "basis contingency", "pnl": basis, "weight": 1.0}
        else:
            weight = float(risk.dampening[worst])
            worst_scenario = {
                "name": risk.scenario_names[worst],
                "pnl": float(total[worst] / weight) if weight > 0 else 0.0,
                "weight": weight,
            }
        loss = -risk.worst
        components = {
            "scenario_loss": float(np.maximum(-risk.scenario_pnl.min(axis=1), 0.0).sum()),
            "basis_contingency": 0.0 - float(risk.basis_contingency.sum()),  # never −0
            "loss_charge_initial": float((risk.initial_factor * loss).sum()),
            "loss_charge_maintenance": float((risk.maintenance_factor * loss).sum()),
        }
        for name in risk.maintenance_contingency:
            components[f"{name}_initial"] = float(
                (risk.maintenance_contingency[name] + risk.initial_contingency[name]).sum()
            )
            components[f"{name}_maintenance"] = float(risk.maintenance_contingency[name].sum())
        isolated = isolated_from_unit(
            book, self._unit_margins(table, 1.0), self._unit_margins(table, -1.0)
        )
        return Requirement(
            initial=float(initial.sum()),
            maintenance=float(maintenance.sum()),
            position_initial=isolated,
            components=components,
            by_underlying=dict(zip(table.underlyings, initial.tolist())),
            worst_scenario=worst_scenario,
        )


def scenario_label(move: float, direction: str) -> str:
    """``"spot -18%, vol up"``; skew scenarios are ``"skew linear"`` / ``"skew abs"``."""
    if direction in SKEW:
        return f"skew {direction}"
    return f"spot {format_move(move)}, vol {direction}"


def build(document: dict[str, Any], where: str, problems) -> DeriveModel | None:
    """A DeriveModel from a parsed model YAML (see ``pmargin/models/derive.yaml``)."""
    settings = parse_parameters(document, where, problems, scenario_label)
    liquidation = parse_liquidation(document, where, problems)
    if problems or settings is None:
        return None
    return DeriveModel(
        name=str(document.get("name", "derive")),
        description=str(document.get("description", "")),
        source=str(document.get("source", "")),
        parameters=document,
        settings=settings,
        liquidation=liquidation,
    )
