"""Standard (non-portfolio) margin: Deribit's formulas per position, no offsets between instruments.

Per contract, with S the underlying's spot (index) price and ``mark`` the option's mark, USD per
coin (Deribit states them per coin in the coin; × S gives USD):

* **short option**: MM = max(0.075 · S, 0.075 · mark) + mark;
  IM = max(max(0.15 − OTM/S, 0.10) · S + mark, MM); OTM = max(K − S, 0) for a call,
  max(S − K, 0) for a put. (0.075 · mark exceeds 0.075 · S only for a put deep in the money,
  K > 2S; there IM may fall below MM and is raised to it.)
* **long option**: IM = the premium, coins × mark; MM = 0.
* **futures and perpetuals**: on a position of n coins (inverse: face / forward; linear:
  contracts × multiplier), IM = n · (initial rate + n · size increment) · S and
  MM = n · (maintenance rate + n · size increment) · S: the rate grows with the position
  (BTC 2% / 1% + 0.005% per BTC; ETH 2% / 1% + 0.0004% per ETH; SOL 4% / 2% + 0.0005% per SOL).
* **spot and coin collateral**: none when long (fully paid); a short coin position is margined
  like a perpetual.

``mark`` is the position's ``mark_price`` (inverse marks are quoted in coin and converted at spot)
or, without one, the model price. Contracts of one instrument net (an exchange holds one position
per instrument): the portfolio's margin is the formulas on each instrument's net quantity, summed;
isolated margin is the formulas on each position row. Because the futures rate grows with size,
the margin is not proportional to size, and two rows of one instrument on the same side need more
together than apart (isolated < portfolio there).

Rates are parameters (``pmargin/models/standard.yaml``). A model *of* Deribit's published
standard margin, not an official replication.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from ..book import Book, mark_in_usd
from ..engine import underlying_matrix
from ..errors import ProblemCollector
from ..values import check_keys, section
from .base import DEFAULT, Requirement, parameter_block, parameter_blocks
from .liquidation_parameters import LiquidationParameters, parse_liquidation

KEYS = ("name", "method", "description", "source", "short_option", "futures", "liquidation")


@dataclass(frozen=True)
class ShortOptionRates:
    """Fractions of S: IM max(initial_rate − OTM/S, initial_floor); MM maintenance_rate."""

    initial_rate: float
    initial_floor: float
    maintenance_rate: float


@dataclass(frozen=True)
class FuturesRates:
    """IM and MM rates of a futures position, and the rise of both per coin of position."""

    initial_rate: float
    maintenance_rate: float
    size_increment: float


@dataclass(frozen=True)
class PositionMargins:
    """Initial and maintenance margin (USD) of each entry of (instrument, quantity)."""

    initial: np.ndarray
    maintenance: np.ndarray


@dataclass(frozen=True)
class StandardModel:
    name: str
    description: str
    source: str
    parameters: dict[str, Any]
    short_option: ShortOptionRates
    futures: dict[str, FuturesRates]
    liquidation: LiquidationParameters = field(default_factory=LiquidationParameters)
    method: str = "standard"

    def futures_rates(self, underlying: str) -> FuturesRates:
        return self.futures.get(underlying, self.futures[DEFAULT])

    def option_marks(self, book: Book) -> np.ndarray:
        """Mark of each instrument, USD per coin: the first position's mark, else model price."""
        table, codes = book.instruments, book.instrument
        mark = mark_in_usd(table, codes, book.positions["mark_price"].to_numpy(np.float64))
        given = np.isfinite(mark)
        first = pd.Series(mark[given]).groupby(codes[given]).first()
        marks = table.option_prices()
        marks[first.index.to_numpy(np.int64)] = first.to_numpy()
        return marks

    def margins(self, book: Book, instrument: np.ndarray, quantity: np.ndarray) -> PositionMargins:
        """The formulas on positions of ``quantity`` contracts of ``instrument`` (arrays)."""
        table = book.instruments
        spot, strike = table.spot, table.strike
        otm = np.where(
            table.is_call, np.maximum(strike - spot, 0.0), np.maximum(spot - strike, 0.0)
        )
        mark = self.option_marks(book)
        rates = self.short_option
        short_mm = np.maximum(rates.maintenance_rate * spot, rates.maintenance_rate * mark) + mark
        short_im = np.maximum(
            np.maximum(rates.initial_rate - otm / spot, rates.initial_floor) * spot + mark, short_mm
        )
        coins_per_contract = np.where(
            table.is_inverse & ~table.is_option, table.multiplier / table.forward, table.multiplier
        )
        by_underlying = [self.futures_rates(u) for u in table.underlyings]
        futures = {
            f.name: np.array([getattr(r, f.name) for r in by_underlying])[table.underlying_index]
            for f in fields(FuturesRates)
        }

        i, q = instrument, quantity
        coins = np.abs(q) * coins_per_contract[i]
        short = q < 0
        option, spot_kind = table.is_option[i], (table.kind == "spot")[i]
        increment = coins * futures["size_increment"][i]
        futures_im = coins * (futures["initial_rate"][i] + increment) * spot[i]
        futures_mm = coins * (futures["maintenance_rate"][i] + increment) * spot[i]
        paid = spot_kind & ~short  # long spot: fully paid
        option_im = coins * np.where(short, short_im[i], mark[i])
        option_mm = np.where(short, coins * short_mm[i], 0.0)
        return PositionMargins(
            initial=np.where(option, option_im, np.where(paid, 0.0, futures_im)),
            maintenance=np.where(option, option_mm, np.where(paid, 0.0, futures_mm)),
        )

    def requirement(self, book: Book) -> Requirement:
        table = book.instruments
        held = np.arange(len(table))
        net = self.margins(book, held, book.net_quantity)
        rows = self.margins(book, book.instrument, book.quantity)
        option = table.is_option
        long, short = book.net_quantity > 0, book.net_quantity < 0
        per_underlying = underlying_matrix(book) @ net.initial
        return Requirement(
            initial=float(net.initial.sum()),
            maintenance=float(net.maintenance.sum()),
            position_initial=rows.initial,
            components={
                "short_option_initial": float(net.initial[option & short].sum()),
                "long_option_premium": float(net.initial[option & long].sum()),
                "futures_initial": float(net.initial[~option].sum()),
            },
            by_underlying=dict(zip(table.underlyings, per_underlying.tolist())),
            worst_scenario=None,
        )


def build(document: dict[str, Any], where: str, problems: ProblemCollector) -> StandardModel | None:
    """A StandardModel from a parsed model YAML (see ``pmargin/models/standard.yaml``)."""
    check_keys(document, KEYS, where, problems, sep=": ")
    short_option = parameter_block(
        ShortOptionRates,
        section(document, "short_option", where, problems),
        f"{where}: short_option",
        problems,
    )
    futures = parameter_blocks(FuturesRates, document, "futures", where, problems)
    liquidation = parse_liquidation(document, where, problems)
    if problems:
        return None
    return StandardModel(
        str(document.get("name", "standard")),
        str(document.get("description", "")),
        str(document.get("source", "")),
        document,
        short_option,
        futures,
        liquidation=liquidation,
    )
