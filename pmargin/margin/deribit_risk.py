"""The arithmetic of the ``deribit`` model: risk vectors per instrument, margins per holder.

:func:`risk_arrays` turns the engine's USD P&L into each instrument's risk vector in its
settlement currency (see :mod:`pmargin.margin.deribit` for the rules); :func:`holder_margins`
aggregates the vectors of many holders at once — a book's configurations (positions, with buys,
with sells) or each position alone for isolated margin — with sparse matrix products, no loop
over positions or scenarios.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import sparse

from ..book import InstrumentTable
from ..engine import instrument_pnl
from ..greeks import unit_greeks
from ..scenarios import move_shocks
from .deribit_parameters import LINEAR_CURRENCY, VOL_COLUMNS, DeribitParameters


@dataclass(frozen=True)
class RiskArrays:
    """Risk vectors of one contract of each distinct instrument, and how they aggregate.

    Per instrument (length I): ``vectors`` (K, I), P&L in the settlement currency, the grid's
    scenarios then the extended moves (already × their fraction); ``counted_usd`` (I, K), the
    same scenarios' USD P&L with each extended move × its fraction (a USD view of the scenarios,
    without the per-currency netting, dampener and offsets); ``group``, its (settlement
    currency, underlying) pair in ``groups``; ``delta``, net delta per contract in coins (futures:
    coin size; options: forward delta, less the coin premium when inverse); ``roll_time``, years to
    expiry (0 for perpetuals, NaN for spot: no roll shock); ``spot_coins``, coins per contract of a
    coin holding (0 for derivatives).

    Per group (length G): the settlement currency (index into ``currencies``), whether it is
    linear (USDC), the pair's spot (USD per coin), the index converting the currency to USD, the
    price move of each scenario, and the parameters of the pair and of its currency.
    """

    vectors: np.ndarray
    counted_usd: np.ndarray
    group: np.ndarray
    delta: np.ndarray
    roll_time: np.ndarray
    spot_coins: np.ndarray
    groups: tuple[tuple[str, str], ...]
    currencies: tuple[str, ...]
    group_currency: np.ndarray
    group_linear: np.ndarray
    group_pair_spot: np.ndarray
    group_index_price: np.ndarray
    group_moves: np.ndarray
    group_parameters: dict[str, np.ndarray]
    #: the table's distinct expiries (years, ascending) and each instrument's (−1: spot)
    roll_times: np.ndarray
    roll_expiry: np.ndarray

    def account_cells(self, underlyings: int) -> int:
        """Dense cells one account needs: a vector per pair held and per configuration."""
        return 3 * len(self.vectors) * max(len(self.groups), 1)

    def grid_extremes(self, grid: int) -> RiskArrays:
        """These arrays with each instrument's ``grid`` scenarios cut to two: its lowest and its
        highest P&L (the extended moves kept), for holders of a single instrument.

        A holder of one instrument has the vector ``q · v``; what a scenario counts of it,
        ``min(x, 0) + min(offset · max(x, 0), cap)``, never falls as ``x`` rises (offset and cap
        are ≥ 0), so its worst grid scenario is ``q · min(v)`` or ``q · max(v)``, whichever is
        lower: the risk-matrix margin of :func:`holder_margins` is the same on the two rows as on
        the whole grid, at a fraction of the work (isolated margin, one position a holder).
        """
        head = self.vectors[:grid]
        vectors = np.concatenate(
            [head.min(axis=0, keepdims=True), head.max(axis=0, keepdims=True), self.vectors[grid:]]
        )
        return replace(self, vectors=vectors)


def scenario_moves(
    underlyings: tuple[str, ...], settings: DeribitParameters
) -> tuple[np.ndarray, np.ndarray]:
    """Relative spot and vol shocks (U, K) of each underlying: its grid, then extended."""
    spot, vol = [], []
    buckets = 2 * settings.buckets_count + 1
    for underlying in underlyings:
        pair = settings.pair(underlying)
        grid_spot = np.repeat(pair.price_moves(settings.buckets_count), len(VOL_COLUMNS))
        grid_vol = np.tile(pair.vol_moves(), buckets)
        extended_vol = np.full(len(settings.extended_moves), pair.volatility_range_up)
        spot.append(np.concatenate([grid_spot, settings.extended_moves]))
        vol.append(np.concatenate([grid_vol, extended_vol]))
    shape = (len(underlyings), settings.grid_count + len(settings.extended_moves))
    return np.array(spot).reshape(shape), np.array(vol).reshape(shape)


def _usd_pnl(table: InstrumentTable, spot, vol, settings: DeribitParameters) -> np.ndarray:
    """Engine USD P&L (I, K) per contract; one engine pass per distinct vol-term scaling."""
    count = spot.shape[1]
    pnl = np.zeros((len(table), count))
    terms = [settings.pair(u).vol_term() for u in table.underlyings]
    distinct = list(dict.fromkeys(terms))
    term_of = np.array([distinct.index(t) for t in terms], dtype=np.int64)
    for code, term in enumerate(distinct):
        rows = np.flatnonzero(term_of[table.underlying_index] == code)
        if not len(rows):
            continue
        shocks = move_shocks(table.underlyings, spot, vol, term)
        pnl[rows] = instrument_pnl(table.rows(rows), shocks)
    return pnl


def risk_arrays(table: InstrumentTable, settings: DeribitParameters) -> RiskArrays:
    """The risk vectors of ``table``'s instruments under ``settings``."""
    grid = settings.grid_count
    spot_moves, vol_moves = scenario_moves(table.underlyings, settings)
    usd = _usd_pnl(table, spot_moves, vol_moves, settings)
    move = spot_moves[table.underlying_index]  # (I, K)
    is_spot = table.kind == "spot"
    inverse = table.is_inverse & ~is_spot
    # coin P&L: a future's over the shocked spot (the engine's conversion undone), an option's
    # over the shocked forward (Deribit: USD price = coin price × the option's underlying)
    price = np.where(table.is_option, table.forward, table.spot)[:, None] * (1.0 + move)
    vectors = np.where(inverse[:, None], usd / price, usd)
    pairs = [settings.pair(u) for u in table.underlyings]
    price_range = np.array([p.price_range for p in pairs])[table.underlying_index, None]
    factor = np.array([p.extended_table_factor for p in pairs])[table.underlying_index, None]
    extended = move[:, grid:]
    fraction = factor * price_range / np.abs(extended)
    edge = (1.0 + extended) / (1.0 + np.sign(extended) * price_range)
    vectors[:, grid:] *= np.where(inverse[:, None], fraction * edge, fraction)
    counted_usd = usd.copy()  # USD P&L with each extended move counted at its fraction
    counted_usd[:, grid:] *= fraction

    coin = np.asarray(table.underlyings, dtype=object)[table.underlying_index]
    currency = np.where(inverse, coin, LINEAR_CURRENCY)
    group, labels = pd.factorize(pd.Series(currency, dtype=object) + "/" + coin)
    groups = tuple(tuple(label.split("/")) for label in labels)
    first = np.zeros(len(groups), dtype=np.int64)
    first[group[::-1]] = np.arange(len(group))[::-1]
    currencies = tuple(dict.fromkeys(c for c, _ in groups))
    linear = np.array([c == LINEAR_CURRENCY for c, _ in groups], dtype=bool)
    pair_spot = table.spot[first]

    engine_delta = unit_greeks(table).delta  # dV/dS in coins; × S/F is the forward delta
    delta = np.where(
        inverse & ~table.is_option, engine_delta, engine_delta * table.spot / table.forward
    )
    roll_time = np.where(is_spot, np.nan, table.time)
    dated = np.isfinite(roll_time)
    roll_times, expiry_code = np.unique(roll_time[dated], return_inverse=True)
    roll_expiry = np.full(len(table), -1, dtype=np.int64)
    roll_expiry[dated] = expiry_code.reshape(-1)
    return RiskArrays(
        vectors=np.ascontiguousarray(vectors.T),
        counted_usd=counted_usd,
        group=group.astype(np.int64),
        delta=delta,
        roll_time=roll_time,
        spot_coins=np.where(is_spot, table.multiplier, 0.0),
        groups=groups,
        currencies=currencies,
        group_currency=np.array([currencies.index(c) for c, _ in groups], dtype=np.int64),
        group_linear=linear,
        group_pair_spot=pair_spot,
        group_index_price=np.where(linear, 1.0, pair_spot),
        group_moves=spot_moves[table.underlying_index[first]],
        group_parameters=_group_parameters(groups, settings),
        roll_times=roll_times,
        roll_expiry=roll_expiry,
    )


