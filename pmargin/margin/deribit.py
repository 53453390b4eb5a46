"""Deribit portfolio margin as published (support article "Portfolio Margin", ``pme/simulate``).

Each settlement currency is margined on its own, in that currency: inverse BTC contracts in BTC,
inverse ETH contracts in ETH, every linear contract in USDC. Within a currency:

1. **Risk vectors.** The engine (:func:`pmargin.engine.instrument_pnl`) reprices each instrument
   under its underlying's grid: 2·buckets_count + 1 price moves from −price_range to
   +price_range × vol {up, same, down} (relative, scaled by (30/DTE)^p, vol up ≥
   ``min_volatility_for_shock_up``), index 3·bucket + column; then the extended moves
   (−66% … +500%) with vol up. P&L is in the settlement currency: the engine's USD P&L of an
   inverse future over the shocked spot (face·(1/F − 1/F')), of an inverse option over the shocked
   forward (Deribit quotes an option's USD price as coin × its underlying, the forward), linear
   as is. Extended P&L counts a fraction: ``extended_table_factor`` · price_range/|move|, for
   inverse contracts also converted at the edge-of-range price, × (1 + move)/(1 ± price_range).
2. **Aggregation** per pair (``btc_btc``, ``eth_usdc``, ...): the extended entries shrink towards 0
   by the dampener, (max(|move|/price_range, 1) − 1) · ``extended_dampener`` USD; gains count at
   ``pnl_offset`` (at most ``max_offsetable_pnl`` USD), losses in full. The pairs of a currency
   (USDC: every linear underlying) add scenario by scenario.
3. **Worst case** = the largest loss over the grid and the extended table (≥ 0), rounded to
   ``worst_case_decimals`` as Deribit does.
4. **Roll shock** = Σ over expiries of |net delta| · max(``min_annualised_move``,
   ``annualised_move_risk`` · T) (perpetuals: T = 0). **Delta shock** = D · min(
   ``max_delta_shock``, ``m_inc`` · (D − threshold/S)) for a pair's net delta D (coins) above
   ``delta_total_liq_shock_threshold`` (USD).
5. **Risk-matrix margin** = worst case + roll shock + delta shock; **maintenance** =
   ``mm_factor`` × risk-matrix margin; **initial** = risk-matrix margin + open-orders margin,
   the larger rise of the risk-matrix margin when every buy order, or every sell order, fills.

A long coin balance (coin collateral, spot bought) is the equity of its coin's currency: it has no
risk in that coin. A net short coin balance is margined as a linear short of the coin in USDC.
Every figure is reported in USD, each currency converted at its index (spot).

The dampener, the delta-shock threshold, the offset cap and the rounding are fixed amounts, so
the margin is not exactly proportional to size, and isolated margin (the model on each position
alone) can be below the portfolio's when a dampener or the delta shock binds; both hold exactly
for books inside those thresholds (``CurrencyMargin.size_independent``).

A model *of* Deribit's method (see the README for what it reproduces and leaves out), not an
official replication.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..accounts import CHUNK_CELLS, Holdings
from ..book import Book, InstrumentTable
from ..market import Market
from ..scenarios import format_move, move_shocks
from .base import AccountModel, AccountRequirements, keep_pnl
from .batch import Allocation
from .deribit_accounts import account_margins
from .deribit_batch import allocate
from .deribit_parameters import VOL_COLUMNS, DeribitParameters, parse_parameters
from .deribit_risk import (
    HolderMargins,
    RiskArrays,
    holder_margins,
    risk_arrays,
    scenario_moves,
)
from .liquidation_parameters import LiquidationParameters, parse_liquidation

#: row labels of the holders of one book: positions, then with every buy / every sell order filled
POSITIONS, WITH_BUYS, WITH_SELLS = 0, 1, 2
NO_BUCKET = {"index": None, "bucket": None, "side": None, "source": None}


@dataclass(frozen=True)
class CurrencyMargin:
    """One settlement currency's margin, as ``private/pme/simulate`` reports it.

    Amounts are in the settlement currency (BTC, ETH, USDC); ``index_price`` converts them to USD.
    ``pre_aggregated`` and ``aggregated`` map ``<coin>_<currency>`` (``btc_btc``) to its vector
    (grid, then extended). ``risk_matrix`` and ``extended`` are the largest counted losses of the
    grid and of the extended table; ``worst_case`` the larger (unrounded). ``size_independent``:
    no size threshold (dampener, delta shock, offset cap) decides this margin.
    """

    currency: str
    index_price: float
    pre_aggregated: dict[str, np.ndarray]
    aggregated: dict[str, np.ndarray]
    risk_matrix: float
    extended: float
    worst_case: float
    worst_case_bucket: dict[str, Any]
    worst_scenario: str
    roll_shock: float
    delta_shock: float
    risk_matrix_margin: float
    open_orders_margin: float
    mm_factor: float
    size_independent: bool

    @classmethod
    def without_positions(cls, currency: str, index_price: float, mm_factor: float):
        """A currency that only open orders use: nothing but their margin (set by the caller)."""
        return cls(
            currency, index_price, {}, {}, 0.0, 0.0, 0.0, NO_BUCKET, "", 0.0, 0.0, 0.0, 0.0,
            mm_factor, True,
        )  # fmt: skip

    @property
    def initial_margin(self) -> float:
        return self.risk_matrix_margin + self.open_orders_margin

    @property
    def maintenance_margin(self) -> float:
        return self.mm_factor * self.risk_matrix_margin


@dataclass(frozen=True)
class DeribitModel(AccountModel):
    name: str
    description: str
    source: str
    parameters: dict[str, Any]
    settings: DeribitParameters
    liquidation: LiquidationParameters = field(default_factory=LiquidationParameters)
    method: str = "deribit"

    def scenario_moves(self, underlyings: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Relative spot and vol shocks (U, K) of each underlying: its grid, then extended."""
        return scenario_moves(underlyings, self.settings)

    def risk_arrays(self, table: InstrumentTable) -> RiskArrays:
        """The risk vectors of ``table``'s instruments (kept in ``table.memo``)."""
        cached = table.memo.get(self.method)
        if cached is not None and cached[0] is self:
            return cached[1]
        arrays = risk_arrays(table, self.settings)
        table.memo[self.method] = (self, arrays)
        counted = move_shocks(table.underlyings, *self.scenario_moves(table.underlyings))
        keep_pnl(self, table, counted, arrays.counted_usd)  # liquidation's worst-loss guard
        return arrays

    # ---- the book ------------------------------------------------------------------------

    def _configurations(self, book: Book) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Holder, instrument and quantity of the book's positions (holder 0), and with every
        buy order (1) and every sell order (2) filled, when it has orders."""
        order, q = book.is_order, book.quantity
        masks = [~order]
        if order.any():
            masks += [~order | (order & (q > 0)), ~order | (order & (q < 0))]
        rows = [np.flatnonzero(m & (q != 0)) for m in masks]
        holder = np.concatenate([np.full(len(r), h) for h, r in enumerate(rows)]).astype(np.int64)
        index = np.concatenate(rows).astype(np.int64)
        return holder, book.instrument[index], q[index]

    def simulate(self, book: Book) -> dict[str, CurrencyMargin]:
        """Each settlement currency's margin (``private/pme/simulate``), in that currency."""
        arrays = self.risk_arrays(book.instruments)
        margins = holder_margins(arrays, self.settings, *self._configurations(book))
        rmm = margins.risk_matrix_margin
        result = {}
        for code in np.unique(margins.currency):
            row = {int(margins.holder[i]): i for i in np.flatnonzero(margins.currency == code)}
            base = rmm[row[POSITIONS]] if POSITIONS in row else 0.0
            filled = [rmm[row[h]] - base for h in (WITH_BUYS, WITH_SELLS) if h in row]
            open_orders = float(max([0.0, *filled]))
            currency = arrays.currencies[code]
            if POSITIONS in row:
                result[currency] = self._currency_margin(arrays, margins, row[POSITIONS])
            else:  # a currency that only open orders use
                index_price = float(margins.index_price[next(iter(row.values()))])
                result[currency] = CurrencyMargin.without_positions(
                    currency, index_price, self.settings.mm_factor
                )
            result[currency] = replace(result[currency], open_orders_margin=open_orders)
        return result

    def _currency_margin(self, arrays, margins: HolderMargins, i: int) -> CurrencyMargin:
        """The ``CurrencyMargin`` of row ``i`` of ``margins`` (open orders left at 0)."""
        count = len(arrays.groups)
        currency = arrays.currencies[int(margins.currency[i])]
        mine = np.flatnonzero(margins.pair_keys // count == margins.holder[i])
        pairs = {
            int(margins.pair_keys[k] % count): k
            for k in mine
            if arrays.groups[margins.pair_keys[k] % count][0] == currency
        }
        label = {g: f"{arrays.groups[g][1].lower()}_{currency.lower()}" for g in pairs}
        bucket, name = self._worst_bucket(margins.aggregated[:, i], list(pairs), arrays)
        if name:
            name = self.settled_name(
                arrays, currency, list(pairs), bucket["source"], bucket["index"]
            )
        return CurrencyMargin(
            currency=currency,
            index_price=float(margins.index_price[i]),
            pre_aggregated={label[g]: margins.pair_pre[:, k] for g, k in pairs.items()},
            aggregated={label[g]: margins.pair_aggregated[:, k] for g, k in pairs.items()},
            risk_matrix=float(margins.risk_matrix[i]),
            extended=float(margins.extended[i]),
            worst_case=float(max(margins.risk_matrix[i], margins.extended[i])),
            worst_case_bucket=bucket,
            worst_scenario=name,
            roll_shock=float(margins.roll_shock[i]),
            delta_shock=float(margins.delta_shock[i]),
            risk_matrix_margin=float(margins.risk_matrix_margin[i]),
            open_orders_margin=0.0,
            mm_factor=self.settings.mm_factor,
            size_independent=bool(margins.size_independent[i]),
        )

    def _worst_bucket(self, total: np.ndarray, groups: list[int], arrays) -> tuple[dict, str]:
        """Where the worst case lies (``worst_case_bucket`` of pme/simulate) and its name.

        Ties between the vol columns of one bucket go to the middle one, as Deribit reports."""
        low = float(total.min()) if len(total) else 0.0
        if low >= 0.0:
            return NO_BUCKET, ""
        columns = len(VOL_COLUMNS)
        grid = total[: self.settings.grid_count]
        hits = np.flatnonzero(grid == low)
        if len(hits):
            middle = hits[hits % columns == columns // 2]
            index = int(middle[0] if len(middle) else hits[0])
            move = arrays.group_moves[groups[0]][index]
            side = "left" if move < 0 else "right" if move > 0 else "middle"
            bucket = {"index": index, "bucket": index // columns + 1, "side": side}
            return {**bucket, "source": "standard"}, self.scenario_name(
                arrays, groups, "standard", index
            )
        index = int(np.flatnonzero(total[self.settings.grid_count :] == low)[0])
        move = self.settings.extended_moves[index]
        side = "left" if move < 0 else "right"
        bucket = {"index": index, "bucket": None, "side": side, "source": "extended"}
        return bucket, self.scenario_name(arrays, groups, "extended", index)

    def scenario_name(self, arrays: RiskArrays, groups: list[int], source: str, index: int) -> str:
        """``"BTC -16%, vol same"``: scenario ``index`` of the grid (``source`` standard) or of
        the extended table, for the pairs ``groups`` (their coins' moves, coins in alphabetical
        order, so that the name does not depend on the order of the instruments)."""
        groups = sorted(groups, key=lambda g: arrays.groups[g][1])
        coins = [arrays.groups[g][1] for g in groups]
        if source == "standard":
            where = ", ".join(
                f"{u} {format_move(arrays.group_moves[g][index])}" for u, g in zip(coins, groups)
            )
            return f"{where}, vol {VOL_COLUMNS[index % len(VOL_COLUMNS)]}"
        move = self.settings.extended_moves[index]
        return f"extended {', '.join(f'{u} {format_move(move)}' for u in coins)}, vol up"

    def settled_name(self, arrays: RiskArrays, currency: str, groups, source, index) -> str:
        """:meth:`scenario_name`, prefixed ``"USDC-settled: "`` unless the currency is the coin
        of its only pair (BTC in BTC)."""
        name = self.scenario_name(arrays, groups, source, index)
        own_coin = [arrays.groups[g][1] for g in groups] == [currency]
        return name if own_coin else f"{currency}-settled: {name}"

    def initial_risk_vectors(self, book: Book) -> dict[str, np.ndarray]:
        """Each instrument's risk vector for the book's net position in it (orders left out)."""
        arrays = self.risk_arrays(book.instruments)
        held = np.bincount(
            book.instrument, np.where(book.is_order, 0.0, book.quantity), len(book.instruments)
        )
        symbols = book.instruments.symbols
        return {str(symbols[i]): held[i] * arrays.vectors[:, i] for i in np.flatnonzero(held)}

    # ---- every account ---------------------------------------------------------------------

    def scenario_pnl(self, table: InstrumentTable, market: Market) -> RiskArrays:
        """The risk vectors of ``table``'s instruments: what :meth:`requirements` aggregates."""
        return self.risk_arrays(table)

    def requirements(self, holdings: Holdings, scenarios: RiskArrays) -> AccountRequirements:
        """Every account's margin, per settlement currency (``by_underlying``: BTC, ETH, USDC)."""
        return account_margins(
            scenarios,
            self.settings,
            holdings,
            lambda currency, groups, source, index: self.settled_name(
                scenarios, currency, groups, source, index
            ),
        )

    def isolated_margin(self, book: Book, scenarios: RiskArrays) -> np.ndarray:
        """Each position row's risk-matrix margin alone (USD), a block of rows at a time, on the
        grid cut to each instrument's extremes (:meth:`RiskArrays.grid_extremes`: the same
        margin as the whole grid gives a single instrument)."""
        count = len(book.quantity)
        isolated = np.zeros(count)
        extremes = scenarios.grid_extremes(self.settings.grid_count)
        # a quarter of a chunk: holder_margins keeps about four arrays of this size at once
        size = max(CHUNK_CELLS // (4 * max(len(extremes.vectors), 1)), 1)
        for start in range(0, count, size):
            rows = slice(start, min(start + size, count))
            quantity = book.quantity[rows]
            alone = holder_margins(
                extremes,
                self.settings,
                np.arange(len(quantity)),
                book.instrument[rows],
                quantity,
                grid=2,
            )
            isolated[rows] = np.bincount(
                alone.holder, alone.risk_matrix_margin * alone.index_price, len(quantity)
            )
        return isolated

    def allocation(self, book: Book) -> Allocation:
        """Each position's share of the initial margin by the rules of
        :mod:`~pmargin.margin.deribit_batch` (worst case by the rows' P&L in the currency's worst
        scenario, roll and delta shock by delta); the shares add up to the margin."""
        arrays = self.risk_arrays(book.instruments)

        def name(total: np.ndarray, pairs: list[int]) -> str:
            return self._worst_bucket(total, pairs, arrays)[1]

        return allocate(book, arrays, self.settings, name)


def build(document: dict[str, Any], where: str, problems) -> DeribitModel | None:
    """A DeribitModel from a parsed model YAML (see ``pmargin/models/deribit.yaml``)."""
    settings = parse_parameters(document, where, problems)
    liquidation = parse_liquidation(document, where, problems)
    if settings is None or problems:
        return None
    return DeribitModel(
        name=str(document.get("name", "deribit")),
        description=str(document.get("description", "")),
        source=str(document.get("source", "")),
        parameters=document,
        settings=settings,
        liquidation=liquidation,
    )
