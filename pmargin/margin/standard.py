"""Standard (non-portfolio) margin: exchange formulas per position, no offsets between instruments.

Per contract, with S the underlying's spot (index) price, all in USD:

* **short option**: IM = coins × (max(0.15 − OTM/S, 0.10) · S + mark),
  MM = coins × (0.075 · S + mark); OTM = max(K − S, 0) for a call, max(S − K, 0) for a put;
* **long option**: IM = the premium, coins × mark; MM = 0;
* **futures and perpetuals**: IM = 2%, MM = 1% of notional (linear: coins × forward;
  inverse: the USD face);
* **spot and coin collateral**: none when long (fully paid); a short spot position is margined
  like a perpetual.

``mark`` is the option's mark in USD per coin: the position's ``mark_price`` (inverse marks are
quoted in coin and converted at spot) or, without one, the model price. Deribit states these
formulas for inverse options in coin (e.g. max(0.15 − OTM/S, 0.1) + mark in BTC); multiplying
by S gives the same margin in USD, which is what pmargin reports.

Contracts of one instrument net (an exchange holds one position per instrument): the portfolio's
standard margin is the formula on each instrument's net quantity, summed; isolated margin is the
formula on each position row. Rates are parameters (``pmargin/models/standard.yaml``).

A model *of* Deribit's published standard margin, not an official replication.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..book import Book, mark_in_usd
from ..engine import underlying_matrix
from ..errors import ProblemCollector
from ..values import number, section, unknown_key_problem
from .base import (
    Allocation,
    BatchMargin,
    QuantityBatch,
    Requirement,
    isolated_from_unit,
    per_instrument_allocation,
)

KEYS = (
    "name",
    "method",
    "description",
    "source",
    "short_option",
    "futures",
)
SHORT_OPTION_KEYS = ("initial_rate", "initial_floor", "maintenance_rate")
FUTURES_KEYS = ("initial_rate", "maintenance_rate")


@dataclass(frozen=True)
class UnitMargins:
    """Initial and maintenance margin of +1 and −1 contract of each instrument (arrays, USD)."""

    long_initial: np.ndarray
    short_initial: np.ndarray
    long_maintenance: np.ndarray
    short_maintenance: np.ndarray


@dataclass(frozen=True)
class StandardModel:
    name: str
    description: str
    source: str
    parameters: dict[str, Any]
    short_initial_rate: float
    short_initial_floor: float
    short_maintenance_rate: float
    futures_initial_rate: float
    futures_maintenance_rate: float
    method: str = "standard"

    def option_marks(self, book: Book) -> np.ndarray:
        """Mark of each instrument, USD per coin: the first position's mark, else model price."""
        table, codes = book.instruments, book.instrument
        mark = mark_in_usd(table, codes, book.positions["mark_price"].to_numpy(np.float64))
        given = np.isfinite(mark)
        first = pd.Series(mark[given]).groupby(codes[given]).first()
        marks = table.option_prices()
        marks[first.index.to_numpy(np.int64)] = first.to_numpy()
        return marks

    def unit_margins(self, book: Book) -> UnitMargins:
        table = book.instruments
        spot, strike = table.spot, table.strike
        option = table.is_option
        otm = np.where(
            table.is_call, np.maximum(strike - spot, 0.0), np.maximum(spot - strike, 0.0)
        )
        mark = self.option_marks(book)
        coins = table.multiplier
        short_option_im = coins * (
            np.maximum(self.short_initial_rate - otm / spot, self.short_initial_floor) * spot + mark
        )
        short_option_mm = coins * (self.short_maintenance_rate * spot + mark)
        premium = coins * mark

        notional = np.where(table.is_inverse, table.multiplier, table.multiplier * table.forward)
        linear_im = self.futures_initial_rate * notional
        linear_mm = self.futures_maintenance_rate * notional
        spot_kind = table.kind == "spot"
        return UnitMargins(
            long_initial=np.where(option, premium, np.where(spot_kind, 0.0, linear_im)),
            short_initial=np.where(option, short_option_im, linear_im),
            long_maintenance=np.where(option | spot_kind, 0.0, linear_mm),
            short_maintenance=np.where(option, short_option_mm, linear_mm),
        )

    def requirement(self, book: Book) -> Requirement:
        table = book.instruments
        unit = self.unit_margins(book)
        q = book.net_quantity
        long, short = np.maximum(q, 0.0), np.maximum(-q, 0.0)
        initial = long * unit.long_initial + short * unit.short_initial
        maintenance = long * unit.long_maintenance + short * unit.short_maintenance
        option = table.is_option
        per_underlying = underlying_matrix(book) @ initial
        return Requirement(
            initial=float(initial.sum()),
            maintenance=float(maintenance.sum()),
            position_initial=isolated_from_unit(book, unit.long_initial, unit.short_initial),
            components={
                "short_option_initial": float((short * unit.short_initial)[option].sum()),
                "long_option_premium": float((long * unit.long_initial)[option].sum()),
                "futures_initial": float(initial[~option].sum()),
            },
            by_underlying=dict(zip(table.underlyings, per_underlying.tolist())),
            worst_scenario=None,
        )

    def batch_margin(self, book: Book, batch: QuantityBatch) -> BatchMargin:
        """Margin of each candidate book of ``batch``: the formula on each instrument's net
        quantity is a sum over long and short contracts, so one product each gives all."""
        unit = self.unit_margins(book)
        return BatchMargin(
            batch.dot_long(unit.long_initial) + batch.dot_short(unit.short_initial),
            batch.dot_long(unit.long_maintenance) + batch.dot_short(unit.short_maintenance),
        )

    def allocation(self, book: Book) -> Allocation:
        """Each instrument's formula margin, split over its positions pro rata to their signed
        quantities (a position against the instrument's net gets a negative share)."""
        unit = self.unit_margins(book)
        return Allocation(
            per_instrument_allocation(book, unit.long_initial, unit.short_initial),
            {u: "per-position formula" for u in book.instruments.underlyings},
        )


def build(document: dict[str, Any], where: str, problems: ProblemCollector) -> StandardModel | None:
    """A StandardModel from a parsed model YAML (see ``pmargin/models/standard.yaml``)."""
    for key in document:
        if key not in KEYS:
            problems.append(unknown_key_problem(f"{where}: {key}", key, KEYS))
    short_option = section(document, "short_option", where, problems)
    futures = section(document, "futures", where, problems)
    for name, block, valid in (
        ("short_option", short_option, SHORT_OPTION_KEYS),
        ("futures", futures, FUTURES_KEYS),
    ):
        for key in block:
            if key not in valid:
                problems.append(unknown_key_problem(f"{where}: {name}.{key}", key, valid))

    def rate(block: dict, name: str, key: str, default: float) -> float | None:
        return number(block.get(key, default), f"{where}: {name}.{key}", problems, minimum=0)

    values = (
        rate(short_option, "short_option", "initial_rate", 0.15),
        rate(short_option, "short_option", "initial_floor", 0.10),
        rate(short_option, "short_option", "maintenance_rate", 0.075),
        rate(futures, "futures", "initial_rate", 0.02),
        rate(futures, "futures", "maintenance_rate", 0.01),
    )
    if problems:
        return None
    return StandardModel(
        str(document.get("name", "standard")),
        str(document.get("description", "")),
        str(document.get("source", "")),
        document,
        *(float(v) for v in values),
    )
