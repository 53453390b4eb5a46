"""``run_stress``: a book's P&L under one or more scenario sets.

Each set is resolved into shocks for the book's underlyings and valued in one engine pass; the
result keeps the P&L per scenario, per underlying and (on demand) per position, and the worst
scenario over all sets. P&L is shocked − base value in USD; a loss is negative.

Large sets (Monte Carlo) are valued in chunks of at most :data:`CHUNK_CELLS` instrument ×
scenario values to bound the memory of the engine's temporaries; the (instruments × scenarios)
P&L a set keeps is at most :data:`MAX_PNL_CELLS` values (400 MB; a set valued twice, stressed and
unstressed, counts twice), else the set is refused with a message naming it, before anything is
priced. Historical and Monte Carlo sets also carry VaR and ES (:mod:`pmargin.risk_measures`); a
Monte Carlo set with a ``correlation_stress`` is also valued without it (the same draws with the
market's correlations), and its VaR and ES come beside. Problems that do not stop the run (a set
shocking an underlying the portfolio does not hold) come back as ``SetResult.warnings`` for the
caller to show.

Open orders are valued as if filled (the worst case, as margin treats them); coin collateral is
shocked with its coin.

Per account (:func:`account_stress`), each account's P&L is one sparse (accounts × instruments)
product with the sets' (instruments × scenarios) P&L, a chunk of accounts at a time; an account
never offsets another.

Given a margin model, a book that states collateral also gets each scenario's equity (equity
before + the scenario's P&L, summed over the accounts with collateral) and whether an account
falls into liquidation in it: its equity after the scenario below its maintenance margin at the
market as it stands (the model is not re-run in each scenario; liquidation prices do that).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from .accounts import Accounts
from .book import Book, bind
from .engine import Valuation, instrument_pnl_chunks
from .errors import InputError, Problem
from .margin import MarginModel
from .market import Market
from .portfolio import Portfolio
from .portfolio_margin import margin_for_book
from .risk_measures import LEVELS, TailRisk, expected_shortfall, value_at_risk
from .scenarios import DEFAULT_KEY, ScenarioSource, Shocks

#: scenarios valued per engine call: 2,000 × 2,000 instruments ≈ 32 MB per temporary array
CHUNK_SCENARIOS = 2_000
#: instrument × scenario values per engine call (fewer scenarios a call for a larger book)
CHUNK_CELLS = 4_000_000
#: the largest (instruments × scenarios) P&L matrix one set may need (float64: 400 MB)
MAX_PNL_CELLS = 50_000_000
#: kinds whose scenarios are a sample of outcomes, so VaR and ES mean something
SAMPLED_KINDS = ("historical", "montecarlo")
_TAIL_KEYS = ("var_95", "var_99", "es_95", "es_99")

#: progress(set_name, scenarios_done, scenarios_in_set), called after each chunk
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class AccountEquity:
    """Equity and maintenance margin (USD) of each account that states collateral, before any
    scenario; the margin is the model's on the market as it stands."""

    model: str
    accounts: tuple[str, ...]
    equity: np.ndarray
    maintenance_margin: np.ndarray


def account_equity(book: Book, model: MarginModel) -> AccountEquity | None:
    """:class:`AccountEquity` of ``book``'s accounts with collateral, or None without any."""
    if not book.portfolio.has_collateral:
        return None
    accounts = margin_for_book(book, model).accounts
    stated = accounts[accounts["equity"].notna().to_numpy()]
    return AccountEquity(
        model=model.name,
        accounts=tuple(stated["account"].to_numpy(object).tolist()),
        equity=stated["equity"].to_numpy(np.float64),
        maintenance_margin=stated["maintenance_margin"].to_numpy(np.float64),
    )