def _group_parameters(groups, settings: DeribitParameters) -> dict[str, np.ndarray]:
    """Each pair's and its currency's parameters, one array entry per group."""
    pairs = [settings.pair(u) for _, u in groups]
    currencies = [settings.currency(c) for c, _ in groups]
    values = {
        name: [getattr(p, name) for p in pairs]
        for name in ("price_range", "m_inc", "delta_total_liq_shock_threshold", "max_delta_shock")
    }
    values.update(
        {
            name: [getattr(c, name) for c in currencies]
            for name in (
                "min_annualised_move",
                "annualised_move_risk",
                "extended_dampener",
                "pnl_offset",
                "max_offsetable_pnl",
            )
        }
    )
    return {name: np.asarray(v, dtype=float).reshape(len(groups)) for name, v in values.items()}


@dataclass(frozen=True)
class HolderMargins:
    """Per (holder, settlement currency) with any position: the parts of the margin, in the
    settlement currency; and per (holder, pair) its pre-aggregated and aggregated vectors.

    Vectors are columns, scenarios first: ``aggregated`` is (K, n) for the n (holder, currency)
    cells, ``pair_pre`` and ``pair_aggregated`` (K, p) for the p (holder, pair) keys.
    """

    holder: np.ndarray
    currency: np.ndarray
    index_price: np.ndarray
    aggregated: np.ndarray
    risk_matrix: np.ndarray
    extended: np.ndarray
    worst_case: np.ndarray  # rounded as Deribit rounds it
    roll_shock: np.ndarray
    delta_shock: np.ndarray
    size_independent: np.ndarray
    pair_keys: np.ndarray  # holder · G + group
    pair_pre: np.ndarray
    pair_aggregated: np.ndarray

    @property
    def risk_matrix_margin(self) -> np.ndarray:
        return self.worst_case + self.roll_shock + self.delta_shock


