"""Margin of every account of a book at once, on this process (the local engine).

:func:`account_requirements` is what ``compute`` runs: the model's scenarios are priced once on
the book's instruments (:meth:`MarginModel.scenario_pnl`), then every account is margined from the
sparse accounts × instruments holdings, a chunk of accounts at a time so that the dense
accounts × scenarios P&L stays within :data:`pmargin.accounts.CHUNK_CELLS`. Open orders are
margined as if filled or not, whichever needs more initial margin, per account (SPEC §3).

An engine runs ``model.requirements`` over the chunks: :class:`LocalEngine` in this process;
:class:`pmargin.dask_engine.DaskEngine` on a Dask cluster, with the same results.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from .accounts import Accounts, Holdings
from .book import Book
from .margin.base import AccountRequirements, MarginModel, ScenarioPnl


class Engine(Protocol):
    """Runs a model over the accounts of ``holdings`` (in chunks, here or elsewhere)."""

    name: str

    def requirements(
        self, model: MarginModel, holdings: Holdings, scenarios: ScenarioPnl | None
    ) -> AccountRequirements: ...


class LocalEngine:
    """Every chunk of accounts in this process, one after another."""

    name = "local"

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, *exc_info) -> None:
        pass

    def requirements(
        self, model: MarginModel, holdings: Holdings, scenarios: ScenarioPnl | None
    ) -> AccountRequirements:
        underlyings = len(holdings.instruments.underlyings)
        cells = 1 if scenarios is None else scenarios.account_cells(underlyings)
        parts = [
            model.requirements(holdings.rows(rows), scenarios) for rows in holdings.chunks(cells)
        ]
        if not parts:
            return model.requirements(holdings, scenarios)
        return AccountRequirements.concat(parts)


def account_requirements(
    model: MarginModel, book: Book, accounts: Accounts, engine: Engine | None = None
) -> tuple[AccountRequirements, np.ndarray]:
    """``model``'s requirements of every account of ``book`` and each position's isolated margin.

    Accounts with open orders are margined twice, with the orders filled and without them, and
    keep the larger initial margin; isolated margin counts orders as filled.
    """
    engine = engine or LocalEngine()
    scenarios = model.scenario_pnl(book.instruments, book.market)
    filled = engine.requirements(model, accounts.holdings(book), scenarios)
    isolated = model.isolated_margin(book, scenarios)
    with_orders = np.unique(accounts.position_account[book.is_order])
    if len(with_orders):
        holdings = accounts.holdings(book, include_orders=False).rows(with_orders)
        unfilled = engine.requirements(model, holdings, scenarios)
        worse = unfilled.initial > filled.initial[with_orders]
        filled = filled.replace_rows(with_orders[worse], unfilled.take(worse))
    return filled, isolated
