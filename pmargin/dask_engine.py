"""The Dask engine (``--engine dask``): the per-account margin work on a Dask cluster.

The model's scenario P&L (instruments × scenarios) is priced once, here, and scattered to every
worker with the instrument table and the market (``broadcast``); the accounts are cut into
contiguous partitions of the sparse holdings matrix, a few per worker, and each partition is
margined on a worker exactly as the local engine margins it (:class:`LocalEngine`, in chunks that
bound memory). The results are gathered in account order, so they equal the local engine's.

Without a scheduler address a :class:`distributed.LocalCluster` of ``workers`` processes (one
thread each) is started and closed with the engine. Needs ``pip install 'pmargin[dask]'``; the
local engine never imports dask.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass

import numpy as np

from .account_engine import LocalEngine
from .accounts import Holdings
from .book import InstrumentTable
from .errors import InputError, Problem
from .margin.base import AccountRequirements, MarginModel, ScenarioPnl
from .market import Market

#: partitions of the accounts per worker (a little slack so a slow worker does not hold up all)
PARTITIONS_PER_WORKER = 4


@dataclass(frozen=True, eq=False)
class SharedInputs:
    """What every partition needs besides its own accounts, sent to each worker once."""

    instruments: InstrumentTable
    market: Market
    scenarios: ScenarioPnl | None


def _partition(model: MarginModel, shared: SharedInputs, orders) -> AccountRequirements:
    """Margin of one partition of accounts (runs on a worker): ``orders`` are its net contracts
    and, when it has open orders, its buy and sell orders (:class:`Holdings`)."""
    holdings = Holdings(orders[0], shared.instruments, shared.market, *orders[1:])
    return LocalEngine().requirements(model, holdings, shared.scenarios)


class DaskEngine:
    """Per-account margin on the Dask cluster at ``scheduler`` (or a local one of ``workers``)."""

    name = "dask"

    def __init__(self, scheduler: str | None = None, *, workers: int = 2):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise InputError(
                Problem(
                    "--engine dask",
                    "Dask is not installed",
                    "Install it with `pip install 'pmargin[dask]'`, or use the local engine.",
                )
            ) from None
        self.cluster = None
        try:
            if scheduler:
                self.client = Client(scheduler, timeout="20s")
            else:
                self.cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",  # any free port: never clash with a running one
                    silence_logs=logging.ERROR,
                )
                self.client = Client(self.cluster)
        except OSError as exc:  # no scheduler at that address, or it refused
            raise InputError(
                Problem(
                    f"--scheduler {scheduler}",
                    f"cannot reach the Dask scheduler: {exc}",
                    "Check the address (tcp://host:8786) and that `dask scheduler` runs there.",
                )
            ) from None

    def __enter__(self) -> DaskEngine:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    @property
    def worker_count(self) -> int:
        return max(len(self.client.scheduler_info().get("workers", {})), 1)

    def requirements(
        self, model: MarginModel, holdings: Holdings, scenarios: ScenarioPnl | None
    ) -> AccountRequirements:
        count = len(holdings)
        if count == 0:
            return LocalEngine().requirements(model, holdings, scenarios)
        inputs = SharedInputs(
            holdings.instruments.rows(slice(None)),  # a fresh table: no memo to ship
            holdings.market,
            scenarios,
        )
        shared = self.client.scatter(inputs, broadcast=True, hash=False)
        bounds = np.linspace(0, count, min(count, self.worker_count * PARTITIONS_PER_WORKER) + 1)
        bounds = np.unique(bounds.astype(np.int64))
        futures = []
        for start, stop in itertools.pairwise(bounds):
            part = holdings.rows(slice(start, stop))
            matrices = (part.quantity, part.buy_orders, part.sell_orders)
            futures.append(self.client.submit(_partition, model, shared, matrices, pure=False))
        return AccountRequirements.concat(self.client.gather(futures))