def holder_margins(
    arrays: RiskArrays,
    settings: DeribitParameters,
    holder: np.ndarray,
    instrument: np.ndarray,
    quantity: np.ndarray,
    *,
    grid: int | None = None,
) -> HolderMargins:
    """The margin parts of each holder, from its positions ``(instrument, quantity)``.

    ``holder`` labels each position (a book's configuration, or the position itself for isolated
    margin). Positions of one instrument net; the pairs of a currency add scenario by scenario.
    A coin balance counts only when the holder is net short that coin (long: it is equity).
    ``grid``: how many of the vectors' rows are grid scenarios (default: the settings' grid;
    2 for :meth:`RiskArrays.grid_extremes`).
    """
    grid = settings.grid_count if grid is None else grid
    group_count = len(arrays.groups)
    pair_key = holder * group_count + arrays.group[instrument]
    is_spot = arrays.spot_coins[instrument] > 0
    coins = quantity[is_spot] * arrays.spot_coins[instrument[is_spot]]
    net = pd.Series(coins).groupby(pair_key[is_spot]).sum()
    short = (net < 0).reindex(pair_key[is_spot]).to_numpy(bool)
    keep = np.ones(len(quantity), bool)
    keep[np.flatnonzero(is_spot)[~short]] = False
    instrument, quantity, pair_key = instrument[keep], quantity[keep], pair_key[keep]

    keys, row = dense_unique(pair_key)
    by_pair = sparse.csr_matrix((quantity, (row, instrument)), shape=(len(keys), len(arrays.delta)))
    if len(keys) == len(quantity):  # one position a key (isolated margin): no sums to form
        order = np.empty_like(row)
        order[row] = np.arange(len(row))
        pre = np.take(arrays.vectors, instrument[order], axis=1)
        pre *= quantity[order]
    else:
        pre = np.ascontiguousarray((by_pair @ arrays.vectors.T).T)
    pair = keys % group_count
    to_currency = np.where(arrays.group_linear[pair], arrays.group_pair_spot[pair], 1.0)
    roll = _roll_shock(arrays, row, instrument, quantity, pair) * to_currency
    delta = _delta_shock(arrays, np.abs(by_pair @ arrays.delta), pair) * to_currency
    aggregated, capped = _aggregate(arrays, settings, pre, pair, grid)

    cell = (keys // group_count) * len(arrays.currencies) + arrays.group_currency[pair]
    cells, cell_row = dense_unique(cell)
    if len(cells) == len(keys):  # one pair a currency: nothing to add, only to reorder
        in_order = np.array_equal(cell_row, np.arange(len(keys)))
        total = aggregated if in_order else aggregated[:, np.argsort(cell_row)]
    else:
        by_cell = sparse.csr_matrix(
            (np.ones(len(keys)), (cell_row, np.arange(len(keys)))),
            shape=(len(cells), len(keys)),
        )
        total = np.ascontiguousarray((by_cell @ aggregated.T).T)
    risk_matrix = np.maximum(-total[:grid].min(axis=0), 0.0)
    extended = np.maximum(-total[grid:].min(axis=0, initial=0.0), 0.0)
    worst = np.maximum(risk_matrix, extended)
    if settings.worst_case_decimals is not None:
        worst = np.round(worst, settings.worst_case_decimals)
    index_price = np.zeros(len(cells))
    index_price[cell_row] = arrays.group_index_price[pair]
    delta_shock = np.bincount(cell_row, delta, len(cells))
    capped_any = np.bincount(cell_row, capped, len(cells)) > 0
    return HolderMargins(
        holder=cells // len(arrays.currencies),
        currency=cells % len(arrays.currencies),
        index_price=index_price,
        aggregated=total,
        risk_matrix=risk_matrix,
        extended=extended,
        worst_case=worst,
        roll_shock=np.bincount(cell_row, roll, len(cells)),
        delta_shock=delta_shock,
        size_independent=(extended <= risk_matrix) & (delta_shock == 0.0) & ~capped_any,
        pair_keys=keys,
        pair_pre=pre,
        pair_aggregated=aggregated,
    )


def _roll_shock(arrays: RiskArrays, row, instrument, quantity, pair) -> np.ndarray:
    """Σ over expiries of |net delta| · max(min move, annualised move risk · T), in coins, per
    pair row; deltas net within one expiry (the perpetuals form the expiry T = 0)."""
    expiry = arrays.roll_expiry[instrument]
    dated = (expiry >= 0) & (quantity != 0)
    if not dated.any():
        return np.zeros(len(pair))
    times = arrays.roll_times
    buckets, bucket_of = dense_unique(row[dated] * len(times) + expiry[dated])
    net = np.bincount(bucket_of, quantity[dated] * arrays.delta[instrument[dated]], len(buckets))
    bucket_row = buckets // len(times)
    group = pair[bucket_row]
    parameters = arrays.group_parameters
    move = np.maximum(
        parameters["min_annualised_move"][group],
        parameters["annualised_move_risk"][group] * times[buckets % len(times)],
    )
    return np.bincount(bucket_row, np.abs(net) * move, minlength=len(pair))


def dense_unique(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True)`` for non-negative integer keys, by counting
    rather than sorting when the keys' range is not much larger than their number (the keys
    of holders × pairs are: a linear pass instead of a sort of every position)."""
    if not len(keys):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    size = int(keys.max()) + 1
    if size > 4 * len(keys) + 1024:
        uniques, inverse = np.unique(keys, return_inverse=True)
        return uniques, inverse.reshape(-1)
    present = np.zeros(size, bool)
    present[keys] = True
    code = np.cumsum(present) - 1
    return np.flatnonzero(present), code[keys]


def _delta_shock(arrays: RiskArrays, delta: np.ndarray, pair: np.ndarray) -> np.ndarray:
    """D · min(max_delta_shock, m_inc · (D − threshold/S)) above the threshold, in coins."""
    parameters = arrays.group_parameters
    threshold = parameters["delta_total_liq_shock_threshold"][pair] / arrays.group_pair_spot[pair]
    rate = parameters["m_inc"][pair] * np.maximum(delta - threshold, 0.0)
    return delta * np.minimum(parameters["max_delta_shock"][pair], rate)


def _aggregate(
    arrays: RiskArrays, settings: DeribitParameters, pre: np.ndarray, pair: np.ndarray, grid: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pre-aggregated vectors (K, p) with the extended entries dampened and gains offset; and
    whether ``max_offsetable_pnl`` capped a gain, per pair key."""
    parameters = arrays.group_parameters
    moves = np.asarray(settings.extended_moves)[:, None]
    price_range = parameters["price_range"]
    steps = np.maximum(np.abs(moves) / price_range, 1.0) - 1.0
    usd = steps * parameters["extended_dampener"]  # (8, G)
    edge = arrays.group_pair_spot * (1.0 + np.sign(moves) * price_range)
    dampener = np.where(arrays.group_linear, usd, usd / edge)[:, pair]  # (8, p)
    offset = parameters["pnl_offset"][pair]
    offsetting = np.flatnonzero(offset > 0)  # elsewhere gains count for nothing
    cap = parameters["max_offsetable_pnl"]
    cap = np.where(arrays.group_linear, cap, cap / arrays.group_pair_spot)[pair]
    capped = np.zeros(len(pair), bool)
    # d >= 0 (a move below -price_range is above -100%, so the edge is a positive price): a
    # loss x is damped to min(x + d, 0) and a gain to max(x - d, 0), without copying ``pre``
    aggregated = np.empty_like(pre)
    np.minimum(pre[:grid], 0.0, out=aggregated[:grid])
    np.add(pre[grid:], dampener, out=aggregated[grid:])
    np.minimum(aggregated[grid:], 0.0, out=aggregated[grid:])
    if len(offsetting):
        columns = slice(None) if len(offsetting) == len(pair) else offsetting
        gains = np.maximum(pre[:, columns], 0.0)
        gains[grid:] = np.maximum(pre[grid:, columns] - dampener[:, columns], 0.0)
        gains *= offset[columns]
        capped[columns] = (gains > cap[columns]).any(axis=0)
        aggregated[:, columns] += np.minimum(gains, cap[columns], out=gains)
    return aggregated, capped
