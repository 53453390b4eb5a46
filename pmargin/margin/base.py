"""What every margin model gives, and helpers shared by the scenario-based models.

A model margins every account of a book at once (SPEC §7): from the accounts' net contracts
(:class:`~pmargin.accounts.Holdings`, a sparse accounts × instruments matrix) and the P&L per
contract of each instrument in the model's scenarios (:class:`ScenarioPnl`, priced once per run),
:meth:`MarginModel.requirements` returns arrays over accounts (:class:`AccountRequirements`).
:meth:`MarginModel.isolated_margin` is the model on each position row alone.
``model.requirement(book)`` — one book as one account — is built from those two
(:class:`AccountModel`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from ..accounts import Holdings
from ..book import Book, InstrumentTable
from ..engine import instrument_pnl_chunks
from ..market import Market
from ..scenarios import Shocks

#: instruments × scenarios priced per engine call (bounds the memory of its temporaries)
PRICING_CELLS = 2_000_000


@dataclass(frozen=True)
class Requirement:
    """A model's margin for one book, USD, all ≥ 0.

    ``position_initial`` is the model applied to each position row alone (its isolated margin);
    ``by_underlying`` splits ``initial`` where the model adds per-underlying parts.
    ``worst_scenario`` is the scenario whose counted loss is largest (``name``, ``pnl`` = raw P&L,
    ``weight``), or None for models without scenarios.
    """

    initial: float
    maintenance: float
    position_initial: np.ndarray
    components: dict[str, float] = field(default_factory=dict)
    by_underlying: dict[str, float] = field(default_factory=dict)
    worst_scenario: dict[str, Any] | None = None


@dataclass(frozen=True)
class ScenarioPnl:
    """A model's scenarios and the USD P&L of one contract of each instrument in them, (I, S)."""

    shocks: Shocks
    pnl: np.ndarray

    def __iter__(self):  # ``shocks, pnl = model.scenario_pnl(...)``
        return iter((self.shocks, self.pnl))

    @property
    def weighted(self) -> np.ndarray:
        """The counted P&L per contract: each scenario's P&L × its weight."""
        return self.pnl * self.shocks.weight


@dataclass(frozen=True)
class WorstScenarios:
    """Each account's worst scenario: ``index`` (A,) into ``names``/``weight`` (S,), and the
    account's raw (unweighted) P&L in it, ``pnl`` (A,)."""

    names: tuple[str, ...]
    weight: np.ndarray
    index: np.ndarray
    pnl: np.ndarray

    @classmethod
    def of(
        cls,
        holdings: Holdings,
        scenarios: ScenarioPnl,
        counted: np.ndarray,
        weight: np.ndarray | None = None,
    ) -> WorstScenarios:
        """The scenario with the lowest counted P&L ``counted`` (A, S) of each account;
        ``weight`` is what each scenario counts (the shocks' weights unless given)."""
        index = (
            np.argmin(counted, axis=1) if counted.shape[1] else np.zeros(counted.shape[0], np.int64)
        )
        return cls(
            scenarios.shocks.names,
            scenarios.shocks.weight if weight is None else weight,
            index,
            holdings.at_scenario(scenarios.pnl, index),
        )

    def take(self, rows) -> WorstScenarios:
        return replace(self, index=self.index[rows], pnl=self.pnl[rows])


