"""The ``deribit`` model for many accounts at once: :func:`account_margins`.

Every account is three holders of :func:`~pmargin.margin.deribit_risk.holder_margins` — its
positions, and (when it has open orders) its positions with every buy order filled and with every
sell order filled — so one call aggregates the risk vectors of all accounts with sparse products.
Per (account, settlement currency) the risk-matrix margin of the positions, the open-orders margin
(the larger rise when the buys or the sells fill), and the parts of the margin follow as arrays;
nothing loops over accounts. An account's worst scenario is the worst case of its currency with
the largest worst case (USD), named as ``pme/simulate`` locates it: the distinct (currency, pairs,
scenario) combinations are named once each.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..accounts import Holdings
from .deribit_parameters import VOL_COLUMNS, DeribitParameters
from .deribit_risk import HolderMargins, RiskArrays, holder_margins
from .requirements import NO_SCENARIO, AccountRequirements, WorstScenarios

#: holders per account: its positions, with every buy order filled, with every sell order filled
POSITIONS, WITH_BUYS, WITH_SELLS = 0, 1, 2
CONFIGURATIONS = 3
#: the parts of a currency's margin summed (in USD) into an account's components
PARTS = ("risk_matrix", "extended", "worst_case", "roll_shock", "delta_shock")

#: ``namer(currency, groups, source, index)``: the name of a worst case (see :func:`_worst`)
Namer = Callable[[str, list[int], str, int], str]


def configurations(holdings: Holdings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Holder (account · 3 + configuration), instrument and contracts of every nonzero holding:
    each account's positions, and for accounts with open orders, with its buys / sells filled."""
    held = holdings.held.tocoo()
    parts = [(held.row * CONFIGURATIONS + POSITIONS, held.col, held.data)]
    if holdings.has_orders:
        ordering = np.union1d(holdings.buy_orders.tocoo().row, holdings.sell_orders.tocoo().row)
        positions = holdings.held[ordering]
        for config, orders in (
            (WITH_BUYS, holdings.buy_orders),
            (WITH_SELLS, holdings.sell_orders),
        ):
            filled = (positions + orders[ordering]).tocoo()
            parts.append((ordering[filled.row] * CONFIGURATIONS + config, filled.col, filled.data))
    holder, instrument, quantity = (np.concatenate(p) for p in zip(*parts))
    keep = quantity != 0
    return (
        holder[keep].astype(np.int64),
        instrument[keep].astype(np.int64),
        quantity[keep].astype(np.float64),
    )


def account_margins(
    arrays: RiskArrays, settings: DeribitParameters, holdings: Holdings, namer: Namer
) -> AccountRequirements:
    """Every account's deribit margin (USD), per settlement currency in ``by_underlying``."""
    count, currencies = len(holdings), arrays.currencies
    margins = holder_margins(arrays, settings, *configurations(holdings))
    account = margins.holder // CONFIGURATIONS
    config = margins.holder % CONFIGURATIONS
    currency = margins.currency
    index_price = np.zeros(len(currencies))
    index_price[currency] = margins.index_price

    def per_currency(values: np.ndarray, which: int = POSITIONS) -> np.ndarray:
        """(A, C): ``values`` of the cells of configuration ``which`` (0 where there is none)."""
        out = np.zeros((count, len(currencies)))
        mine = config == which
        out[account[mine], currency[mine]] = values[mine]
        return out

    rmm = margins.risk_matrix_margin
    base = per_currency(rmm)
    open_orders = np.maximum(
        np.maximum(per_currency(rmm, WITH_BUYS), per_currency(rmm, WITH_SELLS)) - base, 0.0
    )
    present = np.zeros((count, len(currencies)), bool)
    present[account, currency] = True
    parts = {
        "risk_matrix": per_currency(margins.risk_matrix),
        "extended": per_currency(margins.extended),
        "worst_case": per_currency(np.maximum(margins.risk_matrix, margins.extended)),
        "roll_shock": per_currency(margins.roll_shock),
        "delta_shock": per_currency(margins.delta_shock),
        "risk_matrix_margin": base,
        "open_orders": open_orders,
    }
    components = {name: part @ index_price for name, part in parts.items()}
    by_currency = (base + open_orders) * index_price
    return AccountRequirements(
        initial=by_currency.sum(axis=1),
        maintenance=settings.mm_factor * (base @ index_price),
        underlyings=currencies,
        by_underlying=by_currency,
        components=components,
        worst=_worst(arrays, settings, margins, parts["worst_case"] * index_price, namer),
        present=present,
    )


