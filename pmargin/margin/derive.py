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

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..accounts import Holdings
from ..book import Book, InstrumentTable
from ..market import Market
from ..scenarios import format_move
from .base import AccountModel, AccountRequirements, WorstScenarios, isolated_from_unit, memoised
from .batch import Allocation
from .derive_allocation import allocate
from .derive_inputs import Inputs, instrument_inputs
from .derive_parameters import SKEW, DeriveParameters, parse_parameters
from .liquidation_parameters import LiquidationParameters, parse_liquidation


@dataclass(frozen=True)
class DeriveRisk:
    """PMRM_2's figures per underlying (the last axis of ``underlyings`` size U), USD: for a book
    (U,) or for accounts or candidate books (C, U).

    ``scenario_pnl`` (…, U, S) is each scenario's counted P&L (dampened, static-discounted; a
    loss is negative); ``basis_contingency`` (…, U) is ≤ 0. Contingencies are ≥ 0:
    ``maintenance_*`` count in both margins, ``initial_*`` in the initial margin only, on top.
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
        return np.minimum(self.basis_contingency, self.scenario_pnl.min(axis=-1))

    def candidate(self, index: int) -> DeriveRisk:
        """One candidate's figures, of a risk with a leading candidate axis."""
        return replace(
            self,
            scenario_pnl=self.scenario_pnl[index],
            basis_contingency=self.basis_contingency[index],
            maintenance_contingency={k: v[index] for k, v in self.maintenance_contingency.items()},
            initial_contingency={k: v[index] for k, v in self.initial_contingency.items()},
        )

    @property
    def initial(self) -> np.ndarray:
        extra = sum(self.initial_contingency.values()) + sum(self.maintenance_contingency.values())
        return -self.initial_factor * self.worst + extra

    @property
    def maintenance(self) -> np.ndarray:
        return -self.maintenance_factor * self.worst + sum(self.maintenance_contingency.values())