@dataclass(frozen=True)
class SetResult:
    """One scenario set's P&L. ``pnl`` is (S,), ``by_underlying`` (U, S) in USD."""

    scenario_set: Any
    valuation: Valuation
    warnings: tuple[str, ...] = ()
    unstressed: TailRisk | None = None  # VaR/ES of the set without its correlation stress
    account_equity: AccountEquity | None = None

    @property
    def name(self) -> str:
        return self.scenario_set.name

    @property
    def names(self) -> tuple[str, ...]:
        return self.valuation.shocks.names

    @cached_property
    def pnl(self) -> np.ndarray:
        return self.valuation.pnl

    @cached_property
    def by_underlying(self) -> np.ndarray:
        return self.valuation.by_underlying()

    @cached_property
    def tail_risk(self) -> TailRisk | None:
        """VaR and ES at 95/99% for historical and Monte Carlo sets, else None."""
        if getattr(self.scenario_set, "kind", "") not in SAMPLED_KINDS:
            return None
        return TailRisk.of(self.pnl)

    @cached_property
    def account_equity_after(self) -> np.ndarray | None:
        """Equity of each account with collateral after each scenario, (A, S) USD, or None."""
        before = self.account_equity
        if before is None:
            return None
        book = self.valuation.book
        accounts = Accounts.of(book)
        rows = np.searchsorted(accounts.names, np.asarray(before.accounts, dtype=object))
        moved = accounts.holdings(book).rows(rows).net(self.valuation.instrument_pnl)
        return before.equity[:, None] + moved

    @property
    def equity(self) -> np.ndarray | None:
        """Equity after each scenario (S,), summed over the accounts with collateral, or None."""
        after = self.account_equity_after
        return None if after is None else after.sum(axis=0)

    @property
    def in_liquidation(self) -> np.ndarray | None:
        """(S,) True where an account's equity falls below its maintenance margin, or None."""
        after = self.account_equity_after
        if after is None:
            return None
        return (after < self.account_equity.maintenance_margin[:, None]).any(axis=0)

    def position_pnl(self, index: int) -> np.ndarray:
        """P&L of every position row (N,) in scenario ``index``, USD."""
        book = self.valuation.book
        return book.quantity * self.valuation.instrument_pnl[book.instrument, index]

    @property
    def worst_index(self) -> int:
        return int(np.argmin(self.pnl))


@dataclass(frozen=True)
class StressResult:
    book: Book
    sets: list[SetResult]

    @property
    def underlyings(self) -> tuple[str, ...]:
        return self.book.instruments.underlyings

    def worst(self) -> tuple[SetResult, int]:
        """The set and scenario index with the lowest P&L over all sets."""
        return min(((s, s.worst_index) for s in self.sets), key=lambda p: p[0].pnl[p[1]])

    @property
    def worst_loss(self) -> float:
        """Largest loss over all scenarios, USD, ≥ 0."""
        result, index = self.worst()
        return max(-float(result.pnl[index]), 0.0)


def stress_book(
    book: Book,
    scenario_sets: list[ScenarioSource],
    *,
    progress: Progress | None = None,
    model: MarginModel | None = None,
) -> StressResult:
    """Value a bound book under each scenario set (with ``model``: equity and liquidation)."""
    underlyings = book.instruments.underlyings
    equity = None if model is None else account_equity(book, model)
    results = []
    for scenario_set in scenario_sets:
        valuations = 2 if getattr(scenario_set, "correlation_stress", 0) else 1
        cells = len(book.instruments) * scenario_set.count * valuations
        if cells > MAX_PNL_CELLS:
            raise InputError(
                Problem(
                    getattr(scenario_set, "source", "") or f"scenario set {scenario_set.name}",
                    f"{scenario_set.count:,} scenarios × {len(book.instruments):,} instruments "
                    f"{' valued twice (stressed and not)' if valuations == 2 else ''} is "
                    f"{cells:,} P&L values, more than the {MAX_PNL_CELLS:,} one set may use",
                    "Use fewer scenarios (paths) or split the book.",
                )
            )
        shocks = scenario_set.shocks(underlyings, book.market)
        pnl = _chunked_pnl(book, shocks, scenario_set.name, progress)
        warnings = (
            *getattr(scenario_set, "warnings", ()),
            *underlying_warnings(scenario_set, book),
        )
        unstressed = _unstressed_tail_risk(book, scenario_set, progress)
        valuation = Valuation(book, shocks, pnl)
        results.append(SetResult(scenario_set, valuation, warnings, unstressed, equity))
    return StressResult(book, results)


def _unstressed_tail_risk(
    book: Book, scenario_set: ScenarioSource, progress: Progress | None
) -> TailRisk | None:
    """VaR/ES of a set that stresses correlations, valued without that stress; else None."""
    unstressed = getattr(scenario_set, "unstressed", lambda: None)()
    if unstressed is None:
        return None
    shocks = unstressed.shocks(book.instruments.underlyings, book.market)
    pnl = _chunked_pnl(book, shocks, f"{scenario_set.name} (unstressed)", progress)
    return TailRisk.of(Valuation(book, shocks, pnl).pnl)


def run_stress(
    portfolio: Portfolio,
    market: Market,
    scenario_sets: list[ScenarioSource],
    *,
    progress: Progress | None = None,
    model: MarginModel | None = None,
) -> StressResult:
    """P&L of ``portfolio`` under every scenario of every set; with a margin ``model`` and
    collateral, equity after each scenario and whether an account falls into liquidation."""
    return stress_book(bind(portfolio, market), scenario_sets, progress=progress, model=model)


