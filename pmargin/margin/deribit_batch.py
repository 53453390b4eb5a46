"""The ``deribit`` model for many candidate books at once, and its Euler allocation.

:func:`candidate_risk` gives the risk-matrix margin of every candidate book of a
:class:`~pmargin.margin.batch.QuantityBatch`, per settlement currency, by the rules of
:mod:`pmargin.margin.deribit` (the same arithmetic as
:func:`~pmargin.margin.deribit_risk.holder_margins`, whose dampener, offset and delta-shock
helpers it calls): the candidates' quantities enter only through products of the batch with the
instruments' risk vectors, grouped by settlement pair ((C, pairs, scenarios) — never
candidates × instruments), their deltas and their deltas per expiry.

:func:`allocate` splits a book's initial margin over its position rows so that the shares add up
to it exactly. Deribit's margin is not positively homogeneous everywhere (the dampener, the delta
shock's threshold, the offset cap and the rounding are fixed amounts), so each part has a stated
rule, per settlement currency, in the configuration (positions alone, with every buy or every
sell order filled) that sets its initial margin:

* **worst case**: in the currency's worst scenario, each pair's counted P&L (after its dampener
  and gain offset) is split over the pair's rows pro rata to their own P&L in that scenario; the
  rounding to ``worst_case_decimals`` scales every share alike. Where neither the dampener nor
  the offset acts, this is the derivative of the largest loss (Euler);
* **roll shock**: per expiry, |net delta| × move, split by each row's signed delta
  (q · delta · sign(net delta) · move: Euler's, as |x| is homogeneous);
* **delta shock**: per pair, split by each row's signed share of the pair's net delta;
* open orders outside the configuration that margins highest get 0; a long coin balance (no
  risk in its own currency) gets 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..book import Book
from .batch import Allocation, QuantityBatch, pro_rata
from .deribit_parameters import DeribitParameters
from .deribit_risk import RiskArrays, _aggregate, _delta_shock

#: configurations of a book, as :mod:`pmargin.margin.deribit` orders them
POSITIONS, WITH_BUYS, WITH_SELLS = 0, 1, 2


@dataclass(frozen=True)
class Layout:
    """Where each instrument of a table goes in the grouped products (length I), and what the
    groups need (pairs G, expiries E, settlement currencies N)."""

    slot: np.ndarray  # pair, or G + pair for a coin balance (counted only when net short)
    bucket: np.ndarray  # pair·E + expiry; G·E for spot (no roll shock)
    bucket_move: np.ndarray  # (G·E,) max(min move, annualised move risk · T)
    to_currency: np.ndarray  # (G,) coin amounts of a linear pair × its spot: USDC
    currency_of_pair: np.ndarray  # (G, N) one-hot
    index_price: np.ndarray  # (N,) USD per unit of each currency

    @classmethod
    def of(cls, arrays: RiskArrays) -> Layout:
        pairs = len(arrays.groups)
        is_spot = arrays.spot_coins > 0
        dated = np.isfinite(arrays.roll_time)
        times, expiry = np.unique(arrays.roll_time[dated], return_inverse=True)
        bucket = np.full(len(is_spot), pairs * len(times))
        bucket[dated] = arrays.group[dated] * len(times) + expiry
        parameters = arrays.group_parameters
        move = np.maximum(
            parameters["min_annualised_move"][:, None],
            parameters["annualised_move_risk"][:, None] * times[None, :],
        )
        onehot = np.zeros((pairs, len(arrays.currencies)))
        onehot[np.arange(pairs), arrays.group_currency] = 1.0
        index_price = np.zeros(len(arrays.currencies))
        index_price[arrays.group_currency] = arrays.group_index_price
        return cls(
            slot=np.where(is_spot, pairs + arrays.group, arrays.group),
            bucket=bucket,
            bucket_move=move.reshape(-1),
            to_currency=np.where(arrays.group_linear, arrays.group_pair_spot, 1.0),
            currency_of_pair=onehot,
            index_price=index_price,
        )


@dataclass(frozen=True)
class CandidateRisk:
    """Deribit's margin parts of C candidate books. Per pair (C, G[, K]): pre-aggregated and
    aggregated vectors, whether its coin balance counts (net short), its net delta (coins,
    signed) and delta shock; per expiry bucket (C, G·E) the net delta; per settlement currency
    (C, N[, K]) the total vector, the worst case (unrounded and rounded), roll and delta shock.
    Amounts in the settlement currency."""

    pre: np.ndarray
    aggregated: np.ndarray
    short_coins: np.ndarray
    pair_delta: np.ndarray
    pair_delta_shock: np.ndarray
    bucket_delta: np.ndarray
    total: np.ndarray
    loss: np.ndarray
    worst_case: np.ndarray
    roll_shock: np.ndarray
    delta_shock: np.ndarray

    @property
    def risk_matrix_margin(self) -> np.ndarray:
        return self.worst_case + self.roll_shock + self.delta_shock


def candidate_risk(
    arrays: RiskArrays, settings: DeribitParameters, layout: Layout, batch: QuantityBatch
) -> CandidateRisk:
    """The margin parts of every candidate book of ``batch`` (contracts per instrument)."""
    pairs, count = len(arrays.groups), batch.count
    grid = settings.grid_count
    vectors = arrays.vectors.T  # (I, K)
    scenarios = vectors.shape[1]
    columns = np.column_stack([vectors, arrays.delta, arrays.spot_coins])
    by_slot = batch.grouped_dot(columns, layout.slot, 2 * pairs)  # (C, 2G, K + 2)
    held, coin = by_slot[:, :pairs], by_slot[:, pairs:]
    short = coin[..., -1] < 0  # a coin balance counts only when the pair is net short of it
    pre = held[..., :scenarios] + short[..., None] * coin[..., :scenarios]
    pair_delta = held[..., scenarios] + short * coin[..., scenarios]
    buckets = len(layout.bucket_move)
    bucket_delta = batch.grouped_dot(arrays.delta[:, None], layout.bucket, buckets + 1)
    bucket_delta = bucket_delta[:, :buckets, 0]
    roll = (np.abs(bucket_delta) * layout.bucket_move).reshape(count, pairs, -1).sum(axis=-1)
    pair_index = np.arange(pairs)
    pair_delta_shock = _delta_shock(arrays, np.abs(pair_delta), pair_index) * layout.to_currency
    flat = pre.reshape(count * pairs, scenarios).T  # (K, C·G), as holder_margins lays them out
    aggregated, _ = _aggregate(arrays, settings, flat, np.tile(pair_index, count), grid)
    aggregated = aggregated.T.reshape(count, pairs, scenarios)
    total = np.einsum("cgk,gn->cnk", aggregated, layout.currency_of_pair)
    loss = np.maximum(-total.min(axis=-1, initial=0.0), 0.0)
    risk_matrix = np.maximum(-total[..., :grid].min(axis=-1), 0.0)
    extended = np.maximum(-total[..., grid:].min(axis=-1, initial=0.0), 0.0)
    worst = np.maximum(risk_matrix, extended)
    if settings.worst_case_decimals is not None:
        worst = np.round(worst, settings.worst_case_decimals)
    return CandidateRisk(
        pre=pre,
        aggregated=aggregated,
        short_coins=short,
        pair_delta=pair_delta,
        pair_delta_shock=pair_delta_shock,
        bucket_delta=bucket_delta,
        total=total,
        loss=loss,
        worst_case=worst,
        roll_shock=(roll * layout.to_currency) @ layout.currency_of_pair,
        delta_shock=pair_delta_shock @ layout.currency_of_pair,
    )


def configurations(book: Book) -> tuple[np.ndarray, np.ndarray]:
    """Contracts per instrument (3, I) of the book's positions, with every buy order and with
    every sell order filled; and which configurations hold each row (N, 3)."""
    size = len(book.instruments)
    order, q = book.is_order, book.quantity
    holds = np.column_stack([~order, ~order | (order & (q > 0)), ~order | (order & (q < 0))])
    quantities = np.stack(
        [np.bincount(book.instrument, np.where(h, q, 0.0), size) for h in holds.T]
    )
    return quantities, holds


def allocate(book: Book, arrays: RiskArrays, settings: DeribitParameters, names) -> Allocation:
    """Each row's share of the book's initial margin (USD), by the rules of this module's
    docstring. ``names(total, pairs)`` names a currency's worst scenario (its total vector and
    pairs)."""
    if not len(arrays.groups):  # nothing to margin (no positions, or coin balances alone)
        return Allocation(np.zeros(len(book.quantity)), {})
    layout = Layout.of(arrays)
    quantities, holds = configurations(book)
    risk = candidate_risk(arrays, settings, layout, QuantityBatch.of(quantities))
    chosen = np.argmax(risk.risk_matrix_margin, axis=0)  # (N,) ties: positions alone
    codes, q = book.instrument, book.quantity
    pair = arrays.group[codes]
    currency = arrays.group_currency[pair]
    config = chosen[currency]
    counted = holds[np.arange(len(q)), config]
    is_coin = arrays.spot_coins[codes] > 0
    counted &= ~is_coin | risk.short_coins[config, pair]
    # worst case: the currency's worst scenario, each pair's counted P&L by its rows' P&L
    worst_k = np.argmin(risk.total, axis=-1)  # (3, N)
    k = worst_k[config, currency]
    own = q * arrays.vectors[k, codes]
    pair_pre = risk.pre[config, pair, k]
    pair_counted = risk.aggregated[config, pair, k]
    loss = risk.loss[config, currency]
    rounding = np.divide(
        risk.worst_case[config, currency], loss, out=np.zeros_like(loss), where=loss > 0
    )
    worst_part = -pro_rata(own, pair_pre, pair_counted) * rounding
    # roll shock: per expiry, the row's delta × sign(net delta of the expiry) × move
    buckets = len(layout.bucket_move)
    bucket = layout.bucket[codes]
    dated = bucket < buckets
    safe_bucket = np.where(dated, bucket, 0)
    row_delta = q * arrays.delta[codes]
    roll_part = np.zeros(len(q))  # no expiry at all (coins, perpetuals): no roll shock
    if buckets:
        roll_part = np.where(
            dated,
            row_delta
            * np.sign(risk.bucket_delta[config, safe_bucket])
            * layout.bucket_move[safe_bucket]
            * layout.to_currency[pair],
            0.0,
        )
    # delta shock: the pair's shock by the row's signed share of the pair's net delta
    delta_part = pro_rata(
        row_delta, risk.pair_delta[config, pair], risk.pair_delta_shock[config, pair]
    )
    contribution = np.where(counted, worst_part + roll_part + delta_part, 0.0)
    contribution *= layout.index_price[currency]
    basis = {}
    for n, name in enumerate(arrays.currencies):
        if not ((currency == n) & (q != 0)).any():  # a currency of other accounts' rows
            continue
        h = chosen[n]
        mine = list(np.flatnonzero(arrays.group_currency == n))
        scenario = names(risk.total[h, n], mine) if risk.loss[h, n] > 0 else "no loss"
        setting = ("positions", "with every buy order filled", "with every sell order filled")[h]
        basis[name] = f"{setting}; worst case: {scenario}"
    return Allocation(contribution, basis)
