"""VaR/ES margin (STANS-style): expected shortfall of the book's P&L over a few days.

Scenarios move spots (and forwards) only: no vol or theta shocks. ``scenarios: montecarlo`` is a
:class:`~pmargin.montecarlo.MonteCarloSet` (correlated log returns over ``horizon_days`` from the
market's vols and correlations, normal or Student-t, seeded; with ``montecarlo: {estimate:
{method, lambda, window}}`` the vols and correlations are instead estimated from the
``historical:`` prices by :mod:`pmargin.estimate`, so both variants draw on one file);
``historical`` a :class:`~pmargin.historical.HistoricalSet` of the overlapping
``horizon_days``-row returns of the ``prices`` CSV (``date`` — or ``date_column`` — and daily
closes per underlying, beside the model YAML), where an empty cell is a missing close and
returns across it are skipped (an estimate, which needs every close, calls a gap an error).

ES and VaR are :mod:`pmargin.risk_measures`' (of the k = ⌈(1 − confidence)·N⌉ worst scenarios: ES
the mean loss, VaR the k-th largest), floored at 0. Initial margin = the book's ES;
``by_underlying`` holds each underlying's stand-alone ES and ``diversification`` (≤ 0, ES is
sub-additive) reconciles them with the total. Maintenance = ``maintenance_ratio`` × initial (0.8:
pmargin's choice, as deribit; STANS sets one requirement). Isolated margin is each position's own
ES, from the ES of ±1 contract (ES is homogeneous). A model *of* OCC's STANS, not a replication.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..accounts import Holdings
from ..book import Book, InstrumentTable
from ..errors import MarketDataError, Problem, ProblemCollector
from ..estimate import Estimate
from ..historical import HistoricalSet
from ..market import Market
from ..montecarlo import MonteCarloSet
from ..risk_measures import expected_shortfall, tail_count, value_at_risk
from ..scenarios import Shocks
from ..values import DAYS_MAX, number, section
from .base import (
    AccountModel,
    AccountRequirements,
    ScenarioPnl,
    WorstScenarios,
    isolated_from_unit,
    maintenance_ratio,
    model_pnl,
)
from .batch import Allocation
from .liquidation_parameters import LiquidationParameters, parse_liquidation
from .var_parameters import (
    HISTORICAL_KEYS,
    KEYS,
    check_var_keys,
    montecarlo_parameters,
)

#: instruments × scenarios sorted at a time for the isolated margin (bounds memory)
CHUNK_CELLS = 2_000_000
#: memo key of the ES of +1 and −1 contract of each instrument, kept with the P&L
UNIT_SHORTFALLS = "var unit shortfalls"


@dataclass(frozen=True)
class VarModel(AccountModel):
    name: str
    description: str
    source: str
    parameters: dict[str, Any]
    path: str
    confidence: float
    scenario_set: MonteCarloSet | HistoricalSet
    maintenance_ratio: float
    method: str = "var"
    liquidation: LiquidationParameters = field(default_factory=LiquidationParameters)

    @property
    def kind(self) -> str:
        return self.scenario_set.kind

    def shocks(self, underlyings: tuple[str, ...], market: Market) -> Shocks:
        """Spot moves (U, S) for ``underlyings``: the set's, less historical returns with a gap."""
        if isinstance(self.scenario_set, MonteCarloSet):
            return self.scenario_set.shocks(underlyings, market)
        return _complete_returns(self.scenario_set, underlyings, market)

    def expected_shortfall(self, pnl: np.ndarray) -> np.ndarray:
        """ES along the last axis of ``pnl`` (USD), floored at 0."""
        return np.maximum(expected_shortfall(pnl, self.confidence), 0.0)

    def scenario_pnl(self, table: InstrumentTable, market: Market) -> ScenarioPnl:
        """The spot moves and the P&L per contract (I, S) in them, priced once per run."""
        return model_pnl(self, table, lambda: self.shocks(table.underlyings, market))

    def requirements(self, holdings: Holdings, scenarios: ScenarioPnl) -> AccountRequirements:
        by_underlying = holdings.by_underlying(scenarios.pnl)  # (A, U, S) USD
        total = by_underlying.sum(axis=1)
        es_total = self.expected_shortfall(total)
        es_underlying = self.expected_shortfall(by_underlying)
        return AccountRequirements(
            initial=es_total,
            maintenance=self.maintenance_ratio * es_total,
            underlyings=holdings.instruments.underlyings,
            by_underlying=es_underlying,
            components={
                "expected_shortfall": es_total,
                "value_at_risk": np.maximum(value_at_risk(total, self.confidence), 0.0),
                "diversification": es_total - es_underlying.sum(axis=1),
            },
            worst=WorstScenarios.of(
                holdings, scenarios, total, weight=np.ones(scenarios.shocks.count)
            ),
        )

    def isolated_margin(self, book: Book, scenarios: ScenarioPnl) -> np.ndarray:
        """Each position's own ES, from the ES of ±1 contract (ES is homogeneous), kept with the
        table so that later books on it (liquidation steps) sort nothing again."""
        table = book.instruments
        kept = table.memo.get(UNIT_SHORTFALLS)
        if kept is None or kept[0] is not self or kept[1] is not scenarios:
            pnl = scenarios.pnl
            long_unit, short_unit = np.zeros(len(pnl)), np.zeros(len(pnl))
            size = max(CHUNK_CELLS // max(pnl.shape[1], 1), 1)  # bounds the sort's copies
            for start in range(0, len(pnl), size):
                rows = slice(start, start + size)
                long_unit[rows] = self.expected_shortfall(pnl[rows])
                short_unit[rows] = self.expected_shortfall(-pnl[rows])
            kept = table.memo[UNIT_SHORTFALLS] = (self, scenarios, long_unit, short_unit)
        return isolated_from_unit(book, kept[2], kept[3])

    def allocation(self, book: Book) -> Allocation:
        """Each position's mean loss over the tail scenarios of the book's P&L (the k worst
        that the expected shortfall averages), so the contributions add up to the ES."""
        table = book.instruments
        shocks, pnl = self.scenario_pnl(table, book.market)
        total = book.net_quantity @ pnl
        basis_text = "no loss in the tail"
        contribution = np.zeros(len(book.quantity))
        if self.expected_shortfall(total) > 0:
            k = tail_count(shocks.count, self.confidence)
            tail = np.argpartition(total, k - 1)[:k]
            tail_loss = -pnl[:, tail].mean(axis=1)  # per contract
            contribution = book.quantity * tail_loss[book.instrument]
            basis_text = f"mean loss over the {k} tail scenarios of {shocks.count:,}"
        return Allocation(contribution, {u: basis_text for u in table.underlyings})


def _complete_returns(
    history: HistoricalSet, underlyings: tuple[str, ...], market: Market
) -> Shocks:
    """The set's shocks for ``underlyings``, keeping only returns with every needed close."""
    missing = [u for u in underlyings if u not in history.spot]
    if missing:
        raise MarketDataError(
            Problem(
                history.prices,
                f"no price column for {', '.join(missing)}",
                f"Add a `{missing[0]}` column of daily closes (USD).",
            )
        )
    shocks = history.shocks(underlyings, market)
    keep = np.flatnonzero(np.isfinite(shocks.spot).all(axis=0))
    if len(keep) < 2:
        raise MarketDataError(
            Problem(
                history.prices,
                f"fewer than 2 {history.horizon_days}-day returns with closes for all of "
                f"{', '.join(underlyings)}",
                "Add more rows of daily closes.",
            )
        )
    return shocks if len(keep) == shocks.count else shocks.take(keep)


def build(
    document: dict[str, Any],
    where: str,
    problems: ProblemCollector,
    *,
    price_history: HistoricalSet | None = None,
    estimated_inputs: Estimate | None = None,
) -> VarModel | None:
    """A VarModel from a parsed model YAML (see ``pmargin/models/var.yaml``).

    ``price_history`` is the replay of the ``historical:`` block's CSV of daily closes, read by
    :mod:`pmargin.io.model_file` (needed when ``scenarios: historical``); ``estimated_inputs``
    the vols and correlations estimated from it (needed with ``montecarlo.estimate``).
    """
    check_var_keys(document, KEYS, f"{where}: ", problems)
    name = str(document.get("name", "var"))
    confidence = number(document.get("confidence", 0.99), f"{where}: confidence", problems)
    if confidence is not None and not 0.5 <= confidence < 1:
        problems.add(f"{where}: confidence", f"must be in [0.5, 1), found {confidence}")
    horizon = number(
        document.get("horizon_days", 2),
        f"{where}: horizon_days",
        problems,
        positive=True,
        maximum=DAYS_MAX,
    )
    kind = str(document.get("scenarios", "montecarlo"))
    if kind not in ("montecarlo", "historical"):
        problems.add(f"{where}: scenarios", f"unknown {kind!r}", "Use montecarlo or historical.")
    montecarlo = montecarlo_parameters(document, where, problems)
    ratio = maintenance_ratio(document, where, problems, default=0.8)
    liquidation = parse_liquidation(document, where, problems)
    scenario_set = None
    if kind == "historical":
        hist = section(document, "historical", where, problems)
        check_var_keys(hist, HISTORICAL_KEYS, f"{where}: historical.", problems)
        if horizon is not None and horizon != int(horizon):
            problems.add(
                f"{where}: horizon_days",
                f"must be a whole number of rows for historical scenarios, found {horizon}",
            )
        elif horizon is not None:
            scenario_set = price_history
            if price_history is None and not problems:
                problems.add(
                    f"{where}: historical.prices",
                    "no price history was read for this model",
                    "Load the model with pmargin.io.model_file.load_model.",
                )
    wants_estimate = "estimate" in (document.get("montecarlo") or {})
    if kind == "montecarlo" and wants_estimate and estimated_inputs is None and not problems:
        problems.add(
            f"{where}: montecarlo.estimate",
            "no estimate of the price history was made for this model",
            "Load the model with pmargin.io.model_file.load_model.",
        )
    if problems:
        return None
    if kind == "montecarlo":
        scenario_set = MonteCarloSet(
            name=name,
            horizon_days=float(horizon),
            source=where,
            estimate=estimated_inputs,
            **montecarlo,
        )
    return VarModel(
        name=name,
        description=str(document.get("description", "")),
        source=str(document.get("source", "")),
        parameters=document,
        path=where,
        confidence=float(confidence),
        scenario_set=scenario_set,
        maintenance_ratio=float(ratio),
        liquidation=liquidation,
    )
