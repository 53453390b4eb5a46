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

from ..accounts import Holdings
from ..book import Book, InstrumentTable
from ..errors import ProblemCollector
from ..market import Market
from ..values import check_keys, section
from .base import DEFAULT, AccountModel, AccountRequirements, parameter_block, parameter_blocks
from .batch import Allocation, per_instrument_allocation
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
class StandardModel(AccountModel):
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

    def option_marks(self, table: InstrumentTable) -> np.ndarray:
        """Mark of each instrument, USD per coin: the first position's mark, else model price."""
        marks = table.option_prices()
        if table.mark is not None:
            given = np.isfinite(table.mark)
            marks[given] = table.mark[given]
        return marks

    def margins(
        self, table: InstrumentTable, instrument: np.ndarray, quantity: np.ndarray
    ) -> PositionMargins:
        """The formulas on positions of ``quantity`` contracts of ``instrument`` (arrays)."""
        spot, strike = table.spot, table.strike
        otm = np.where(
            table.is_call, np.maximum(strike - spot, 0.0), np.maximum(spot - strike, 0.0)
        )
        mark = self.option_marks(table)
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

    def scenario_pnl(self, table: InstrumentTable, market: Market) -> None:
        return None  # formulas per position, no scenarios

    def requirements(self, holdings: Holdings, scenarios: None) -> AccountRequirements:
        """The formulas on each account's net contracts of each instrument (the nonzero cells of
        the holdings matrix), summed per account and underlying."""
        table = holdings.instruments

        def amounts(instrument: np.ndarray, quantity: np.ndarray) -> dict[str, np.ndarray]:
            net = self.margins(table, instrument, quantity)
            option = table.is_option[instrument]
            return {
                "initial": net.initial,
                "maintenance": net.maintenance,
                "short_option_initial": np.where(option & (quantity < 0), net.initial, 0.0),
                "long_option_premium": np.where(option & (quantity > 0), net.initial, 0.0),
                "futures_initial": np.where(option, 0.0, net.initial),
            }

        sums = holdings.cell_sums(amounts, table.underlying_index, len(table.underlyings))
        per_account = {name: values.sum(axis=1) for name, values in sums.items()}
        return AccountRequirements(
            initial=per_account.pop("initial"),
            maintenance=per_account.pop("maintenance"),
            underlyings=table.underlyings,
            by_underlying=sums["initial"],
            components=per_account,
            worst=None,
        )

    def isolated_margin(self, book: Book, scenarios: None) -> np.ndarray:
        """The formulas on each position row alone."""
        return self.margins(book.instruments, book.instrument, book.quantity).initial

    def allocation(self, book: Book) -> Allocation:
        """Each instrument's margin on its net quantity, split over its positions pro rata to
        their signed quantities (a position against the instrument's net gets a negative share):
        the formulas are per instrument, so the shares add up to the margin even where the
        futures rate grows with size."""
        table = book.instruments
        net = self.margins(table, np.arange(len(table)), book.net_quantity)
        return Allocation(
            per_instrument_allocation(book, net.initial),
            {u: "per-instrument formula" for u in table.underlyings},
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