def _chunked_pnl(book: Book, shocks: Shocks, name: str, progress: Progress | None) -> np.ndarray:
    """The engine's (I, S) instrument P&L, computed CHUNK_CELLS values at a time."""
    pnl = np.empty((len(book.instruments), shocks.count))
    size = min(CHUNK_SCENARIOS, max(CHUNK_CELLS // max(len(book.instruments), 1), 1))
    chunks = instrument_pnl_chunks(book.instruments, shocks, along="scenarios", size=size)
    for columns, chunk in chunks:
        pnl[:, columns] = chunk
        if progress is not None:
            progress(name, columns.stop, shocks.count)
    return pnl


def underlying_warnings(scenario_set: ScenarioSource, book: Book) -> tuple[str, ...]:
    """Mismatches between the underlyings a set names and those the book holds.

    A named underlying the portfolio does not hold is ignored (the market may lack it too); that
    is a warning for the user's own files (a typo such as ``XBT`` shows up), not for the bundled
    library, whose sets name BTC and ETH for every book. An explicit or grid set that neither
    names nor defaults (``"*"``) an underlying the portfolio holds leaves it unshocked. Sets that
    cannot leave one unshocked (historical) raise in ``shocks`` instead.
    """
    held = set(book.instruments.underlyings)
    label = f"scenario set {scenario_set.name}"
    source = getattr(scenario_set, "source", "")
    if source:
        label += f" ({source})"
    warnings = []
    named = set(getattr(scenario_set, "named_underlyings", set()))
    if getattr(scenario_set, "bundled", False):
        named = set()
    for underlying in sorted(named - held):
        reason = (
            f"the portfolio holds no {underlying}"
            if underlying in book.market.underlyings
            else f"neither the portfolio nor the market has {underlying}"
        )
        warnings.append(f"{label}: shocks for {underlying} are ignored; {reason}")
    tables = [getattr(scenario_set, k, None) for k in ("spot", "vol", "vol_shift")]
    if all(isinstance(t, dict) for t in tables):
        covered = {u for t in tables for u in t}
        if DEFAULT_KEY not in covered:
            days = getattr(scenario_set, "days", None)
            timed = days is not None and bool(np.any(np.asarray(days) != 0))
            effect = "its spot and vol stay as they are" + ("" if timed else ": its P&L there is 0")
            for underlying in sorted(held - covered):
                warnings.append(
                    f"{label}: does not shock {underlying}, which the portfolio holds "
                    f'(no {underlying} or "*" entry); {effect}'
                )
    return tuple(warnings)


def account_stress(result: StressResult) -> pd.DataFrame:
    """Each account's worst scenario over all sets and per set, USD, one row per account.

    Columns: ``account``, ``worst.set``, ``worst.name``, ``worst.pnl``, then for the k-th set
    ``set<k>.name``, ``set<k>.pnl`` (its worst scenario) and, for historical and Monte Carlo sets,
    ``set<k>.var_95``, ``set<k>.var_99``, ``set<k>.es_95``, ``set<k>.es_99`` (NaN otherwise).
    Open orders count as filled, as in the portfolio's P&L.
    """
    book = result.book
    accounts = Accounts.of(book)
    holdings = accounts.holdings(book)
    table: dict[str, object] = {"account": accounts.names}
    worst_pnl = np.full(len(accounts), np.inf)
    worst_set = np.zeros(len(accounts), np.int64)
    worst_name = np.full(len(accounts), "", dtype=object)
    for k, scenario_set in enumerate(result.sets):  # a few sets; accounts are columns of arrays
        pnl = scenario_set.valuation.instrument_pnl
        sampled = getattr(scenario_set.scenario_set, "kind", "") in SAMPLED_KINDS
        index, low = np.zeros(len(accounts), np.int64), np.zeros(len(accounts))
        tails = {key: np.full(len(accounts), np.nan) for key in _TAIL_KEYS}
        for rows in holdings.chunks(pnl.shape[1]):
            account_pnl = holdings.rows(rows).net(pnl)  # (accounts, S) USD
            index[rows] = np.argmin(account_pnl, axis=1)
            low[rows] = account_pnl[np.arange(len(account_pnl)), index[rows]]
            if sampled:
                for level in LEVELS:
                    percent = round(level * 100)
                    tails[f"var_{percent}"][rows] = value_at_risk(account_pnl, level)
                    tails[f"es_{percent}"][rows] = expected_shortfall(account_pnl, level)
        names = np.asarray(scenario_set.names, dtype=object)[index]
        table[f"set{k}.name"], table[f"set{k}.pnl"] = names, low
        for key, values in tails.items():
            table[f"set{k}.{key}"] = values
        better = low < worst_pnl
        worst_pnl = np.where(better, low, worst_pnl)
        worst_set = np.where(better, k, worst_set)
        worst_name = np.where(better, names, worst_name)
    set_names = np.asarray([s.name for s in result.sets], dtype=object)
    table["worst.set"] = set_names[worst_set]
    table["worst.name"] = worst_name
    table["worst.pnl"] = worst_pnl
    return pd.DataFrame(table)
