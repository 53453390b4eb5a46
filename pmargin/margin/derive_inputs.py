"""What the ``derive`` model needs of each instrument, per contract (independent of quantity):
option values under PMRM_2's scenarios and basis moves, expiry and strike groups, static
discounts, linear P&L and the notionals its contingencies charge."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..book import InstrumentTable
from ..engine import instrument_pnl
from ..market import SECONDS_PER_YEAR
from ..pricing.black76 import black76_price
from ..scenarios import DEFAULT_KEY, ScenarioSet
from .derive_parameters import ABS, DOWN, LINEAR, NONE, SKEW, UP, DeriveParameters


@dataclass(frozen=True)
class Inputs:
    """What PMRM_2 needs of each instrument of a table, per contract (independent of quantity).

    Options (rows ``options``): USD values (O, S + 3) under the scenarios, then the basis
    scenarios up and down, then unshocked; their expiry group and strike group. Linear rows
    (perpetuals, futures, spot): dampened P&L (L, S) and, for the contingencies, the notional of
    perpetuals and futures and the stable-coin value of spot.
    """

    options: np.ndarray
    option_values: np.ndarray
    option_expiry: np.ndarray
    option_strike_group: np.ndarray
    strike_group_underlying: np.ndarray
    strike_group_spot: np.ndarray
    coins: np.ndarray
    expiry_underlying: np.ndarray
    static_positive: np.ndarray
    static_negative: np.ndarray
    basis_scale: np.ndarray
    linear: np.ndarray
    linear_pnl: np.ndarray
    perp_notional: np.ndarray
    collateral_value: np.ndarray

    @property
    def expiries(self) -> int:
        return len(self.static_positive)

    def account_cells(self, underlyings: int) -> int:
        """Dense cells one account needs: option values per expiry, P&L per underlying."""
        values = self.option_values.shape[1] * max(self.expiries, 1)
        return values + self.linear_pnl.shape[1] * max(underlyings, 1)


def instrument_inputs(table: InstrumentTable, p: DeriveParameters) -> Inputs:
    """:class:`Inputs` of ``table``'s instruments under the parameters ``p``."""
    options = np.flatnonzero(table.is_option)
    years = table.time[options]
    seconds = np.round(years * SECONDS_PER_YEAR, 6)
    rate = np.maximum(table.rate[options], 0.0)  # PMRM_2 floors the rate feed at 0
    expiry_key = np.stack([table.underlying_index[options], years])
    _, first, option_expiry = np.unique(expiry_key, axis=1, return_index=True, return_inverse=True)
    option_expiry = option_expiry.reshape(-1)
    strike_key = np.stack([option_expiry, table.strike[options]])
    _, strike_first, strike_group = np.unique(
        strike_key, axis=1, return_index=True, return_inverse=True
    )
    positive, negative = p.static_discount.factors(years[first], rate[first])
    basis = p.basis
    linear = np.flatnonzero(~table.is_option)
    return Inputs(
        options=options,
        option_values=_option_values(table, p, options, seconds, rate),
        option_expiry=option_expiry,
        option_strike_group=strike_group.reshape(-1),
        strike_group_underlying=table.underlying_index[options][strike_first],
        strike_group_spot=table.spot[options][strike_first],
        coins=table.multiplier[options],
        expiry_underlying=table.underlying_index[options][first],
        static_positive=positive,
        static_negative=negative,
        basis_scale=basis.add_factor + basis.mult_factor * years[first],
        linear=linear,
        linear_pnl=_linear_pnl(table, p, linear),
        perp_notional=np.where(
            table.is_inverse[linear],
            table.multiplier[linear],  # USD face
            table.multiplier[linear] * table.spot[linear],
        )
        * (table.kind[linear] != "spot"),
        collateral_value=(table.kind[linear] == "spot")
        * table.multiplier[linear]
        * table.spot[linear]
        / p.stable_price,
    )


def _option_values(table, p: DeriveParameters, options, seconds, rate) -> np.ndarray:
    """USD value per contract (O, S + 3): every scenario, basis up, basis down, unshocked."""
    moves = np.concatenate([p.moves, [p.basis.spot_up, p.basis.spot_down, 0.0]])
    directions = np.concatenate([p.directions, [NONE, NONE, NONE]])
    forward, strike = table.forward[options], table.strike[options]
    window = p.settlement_twap_seconds
    fixed = np.where(seconds < window, (window - seconds) / max(window, 1.0), 0.0)
    shocked_forward = forward[:, None] * (
        fixed[:, None] + (1.0 - fixed[:, None]) * (1.0 + moves[None, :])
    )
    vol = table.vol[options][:, None]
    up, down = p.vol_shock.multipliers(seconds)
    skew = p.skew.multipliers(np.log(strike / forward), table.time[options])
    shocked_vol = np.select(
        [directions == UP, directions == DOWN, directions == LINEAR, directions == ABS],
        [
            np.maximum(p.vol_shock.min_vol_up, vol * up[:, None]),
            vol * down[:, None],
            vol * skew[0][:, None],
            vol * skew[1][:, None],
        ],
        vol,
    )
    shocked_forward = np.where(np.isin(directions, SKEW), forward[:, None], shocked_forward)
    price = black76_price(
        shocked_forward,
        strike[:, None],
        table.time[options, None],
        shocked_vol,
        np.exp(-rate * table.time[options])[:, None],
        table.is_call[options, None],
    )
    return table.multiplier[options, None] * price


def _linear_pnl(table, p: DeriveParameters, linear) -> np.ndarray:
    """Dampened USD P&L per contract (L, S) of perpetuals, futures and spot (base asset)."""
    moves = ScenarioSet("derive spot moves", p.names, spot={DEFAULT_KEY: p.moves})
    rows = table.rows(linear)
    pnl = instrument_pnl(rows, moves.shocks(table.underlyings)) * p.dampening
    spot = rows.kind == "spot"
    cancelling = 1.0 if p.collateral.risk_cancelling else 0.0
    pnl[spot] *= cancelling / p.stable_price
    return pnl
