"""Margin of every account of a book at once, on this process (the local engine).

:func:`account_requirements` is what ``compute`` runs: the model's scenarios are priced once on
the book's instruments (:meth:`MarginModel.scenario_pnl`), then every account is margined from the
sparse accounts × instruments holdings, a chunk of accounts at a time so that the dense
accounts × scenarios P&L stays within :data:`pmargin.accounts.CHUNK_CELLS`. Open orders are
margined as if filled or not, whichever needs more initial margin, per account (SPEC §3).
Each position's isolated margin is computed meanwhile on a second thread (:class:`Beside`).

An engine runs ``model.requirements`` over the chunks: :class:`LocalEngine` in this process;
:class:`pmargin.dask_engine.DaskEngine` on a Dask cluster, with the same results.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

import numpy as np

from .accounts import Accounts, Holdings
from .book import Book
from .margin.base import (
    NO_SCENARIO,
    AccountRequirements,
    MarginModel,
    ScenarioPnl,
    WorstScenarios,
    requirements_in_chunks,
)


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
        return requirements_in_chunks(model, holdings, scenarios)


def account_requirements(
    model: MarginModel, book: Book, accounts: Accounts, engine: Engine | None = None
) -> tuple[AccountRequirements, np.ndarray]:
    """``model``'s requirements of every account of ``book`` and each position's isolated margin.

    Accounts with open orders are margined twice, with the orders filled and without them, and
    keep the larger initial margin; isolated margin counts orders as filled.
    """
    if not hasattr(model, "requirements"):
        return _each_account_alone(model, book, accounts)
    engine = engine or LocalEngine()
    scenarios = model.scenario_pnl(book.instruments, book.market)
    isolated = Beside(model.isolated_margin, book, scenarios)  # on the other core meanwhile
    filled = engine.requirements(model, accounts.holdings(book), scenarios)
    with_orders = np.unique(accounts.position_account[book.is_order])
    if len(with_orders):
        holdings = accounts.holdings(book, include_orders=False).rows(with_orders)
        unfilled = engine.requirements(model, holdings, scenarios)
        worse = unfilled.initial > filled.initial[with_orders]
        filled = filled.replace_rows(with_orders[worse], unfilled.take(worse))
    return filled, isolated.result()


class Beside:
    """``function(*args)`` run on a thread of its own while the caller goes on; :meth:`result`
    waits for it and returns its value or raises its exception.

    Isolated margin and the accounts' margins are independent reads of the same priced
    scenarios, and most of their time is spent in numpy, which lets the other thread run: on two
    cores the pair takes about the longer of the two (1M positions: 0.40 s -> 0.30 s). The thread
    is a daemon, so an interrupted run does not wait for it.
    """

    def __init__(self, function: Callable[..., Any], *args: Any) -> None:
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(function, args), daemon=True)
        self._thread.start()

    def _run(self, function: Callable[..., Any], args: tuple) -> None:
        try:
            self._value = function(*args)
        except BaseException as error:  # re-raised in the caller's thread by result()
            self._error = error

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _each_account_alone(
    model: MarginModel, book: Book, accounts: Accounts
) -> tuple[AccountRequirements, np.ndarray]:
    """For a model that only margins one book (``requirement(book)``, as a user's own model may):
    each account's book in turn, orders filled or not, whichever needs more — a Python loop over
    accounts, the slow path that the bundled models (which margin accounts at once) never take."""
    isolated = np.zeros(len(book.quantity))
    results = []
    for account in range(len(accounts)):
        mine = accounts.position_account == account
        alone = replace(book, quantity=np.where(mine, book.quantity, 0.0))
        filled = model.requirement(alone)
        if (book.is_order & mine).any():
            unfilled = model.requirement(
                replace(alone, quantity=np.where(book.is_order, 0.0, alone.quantity))
            )
            filled = (
                replace(unfilled, position_initial=filled.position_initial)
                if (unfilled.initial > filled.initial)
                else filled
            )
        isolated[mine] = filled.position_initial[mine]
        results.append(filled)
    underlyings = tuple(dict.fromkeys(u for r in results for u in r.by_underlying))
    by_underlying = np.array(
        [[r.by_underlying.get(u, 0.0) for u in underlyings] for r in results]
    ).reshape(len(results), len(underlyings))
    present = np.array([[u in r.by_underlying for u in underlyings] for r in results]).reshape(
        by_underlying.shape
    )
    names = tuple(dict.fromkeys(k for r in results for k in r.components))
    worst = None
    if any(r.worst_scenario is not None for r in results):
        labels = tuple(dict.fromkeys(r.worst_scenario["name"] for r in results if r.worst_scenario))
        weight = {
            r.worst_scenario["name"]: r.worst_scenario["weight"]
            for r in results
            if r.worst_scenario
        }
        worst = WorstScenarios(
            labels,
            np.array([weight[n] for n in labels]),
            np.array(
                [
                    labels.index(r.worst_scenario["name"]) if r.worst_scenario else NO_SCENARIO
                    for r in results
                ],
                dtype=np.int64,
            ),
            np.array([r.worst_scenario["pnl"] if r.worst_scenario else 0.0 for r in results]),
        )
    requirements = AccountRequirements(
        initial=np.array([r.initial for r in results], dtype=np.float64),
        maintenance=np.array([r.maintenance for r in results], dtype=np.float64),
        underlyings=underlyings,
        by_underlying=by_underlying,
        components={
            k: np.array([r.components.get(k, 0.0) for r in results], dtype=np.float64)
            for k in names
        },
        worst=worst,
        present=present,
    )
    return requirements, isolated