def _worst(
    arrays: RiskArrays,
    settings: DeribitParameters,
    margins: HolderMargins,
    worst_usd: np.ndarray,
    namer: Namer,
) -> WorstScenarios:
    """Each account's worst scenario: its currency with the largest worst case (USD), located
    in that currency's aggregated vector as ``pme/simulate`` reports it; none when 0."""
    count, currencies = worst_usd.shape
    choice = np.argmax(worst_usd, axis=1) if currencies else np.zeros(count, np.int64)
    loss = worst_usd[np.arange(count), choice] if currencies else np.zeros(count)
    accounts = np.flatnonzero(loss > 0)
    index = np.full(count, NO_SCENARIO, dtype=np.int64)
    if not len(accounts):
        return WorstScenarios((), np.zeros(0), index, -loss)
    cells = margins.holder * currencies + margins.currency  # sorted: np.unique made them
    cell = np.searchsorted(cells, accounts * CONFIGURATIONS * currencies + choice[accounts])
    total = margins.aggregated[:, cell]
    low = total.min(axis=0)
    grid = total[: settings.grid_count]
    hits = grid == low
    middle = hits & (np.arange(len(grid)) % len(VOL_COLUMNS) == len(VOL_COLUMNS) // 2)[:, None]
    at = np.where(middle.any(axis=0), middle.argmax(axis=0), hits.argmax(axis=0))
    extended = ~hits.any(axis=0)
    at[extended] = (total[settings.grid_count :] == low).argmax(axis=0)[extended]
    bits = _group_sets(arrays, margins, cells)[cell]
    if bits.shape[1] == 1:  # up to 63 pairs: one word a set, a 1-D sort
        sets, set_of = np.unique(bits[:, 0], return_inverse=True)
        sets = sets[:, None]
    else:
        sets, set_of = np.unique(bits, axis=0, return_inverse=True)
    shape = (len(sets), currencies, 2, len(total))  # pair set, currency, extended, scenario
    key = np.ravel_multi_index((set_of.reshape(-1), choice[accounts], extended, at), shape)
    distinct, which = np.unique(key, return_inverse=True)  # one int a key: a 1-D sort
    group, currency, is_extended, scenario = np.unravel_index(distinct, shape)
    names = [  # one per distinct (currency, pairs, scenario), not per account
        namer(arrays.currencies[c], _members(sets[g]), "extended" if x else "standard", int(k))
        for g, c, x, k in zip(
            group.tolist(), currency.tolist(), is_extended.tolist(), scenario.tolist()
        )
    ]
    index[accounts] = which.reshape(-1)
    return WorstScenarios(tuple(names), np.ones(len(names)), index, -loss)


def _group_sets(arrays: RiskArrays, margins: HolderMargins, cells: np.ndarray) -> np.ndarray:
    """(cells, W) bit sets of the pairs (groups) that each (holder, currency) cell aggregates."""
    group_count = len(arrays.groups)
    words = max((group_count + 62) // 63, 1)
    holder = margins.pair_keys // group_count
    group = margins.pair_keys % group_count
    cell = np.searchsorted(cells, holder * len(arrays.currencies) + arrays.group_currency[group])
    bits = np.zeros((len(cells), words), dtype=np.int64)
    np.bitwise_or.at(bits, (cell, group // 63), np.left_shift(np.int64(1), group % 63))
    return bits


def _members(bits: np.ndarray) -> list[int]:
    """The group numbers in a bit set of :func:`_group_sets`, ascending."""
    return [
        word * 63 + bit
        for word, value in enumerate(bits.tolist())
        for bit in range(63)
        if value >> bit & 1
    ]
