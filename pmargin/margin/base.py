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

from collections.abc import Callable
from dataclasses import fields
from typing import Any, Protocol

import numpy as np

from ..accounts import Holdings
from ..book import Book, InstrumentTable
from ..engine import instrument_pnl_chunks
from ..errors import ProblemCollector
from ..market import Market
from ..scenarios import Shocks
from ..values import check_keys, number, same_key_problems, section, upper_key
from .liquidation_parameters import LiquidationParameters
from .requirements import (  # noqa: F401 - the models import them from here
    NO_SCENARIO,
    AccountRequirements,
    Requirement,
    ScenarioPnl,
    WorstScenarios,
)

#: keys of a parameter block that say where its values come from (``models show`` prints them)
SOURCE_KEYS = ("source", "date")
#: the block of a per-underlying (or per-currency) table that serves every name without its own
DEFAULT = "default"
#: the ``table.memo`` slot of a model's scenario P&L (see :func:`keep_pnl`)
PNL_SLOT = "pnl"


def maintenance_ratio(
    document: dict, where: str, problems: ProblemCollector, default: float
) -> float | None:
    """A model file's ``maintenance_ratio`` (maintenance = ratio × initial), in [0, 1]:
    maintenance is never above the initial margin."""
    return number(
        document.get("maintenance_ratio", default),
        f"{where}: maintenance_ratio",
        problems,
        minimum=0,
        maximum=1,
    )


#: instruments × scenarios priced per engine call (bounds the memory of its temporaries)
PRICING_CELLS = 2_000_000


class MarginModel(Protocol):
    """A named, documented parameter set with a method that margins accounts."""

    name: str
    method: str
    description: str
    source: str
    parameters: dict[str, Any]
    #: how the model's venue liquidates (fees, step size, buffer)
    liquidation: LiquidationParameters

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


def requirements_in_chunks(
    model: MarginModel, holdings: Holdings, scenarios: Any
) -> AccountRequirements:
    """``model.requirements`` of every account of ``holdings``, a chunk of accounts at a time so
    that each chunk's dense arrays stay within :data:`pmargin.accounts.CHUNK_CELLS`."""
    underlyings = len(holdings.instruments.underlyings)
    cells = 1 if scenarios is None else scenarios.account_cells(underlyings)
    parts = [model.requirements(holdings.rows(rows), scenarios) for rows in holdings.chunks(cells)]
    if not parts:
        return model.requirements(holdings, scenarios)
    return AccountRequirements.concat(parts)


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


def memoised(model: MarginModel, table: InstrumentTable, compute: Callable[[], Any]) -> Any:
    """``compute()`` once per table and model, kept in ``table.memo``: the book and each of its
    accounts (which share the table) are priced in one pass."""
    cached = table.memo.get(model.method)
    if cached is None or cached[0] is not model:
        cached = table.memo[model.method] = (model, compute())
    return cached[1]


def model_pnl(model: MarginModel, table: InstrumentTable, build_shocks) -> ScenarioPnl:
    """``model``'s shocks and the P&L per contract (I, S) they give on ``table``, priced once per
    table and kept (:func:`keep_pnl`): every account of a book, and every later book on the same
    table (what-if, liquidation steps), is margined from them. ``build_shocks()`` makes the
    shocks. The engine runs on PRICING_CELLS instruments × scenarios at a time, which bounds its
    temporaries."""
    cached = cached_pnl(model, table)
    if cached is None:
        shocks = build_shocks()
        pnl = np.empty((len(table), shocks.count))
        size = max(PRICING_CELLS // max(shocks.count, 1), 1)
        for rows, chunk in instrument_pnl_chunks(table, shocks, along="instruments", size=size):
            pnl[rows] = chunk
        cached = keep_pnl(model, table, shocks, pnl)
    return cached


def keep_pnl(
    model: MarginModel, table: InstrumentTable, shocks: Shocks, pnl: np.ndarray
) -> ScenarioPnl:
    """Keep ``model``'s shocks and (I, S) P&L per contract in ``table.memo``; return them."""
    kept = ScenarioPnl(shocks, pnl)
    table.memo[(model.method, PNL_SLOT)] = (model, kept)
    return kept


def cached_pnl(model: MarginModel, table: InstrumentTable) -> ScenarioPnl | None:
    """The shocks and (I, S) P&L per contract that ``model`` kept for ``table``, if it did
    (``shocks, pnl = cached_pnl(...)``).

    Scenario models keep them (see :func:`model_pnl`) once they have margined a book on
    ``table``; models without scenarios (standard) keep none.
    """
    cached = table.memo.get((model.method, PNL_SLOT))
    if cached is None or cached[0] is not model:
        return None
    return cached[1]


def parameter_block(
    cls, raw: Any, where: str, problems: ProblemCollector, checks: dict[str, dict] | None = None
):
    """A YAML block of numbers as the dataclass ``cls``: every field required, each checked with
    ``checks[field]`` (keywords of :func:`pmargin.values.number`, default ≥ 0), ``source`` and
    ``date`` allowed beside them. None after a problem (recorded in ``problems``)."""
    if not isinstance(raw, dict):
        problems.add(where, "expected a mapping of parameters")
        return None
    names = [f.name for f in fields(cls)]
    check_keys(raw, (*SOURCE_KEYS, *names), where, problems, sep=".")
    values = {}
    for name in names:
        if name not in raw:
            problems.add(f"{where}.{name}", "missing", f"Add `{name}:` (see pmargin/models).")
            continue
        check = (checks or {}).get(name, {"minimum": 0})
        values[name] = number(raw[name], f"{where}.{name}", problems, **check)
    if len(values) < len(names) or None in values.values():
        return None
    return cls(**values)


def parameter_blocks(
    cls, document: dict, key: str, where: str, problems: ProblemCollector, checks=None
) -> dict[str, Any]:
    """``document[key]``: a mapping of names (underlyings, currencies) to blocks of ``cls``,
    which must include :data:`DEFAULT`. Names are codes as pmargin compares them (``btc:`` is
    ``BTC``; two names for one code are a problem). Blocks with a problem are left out (and
    recorded)."""
    raw = section(document, key, where, problems)
    if DEFAULT not in raw:
        problems.add(
            f"{where}: {key}",
            f"missing `{DEFAULT}`",
            f"Add a `{DEFAULT}:` block for the names without their own.",
        )
    problems.extend(same_key_problems(raw, f"{where}: {key}", "name", _block_name))
    blocks = {
        _block_name(name): parameter_block(cls, value, f"{where}: {key}.{name}", problems, checks)
        for name, value in raw.items()
    }
    return {name: block for name, block in blocks.items() if block is not None}


def _block_name(name: Any) -> str:
    """A block's name as looked up: ``default`` as written, a code upper case."""
    return DEFAULT if str(name) == DEFAULT else upper_key(name)
