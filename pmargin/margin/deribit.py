"""Deribit-style portfolio margin: a risk matrix of price × vol moves plus weighted extremes.

For each underlying separately (currencies are margined independently and summed):

1. the standard grid: price moves from −16% to +16% in 9 points × vol {up +50%, unchanged,
   down −25%} (relative), each vol shock scaled by (30/DTE)^p (p = 0.30 under 30 days, 0.13 from
   30 days) and a vol-up floor of 50% vol;
2. extended moves −66%, −33%, +50%, +100%, +200%, +300%, +400%, +500% with vol up, each loss
   counted at a fraction (≈ 0.16/|move|) of its size;

initial margin = Σ over underlyings of the largest counted loss (≥ 0);
maintenance = 0.8 × initial. Coin collateral is part of the book and is shocked with its coin.

This is a model *of* Deribit's published portfolio-margin method (``private/pme/simulate``
parameters, June 2024; Paradex portfolio-margin docs), not an official replication.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..book import Book
from ..engine import underlying_matrix
from ..scenarios import DEFAULT_KEY, ScenarioSet, Shocks, VolTerm, format_move, grid_set
from ..values import number, number_list, section, spot_axis
from .base import (
    Allocation,
    BatchMargin,
    QuantityBatch,
    Requirement,
    by_underlying_columns,
    isolated_from_unit,
    model_pnl,
    worst_loss,
    worst_scenario_allocation,
)


@dataclass(frozen=True)
class DeribitModel:
    name: str
    description: str
    source: str
    parameters: dict[str, Any]
    spot_moves: tuple[float, ...]
    vol_moves: tuple[float, ...]
    vol_term: VolTerm
    extended_moves: tuple[float, ...]
    extended_vol: float
    extended_weights: tuple[float, ...]
    maintenance_ratio: float
    method: str = "deribit"

    def scenario_sets(self) -> tuple[ScenarioSet, ScenarioSet]:
        """The standard grid and the extended moves, as scenario sets."""
        grid = grid_set(
            f"{self.name} grid", list(self.spot_moves), list(self.vol_moves), vol_term=self.vol_term
        )
        count = len(self.extended_moves)
        extended = ScenarioSet(
            name=f"{self.name} extended",
            scenario_names=tuple(
                f"extended {format_move(m)}, vol {format_move(self.extended_vol)}"
                for m in self.extended_moves
            ),
            spot={DEFAULT_KEY: np.array(self.extended_moves, dtype=float)},
            vol={DEFAULT_KEY: np.full(count, self.extended_vol)},
            weight=np.array(self.extended_weights, dtype=float),
            vol_term=self.vol_term,
            kind="explicit",
        )
        return grid, extended

    def shocks(self, underlyings: tuple[str, ...]) -> Shocks:
        """The standard grid's scenarios followed by the extended moves'."""
        grid, extended = self.scenario_sets()
        return grid.shocks(underlyings).concat(extended.shocks(underlyings))

    def counted_pnl(self, book: Book) -> tuple[Shocks, np.ndarray, np.ndarray]:
        """The shocks, the P&L per contract (I, S) and the counted P&L (× each scenario's
        weight) on ``book``'s instruments, priced once per table."""
        table = book.instruments
        shocks, pnl = model_pnl(self, table, lambda: self.shocks(table.underlyings))
        return shocks, pnl, pnl * shocks.weight

    def requirement(self, book: Book) -> Requirement:
        table = book.instruments
        grid_count = len(self.spot_moves) * len(self.vol_moves)  # the grid comes first
        shocks, pnl, weighted = self.counted_pnl(book)
        by_underlying = underlying_matrix(book) @ (book.net_quantity[:, None] * weighted)
        per_underlying = worst_loss(by_underlying)
        grid_risk = worst_loss(by_underlying[:, :grid_count]).sum()
        extended_risk = worst_loss(by_underlying[:, grid_count:]).sum()
        initial = float(per_underlying.sum())
        total = by_underlying.sum(axis=0)
        worst = int(np.argmin(total))
        isolated = isolated_from_unit(book, worst_loss(weighted), worst_loss(-weighted))
        return Requirement(
            initial=initial,
            maintenance=self.maintenance_ratio * initial,
            position_initial=isolated,
            components={
                "scan_risk": initial,
                "grid_risk": float(grid_risk),
                "extended_risk": float(extended_risk),
            },
            by_underlying=dict(zip(table.underlyings, per_underlying.tolist())),
            worst_scenario={
                "name": shocks.names[worst],
                "pnl": float(book.net_quantity @ pnl[:, worst]),
                "weight": float(shocks.weight[worst]),
            },
        )

    def batch_margin(self, book: Book, batch: QuantityBatch) -> BatchMargin:
        """Margin of each candidate book of ``batch`` on ``book``'s instruments."""
        _, _, weighted = self.counted_pnl(book)
        by_underlying = batch.dot(by_underlying_columns(book.instruments, weighted))  # (C, U, S)
        initial = worst_loss(by_underlying).sum(axis=-1)
        return BatchMargin(initial, self.maintenance_ratio * initial)

    def allocation(self, book: Book) -> Allocation:
        """Each position's counted loss in its underlying's worst counted scenario."""
        shocks, _, weighted = self.counted_pnl(book)
        by_underlying = underlying_matrix(book) @ (book.net_quantity[:, None] * weighted)
        contribution, worst, has_loss = worst_scenario_allocation(book, by_underlying, weighted)
        basis = {
            u: f"worst counted scenario: {shocks.names[w]}" if loss else "no loss in any scenario"
            for u, w, loss in zip(book.instruments.underlyings, worst, has_loss)
        }
        return Allocation(contribution, basis)


def build(document: dict[str, Any], where: str, problems) -> DeribitModel | None:
    """A DeribitModel from a parsed model YAML (see ``pmargin/models/deribit.yaml``)."""
    grid = section(document, "grid", where, problems)
    extended = section(document, "extended", where, problems)
    term = section(document, "vol_term", where, problems)
    spot_moves = spot_axis(grid.get("spot"), f"{where}: grid.spot", problems)
    vol_moves = number_list(grid.get("vol"), f"{where}: grid.vol", problems)
    moves = number_list(extended.get("moves"), f"{where}: extended.moves", problems)
    weights = extended.get("weights")
    if weights is None:
        fraction = number(
            extended.get("weight_numerator", 0.16),
            f"{where}: extended.weight_numerator",
            problems,
            minimum=0,
        )
        weights = [fraction / abs(m) for m in moves if m] if fraction is not None else []
    else:
        weights = number_list(weights, f"{where}: extended.weights", problems, minimum=0)
    if moves and weights and len(weights) != len(moves):
        problems.add(f"{where}: extended.weights", "needs one weight per move")
    ext_vol = number(extended.get("vol", 0.5), f"{where}: extended.vol", problems)
    ratio = number(
        document.get("maintenance_ratio", 0.8), f"{where}: maintenance_ratio", problems, minimum=0
    )
    vol_term = VolTerm.parse(term, f"{where}: vol_term", problems)
    if problems:
        return None
    return DeribitModel(
        name=str(document.get("name", "deribit")),
        description=str(document.get("description", "")),
        source=str(document.get("source", "")),
        parameters=document,
        spot_moves=tuple(spot_moves),
        vol_moves=tuple(vol_moves),
        vol_term=vol_term,
        extended_moves=tuple(moves),
        extended_vol=float(ext_vol or 0.0),
        extended_weights=tuple(weights),
        maintenance_ratio=float(ratio if ratio is not None else 0.8),
    )
