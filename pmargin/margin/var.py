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

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..book import Book
from ..engine import instrument_pnl_chunks, underlying_matrix
from ..errors import MarketDataError, Problem, ProblemCollector
from ..estimate import Estimate
from ..historical import HistoricalSet
from ..market import Market
from ..montecarlo import DISTRIBUTIONS, MAX_PATHS, MonteCarloSet
from ..risk_measures import expected_shortfall, value_at_risk
from ..scenarios import Shocks
from ..values import DAYS_MAX, number, section, unknown_key_problem
from .base import Requirement, cached_pnl, isolated_from_unit, keep_pnl
from .liquidation_parameters import LiquidationParameters, parse_liquidation

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
#: instruments × scenarios valued at a time (bounds memory for large books)
CHUNK_CELLS = 2_000_000
#: instruments × scenarios P&L kept for later books on the same instruments (64 MB)
KEEP_CELLS = 8_000_000
#: memo key of the ES of +1 and −1 contract of each instrument, kept with the P&L
UNIT_SHORTFALLS = "var unit shortfalls"


@dataclass(frozen=True)
class VarModel:
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

    def _pnl_chunks(self, book: Book):
        """The shocks and the (I, S) P&L per contract in pieces of rows that bound memory.

        Up to :data:`KEEP_CELLS` cells the pieces are joined and kept in ``table.memo`` (as the
        other scenario models keep theirs), so books on the same table — the accounts of a
        book, the steps of a liquidation — are not priced again.
        """
        table = book.instruments
        cached = cached_pnl(self, table)
        if cached is not None:
            return cached[0], [(slice(None), cached[1])]
        shocks = self.shocks(table.underlyings, book.market)
        size = CHUNK_CELLS // max(shocks.count, 1)  # instruments per chunk bounds memory
        chunks = instrument_pnl_chunks(table, shocks, along="instruments", size=size)
        if len(table) * shocks.count > KEEP_CELLS:
            return shocks, chunks
        pnl = np.empty((len(table), shocks.count))
        for rows, piece in chunks:
            pnl[rows] = piece
        return shocks, [(slice(None), keep_pnl(self, table, shocks, pnl)[1])]

    def requirement(self, book: Book) -> Requirement:
        table = book.instruments
        shocks, chunks = self._pnl_chunks(book)
        q = book.net_quantity
        matrix = underlying_matrix(book)
        by_underlying = np.zeros((len(table.underlyings), shocks.count))
        kept = table.memo.get(UNIT_SHORTFALLS)  # ES of ±1 contract: quantities do not matter
        if kept is not None and kept[0] is self:
            long_unit, short_unit = kept[1], kept[2]
        else:
            long_unit, short_unit = np.zeros(len(table)), np.zeros(len(table))
        for rows, pnl in chunks:
            # pnl: (rows, S) USD per contract
            if kept is None or kept[0] is not self:
                long_unit[rows] = self.expected_shortfall(pnl)
                short_unit[rows] = self.expected_shortfall(-pnl)
            by_underlying += (matrix[:, rows] * q[rows]) @ pnl
        if cached_pnl(self, table) is not None:
            table.memo[UNIT_SHORTFALLS] = (self, long_unit, short_unit)
        total = by_underlying.sum(axis=0)
        es_total = float(self.expected_shortfall(total))
        es_underlying = self.expected_shortfall(by_underlying)
        worst = int(np.argmin(total))
        return Requirement(
            initial=es_total,
            maintenance=self.maintenance_ratio * es_total,
            position_initial=isolated_from_unit(book, long_unit, short_unit),
            components={
                "expected_shortfall": es_total,
                "value_at_risk": float(np.maximum(value_at_risk(total, self.confidence), 0.0)),
                "diversification": es_total - float(es_underlying.sum()),
            },
            by_underlying=dict(zip(table.underlyings, es_underlying.tolist())),
            worst_scenario={"name": shocks.names[worst], "pnl": float(total[worst]), "weight": 1.0},
        )


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
    if len(keep) == shocks.count:
        return shocks
    return replace(
        shocks,
        names=tuple(shocks.names[i] for i in keep),
        spot=shocks.spot[:, keep],
        vol=shocks.vol[:, keep],
        vol_shift=shocks.vol_shift[:, keep],
        days=shocks.days[keep],
        weight=shocks.weight[keep],
    )


def _check_keys(block, valid: tuple[str, ...], where: str, problems: ProblemCollector) -> None:
    for key in block:
        if key in REMOVED_KEYS:
            problems.add(
                f"{where}{key}", f"no longer a parameter: {REMOVED_KEYS[key]}", "Delete it."
            )
        elif key not in valid:
            problems.append(unknown_key_problem(f"{where}{key}", key, valid))


def _montecarlo_parameters(
    document: dict[str, Any], where: str, problems: ProblemCollector
) -> dict[str, Any]:
    """The ``montecarlo:`` block as MonteCarloSet keywords (paths, seed, distribution, df)."""
    mc = section(document, "montecarlo", where, problems)
    _check_keys(mc, MONTECARLO_KEYS, f"{where}: montecarlo.", problems)
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
    _check_keys(document, KEYS, f"{where}: ", problems)
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
    montecarlo = _montecarlo_parameters(document, where, problems)
    ratio = number(
        document.get("maintenance_ratio", 0.8), f"{where}: maintenance_ratio", problems, minimum=0
    )
    liquidation = parse_liquidation(document, where, problems)
    scenario_set = None
    if kind == "historical":
        hist = section(document, "historical", where, problems)
        _check_keys(hist, HISTORICAL_KEYS, f"{where}: historical.", problems)
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