@dataclass(frozen=True)
class DeriveModel(AccountModel):
    """PMRM_2 with the parameters of a derive model YAML. :meth:`evaluate` gives its figures
    per underlying; :meth:`requirements` the margins and components of many accounts (or
    candidate books) at once, :meth:`requirement` of one book with its isolated margins."""

    name: str
    description: str
    source: str
    parameters: dict[str, Any]
    settings: DeriveParameters
    liquidation: LiquidationParameters = field(default_factory=LiquidationParameters)
    method: str = "derive"

    # ---- per instrument -------------------------------------------------------------------

    def _inputs(self, table: InstrumentTable) -> Inputs:
        """What PMRM_2 needs of each instrument of ``table`` (computed once per table)."""
        return memoised(self, table, lambda: instrument_inputs(table, self.settings))

    # ---- per book -------------------------------------------------------------------------

    def evaluate(self, book: Book) -> DeriveRisk:
        """PMRM_2's scenario P&L, basis contingency and contingencies of ``book`` (U, ...)."""
        return self._risk(Holdings.whole(book), self._inputs(book.instruments)).candidate(0)

    def _risk(self, holdings: Holdings, x: Inputs) -> DeriveRisk:
        """PMRM_2's figures of every account (or candidate book) of ``holdings``, (A, U, ...):
        products of the accounts' contracts with the instruments' values grouped by expiry,
        strike and underlying, then per expiry the static discount (which depends on the sign of
        the expiry's value, so it follows the product)."""
        table, p = holdings.instruments, self.settings
        size, underlyings = len(table), len(table.underlyings)
        expiries, strikes = x.expiries, len(x.strike_group_underlying)

        def grouped(per_row: np.ndarray, rows, group, count, part="net") -> np.ndarray:
            """Σ over each group of ``rows``' part(q) · per_row, (A, count, …)."""
            matrix = np.zeros((size, *per_row.shape[1:]))
            matrix[rows] = per_row
            of = np.full(size, count)
            of[rows] = group
            return holdings.grouped(matrix, of, count + 1, part)[:, :count]

        values = grouped(x.option_values, x.options, x.option_expiry, expiries)
        expiry_pnl = self._expiry_pnl(values, x.static_positive, x.static_negative)
        to_underlying = np.zeros((underlyings, expiries))
        to_underlying[x.expiry_underlying, np.arange(expiries)] = 1.0
        linear_group = table.underlying_index[x.linear]
        scenario_pnl = to_underlying @ expiry_pnl + grouped(
            x.linear_pnl, x.linear, linear_group, underlyings
        )
        coins = grouped(x.coins, x.options, x.option_strike_group, strikes)
        to_strike_underlying = np.zeros((strikes, underlyings))
        to_strike_underlying[np.arange(strikes), x.strike_group_underlying] = 1.0
        naked = (np.maximum(-coins, 0.0) * x.strike_group_spot) @ to_strike_underlying
        sizes = np.column_stack([x.perp_notional, x.collateral_value])
        perp, collateral = np.moveaxis(
            grouped(sizes, x.linear, linear_group, underlyings, "gross"), -1, 0
        )
        c, h = p.contingencies, p.collateral
        return DeriveRisk(
            underlyings=table.underlyings,
            scenario_names=p.names,
            dampening=p.dampening,
            scenario_pnl=scenario_pnl,
            basis_contingency=self._basis(values, x.basis_scale) @ to_underlying.T,
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

    # ---- every account ---------------------------------------------------------------------

    def scenario_pnl(self, table: InstrumentTable, market: Market) -> Inputs:
        """PMRM_2's per-contract inputs of ``table``'s instruments (kept in ``table.memo``)."""
        return self._inputs(table)

    def requirements(self, holdings: Holdings, scenarios: Inputs) -> AccountRequirements:
        risk = self._risk(holdings, scenarios)
        loss = -risk.worst  # (A, U)
        components = {
            "scenario_loss": np.maximum(-risk.scenario_pnl.min(axis=-1), 0.0).sum(axis=1),
            "basis_contingency": 0.0 - risk.basis_contingency.sum(axis=1),  # never −0
            "loss_charge_initial": (risk.initial_factor * loss).sum(axis=1),
            "loss_charge_maintenance": (risk.maintenance_factor * loss).sum(axis=1),
        }
        for name, maintenance in risk.maintenance_contingency.items():
            components[f"{name}_initial"] = (maintenance + risk.initial_contingency[name]).sum(1)
            components[f"{name}_maintenance"] = maintenance.sum(axis=1)
        initial = risk.initial
        return AccountRequirements(
            initial=initial.sum(axis=1),
            maintenance=risk.maintenance.sum(axis=1),
            underlyings=risk.underlyings,
            by_underlying=initial,
            components=components,
            worst=self._worst(risk),
        )

    def _worst(self, risk: DeriveRisk) -> WorstScenarios:
        """Each account's scenario of largest loss over its underlyings together, or the basis
        contingency when that is larger; P&L before dampening."""
        total = risk.scenario_pnl.sum(axis=1)  # (A, S)
        rows = np.arange(len(total))
        worst = np.argmin(total, axis=1)
        basis = risk.basis_contingency.sum(axis=1)
        lowest = total[rows, worst]
        is_basis = basis < lowest
        weight = risk.dampening[worst]
        scenario = np.divide(lowest, weight, out=np.zeros_like(lowest), where=weight > 0)
        return WorstScenarios(
            names=(*risk.scenario_names, "basis contingency"),
            weight=np.append(risk.dampening, 1.0),
            index=np.where(is_basis, len(risk.scenario_names), worst),
            pnl=np.where(is_basis, basis, scenario),
        )

    def isolated_margin(self, book: Book, scenarios: Inputs) -> np.ndarray:
        """Each position alone, from the initial margin of ±1 contract (PMRM_2 is homogeneous)."""
        table = book.instruments
        return isolated_from_unit(
            book, self._unit_margins(table, 1.0), self._unit_margins(table, -1.0)
        )

    def allocation(self, book: Book) -> Allocation:
        """Euler allocation of the initial margin (see :mod:`~.derive_allocation`)."""
        return allocate(self, book)


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
