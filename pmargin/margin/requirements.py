"""What a margin model returns: :class:`Requirement` for one book, :class:`AccountRequirements`
for many accounts at once (arrays over accounts), and each account's worst scenario."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..scenarios import Shocks

if TYPE_CHECKING:
    from ..accounts import Holdings

#: ``WorstScenarios.index`` of an account with no worst scenario (nothing it holds can lose)
NO_SCENARIO = -1


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

    def account_cells(self, underlyings: int) -> int:
        """Dense cells one account needs: its P&L per underlying and scenario."""
        return self.shocks.count * max(underlyings, 1)


@dataclass(frozen=True)
class WorstScenarios:
    """Each account's worst scenario: ``index`` (A,) into ``names``/``weight``
    (:data:`NO_SCENARIO` for none), and the account's raw (unweighted) P&L in it, ``pnl`` (A,)."""

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

    @classmethod
    def joined(cls, parts: list[WorstScenarios]) -> list[WorstScenarios]:
        """``parts`` on one list of names (their own names when they share them, as scenario
        models' chunks do; else the distinct names of all, each part's index mapped to them)."""
        first = parts[0]
        if all(p.names == first.names for p in parts):
            return parts
        names: dict[str, int] = {}
        weights: list[float] = []
        for part in parts:
            for name, weight in zip(part.names, part.weight):
                if name not in names:
                    names[name] = len(names)
                    weights.append(float(weight))
        joined = []
        for part in parts:
            mapping = np.array([names[n] for n in part.names] + [NO_SCENARIO], dtype=np.int64)
            index = mapping[np.where(part.index < 0, len(part.names), part.index)]
            joined.append(cls(tuple(names), np.asarray(weights), index, part.pnl))
        return joined

    def labels(self) -> np.ndarray:
        """Each account's scenario name (A,), None where it has none."""
        names = np.asarray([*self.names, None], dtype=object)
        return names[np.where(self.index < 0, len(self.names), self.index)]

    def weights(self) -> np.ndarray:
        """Each account's scenario weight (A,), NaN where it has none."""
        weight = np.append(np.asarray(self.weight, dtype=np.float64), np.nan)
        return weight[np.where(self.index < 0, len(self.weight), self.index)]

    def scenario(self, row: int) -> dict[str, Any] | None:
        """Account ``row``'s worst scenario as ``{name, pnl, weight}``, or None."""
        index = int(self.index[row])
        if index < 0:
            return None
        return {
            "name": self.names[index],
            "pnl": float(self.pnl[row]),
            "weight": float(self.weight[index]),
        }


@dataclass(frozen=True)
class AccountRequirements:
    """A model's margin for each of A accounts, USD, all ≥ 0 (arrays of shape (A,)).

    ``by_underlying`` (A, U) has columns in ``underlyings`` order (for models that margin per
    settlement currency, the currencies); ``present`` (A, U) says which of them apply to each
    account (None: the underlyings the account holds). ``components`` maps a name to an (A,)
    array; ``underlying_components`` maps a name to an (A, U) array, reported as one component
    ``<name>_<underlying>`` per underlying that applies; ``worst`` is None for models without
    scenarios.
    """

    initial: np.ndarray
    maintenance: np.ndarray
    underlyings: tuple[str, ...]
    by_underlying: np.ndarray
    components: dict[str, np.ndarray] = field(default_factory=dict)
    underlying_components: dict[str, np.ndarray] = field(default_factory=dict)
    worst: WorstScenarios | None = None
    present: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.initial)

    def _with(self, arrays: Callable[[str, Any], Any]) -> AccountRequirements:
        """A copy whose per-account arrays are ``arrays(name, value)`` of this one's."""

        def each(name: str, value):
            if isinstance(value, dict):
                return {k: arrays(f"{name}.{k}", v) for k, v in value.items()}
            return None if value is None else arrays(name, value)

        worst = self.worst
        if worst is not None:
            worst = replace(
                worst, index=arrays("worst.index", worst.index), pnl=arrays("worst.pnl", worst.pnl)
            )
        return AccountRequirements(
            each("initial", self.initial),
            each("maintenance", self.maintenance),
            self.underlyings,
            each("by_underlying", self.by_underlying),
            each("components", self.components),
            each("underlying_components", self.underlying_components),
            worst,
            each("present", self.present),
        )

    def _array(self, name: str):
        """The per-account array called ``name`` (as :meth:`_with` names them)."""
        head, _, key = name.partition(".")
        value = getattr(self, head)
        if head == "worst":
            return getattr(value, key)
        return value[key] if key else value

    def take(self, rows) -> AccountRequirements:
        """The accounts ``rows`` (an index array, mask or slice)."""
        return self._with(lambda name, values: values[rows])

    @classmethod
    def concat(cls, parts: list[AccountRequirements]) -> AccountRequirements:
        """The accounts of ``parts`` one after another (same model, same instruments)."""
        if len(parts) == 1:
            return parts[0]
        parts = cls._named_alike(parts)
        return parts[0]._with(
            lambda name, _: np.concatenate([p._array(name) for p in parts], axis=0)
        )

    def replace_rows(self, rows: np.ndarray, other: AccountRequirements) -> AccountRequirements:
        """These requirements with the accounts ``rows`` (indices) taken from ``other``."""
        mine, other = self._named_alike([self, other])

        def replaced(name: str, values: np.ndarray) -> np.ndarray:
            values = values.copy()
            values[rows] = other._array(name)
            return values

        return mine._with(replaced)

    @staticmethod
    def _named_alike(parts: list[AccountRequirements]) -> list[AccountRequirements]:
        """``parts`` whose worst scenarios index one list of names."""
        if parts[0].worst is None:
            return parts
        worst = WorstScenarios.joined([p.worst for p in parts])
        return [replace(p, worst=w) for p, w in zip(parts, worst)]

    def account(self, row: int, position_initial: np.ndarray) -> Requirement:
        """One account's requirement, with the isolated margins of its positions."""
        applies = (
            np.ones(len(self.underlyings), bool) if self.present is None else self.present[row]
        )
        components = {k: float(v[row]) for k, v in self.components.items()}
        for name, values in self.underlying_components.items():
            components.update(
                {
                    f"{name}_{u}": float(v)
                    for u, v, a in zip(self.underlyings, values[row], applies)
                    if a
                }
            )
        by_underlying = {
            u: float(v) for u, v, a in zip(self.underlyings, self.by_underlying[row], applies) if a
        }
        return Requirement(
            initial=float(self.initial[row]),
            maintenance=float(self.maintenance[row]),
            position_initial=position_initial,
            components=components,
            by_underlying=by_underlying,
            worst_scenario=None if self.worst is None else self.worst.scenario(row),
        )