@dataclass(frozen=True)
class AccountRequirements:
    """A model's margin for each of A accounts, USD, all ≥ 0 (arrays of shape (A,)).

    ``by_underlying`` (A, U) has columns in ``underlyings`` order; ``components`` maps a name to
    an (A,) array; ``underlying_components`` maps a name to an (A, U) array, reported as one
    component ``<name>_<underlying>`` per underlying the account holds; ``worst`` is None for
    models without scenarios.
    """

    initial: np.ndarray
    maintenance: np.ndarray
    underlyings: tuple[str, ...]
    by_underlying: np.ndarray
    components: dict[str, np.ndarray] = field(default_factory=dict)
    underlying_components: dict[str, np.ndarray] = field(default_factory=dict)
    worst: WorstScenarios | None = None

    def __len__(self) -> int:
        return len(self.initial)

    def take(self, rows) -> AccountRequirements:
        """The accounts ``rows`` (an index array, mask or slice)."""
        return AccountRequirements(
            self.initial[rows],
            self.maintenance[rows],
            self.underlyings,
            self.by_underlying[rows],
            {k: v[rows] for k, v in self.components.items()},
            {k: v[rows] for k, v in self.underlying_components.items()},
            None if self.worst is None else self.worst.take(rows),
        )

    @classmethod
    def concat(cls, parts: list[AccountRequirements]) -> AccountRequirements:
        """The accounts of ``parts`` one after another (same model, same instruments)."""
        first = parts[0]
        if len(parts) == 1:
            return first
        worst = None
        if first.worst is not None:
            worst = replace(
                first.worst,
                index=np.concatenate([p.worst.index for p in parts]),
                pnl=np.concatenate([p.worst.pnl for p in parts]),
            )
        return cls(
            np.concatenate([p.initial for p in parts]),
            np.concatenate([p.maintenance for p in parts]),
            first.underlyings,
            np.concatenate([p.by_underlying for p in parts]),
            {k: np.concatenate([p.components[k] for p in parts]) for k in first.components},
            {
                k: np.concatenate([p.underlying_components[k] for p in parts])
                for k in first.underlying_components
            },
            worst,
        )

    def replace_rows(self, rows: np.ndarray, other: AccountRequirements) -> AccountRequirements:
        """These requirements with the accounts ``rows`` (indices) taken from ``other``."""
        initial, maintenance = self.initial.copy(), self.maintenance.copy()
        initial[rows], maintenance[rows] = other.initial, other.maintenance
        by_underlying = self.by_underlying.copy()
        by_underlying[rows] = other.by_underlying
        components, underlying_components = {}, {}
        for mine, theirs, out in (
            (self.components, other.components, components),
            (self.underlying_components, other.underlying_components, underlying_components),
        ):
            for name, values in mine.items():
                out[name] = values.copy()
                out[name][rows] = theirs[name]
        worst = self.worst
        if worst is not None:
            index, pnl = worst.index.copy(), worst.pnl.copy()
            index[rows], pnl[rows] = other.worst.index, other.worst.pnl
            worst = replace(worst, index=index, pnl=pnl)
        return AccountRequirements(
            initial,
            maintenance,
            self.underlyings,
            by_underlying,
            components,
            underlying_components,
            worst,
        )

    def account(self, row: int, position_initial: np.ndarray) -> Requirement:
        """One account's requirement, with the isolated margins of its positions."""
        worst = None
        if self.worst is not None:
            index = int(self.worst.index[row])
            worst = {
                "name": self.worst.names[index],
                "pnl": float(self.worst.pnl[row]),
                "weight": float(self.worst.weight[index]),
            }
        components = {k: float(v[row]) for k, v in self.components.items()}
        for name, values in self.underlying_components.items():
            components.update(
                {f"{name}_{u}": float(v) for u, v in zip(self.underlyings, values[row])}
            )
        return Requirement(
            initial=float(self.initial[row]),
            maintenance=float(self.maintenance[row]),
            position_initial=position_initial,
            components=components,
            by_underlying=dict(zip(self.underlyings, self.by_underlying[row].tolist())),
            worst_scenario=worst,
        )


class MarginModel(Protocol):
    """A named, documented parameter set with a method that margins accounts."""

    name: str
    method: str
    description: str
    source: str
    parameters: dict[str, Any]

    def scenario_pnl(self, table: InstrumentTable, market: Market) -> ScenarioPnl | None:
        """The model's scenarios priced on ``table`` (None for models without scenarios)."""
        ...

    def requirements(
        self, holdings: Holdings, scenarios: ScenarioPnl | None
    ) -> AccountRequirements:
        """Margin of every account of ``holdings`` (``scenarios`` from :meth:`scenario_pnl`)."""
        ...

    def isolated_margin(self, book: Book, scenarios: ScenarioPnl | None) -> np.ndarray:
        """The model applied to each position row of ``book`` alone, USD (N,)."""
        ...

    def requirement(self, book: Book) -> Requirement: ...


class AccountModel:
    """Mixin: ``requirement(book)``, the whole book margined as one account."""

    def requirement(self, book: Book) -> Requirement:
        scenarios = self.scenario_pnl(book.instruments, book.market)
        one = self.requirements(Holdings.whole(book), scenarios)
        return one.account(0, self.isolated_margin(book, scenarios))


def worst_loss(weighted_pnl: np.ndarray) -> np.ndarray:
    """Largest counted loss along the last axis, floored at 0 (a requirement is never < 0)."""
    if weighted_pnl.shape[-1] == 0:
        return np.zeros(weighted_pnl.shape[:-1])
    return np.maximum(-weighted_pnl.min(axis=-1), 0.0)


def isolated_from_unit(book: Book, long_unit: np.ndarray, short_unit: np.ndarray) -> np.ndarray:
    """Per-position margin from the margin of +1 and −1 contract of each instrument.

    Valid for models that are positively homogeneous in a single position.
    """
    q = book.quantity
    unit = np.where(q > 0, long_unit[book.instrument], short_unit[book.instrument])
    return np.abs(q) * unit


def model_pnl(model: MarginModel, table: InstrumentTable, build_shocks) -> ScenarioPnl:
    """``model``'s shocks and the P&L per contract (I, S) they give on ``table``.

    Computed once per table and model and kept in ``table.memo``, so repeated requirements of one
    book (what-if, liquidation steps) price once. ``build_shocks()`` makes the shocks. The engine
    runs on PRICING_CELLS instruments × scenarios at a time, which bounds its temporaries.
    """
    cached = table.memo.get(model.method)
    if cached is None or cached[0] is not model:
        shocks = build_shocks()
        pnl = np.empty((len(table), shocks.count))
        size = PRICING_CELLS // max(shocks.count, 1)
        for rows, chunk in instrument_pnl_chunks(table, shocks, along="instruments", size=size):
            pnl[rows] = chunk
        cached = table.memo[model.method] = (model, ScenarioPnl(shocks, pnl))
    return cached[1]
