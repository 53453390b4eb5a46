"""Euler allocation of the ``derive`` model's initial margin to a book's position rows.

PMRM_2 is positively homogeneous in the positions (every part scales with them: expiry values
and their static discounts by sign, the basis contingency, the contingencies on notionals), so
each row's contribution is its quantity × the derivative of the margin, part by part:

* **worst loss** (× ``initial_factor``, per underlying): where a scenario sets it, the row's own
  counted P&L in that scenario — an option's shocked value × its expiry's static discount (the
  expiry's, chosen by the sign of the expiry's shocked value) less its value, × the scenario's
  dampening (a skew scenario, −|expiry P&L|, turns the sign of the row's with the expiry's);
  a perpetual's, future's or coin's dampened P&L. Where the basis contingency sets it, the
  option's value change in its expiry's worse basis move × the expiry's factor;
* **contingencies**: perpetual and future notionals and coin haircuts per instrument split over
  its rows by signed quantity; a naked-short strike's charge over the strike's options by their
  signed share of its coins.

So an underlying's contributions add up to its margin, and the book's to the sum.
"""

from __future__ import annotations

import numpy as np

from ..book import Book
from .batch import Allocation, per_instrument_allocation, pro_rata
from .derive_parameters import SKEW


def allocate(model, book: Book) -> Allocation:
    """Each row's contribution (USD) to ``model.requirement(book).initial``."""
    table, p = book.instruments, model.settings
    x = model._inputs(table)
    risk = model.evaluate(book)
    net, codes, q = book.net_quantity, book.instrument, book.quantity
    row_u = table.underlying_index[codes]
    scenario = np.argmin(risk.scenario_pnl, axis=1)  # (U,)
    basis_sets = risk.basis_contingency < risk.scenario_pnl.min(axis=1)
    has_loss = risk.worst < 0

    expiries = len(x.static_positive)
    values = np.zeros((expiries + 1, x.option_values.shape[1]))  # the last row: no expiry
    np.add.at(values, x.option_expiry, net[x.options, None] * x.option_values)
    option_of = np.full(len(table), -1)  # −1 (not an option) picks the zero padding below
    option_of[x.options] = np.arange(len(x.options))
    linear_of = np.full(len(table), -1)
    linear_of[x.linear] = np.arange(len(x.linear))
    o, lin = option_of[codes], linear_of[codes]
    is_option = o >= 0
    expiry = _padded(x.option_expiry, expiries)[o]
    positive = _padded(x.static_positive, 1.0)[expiry]
    negative = _padded(x.static_negative, 1.0)[expiry]
    s = scenario[row_u]
    own = _padded(x.option_values, 0.0)[o]  # (N, S + 3) per contract
    base = own[:, -1]
    rows = np.arange(len(q))

    # an option in the scenario: value × its expiry's static discount − value, dampened
    shocked = values[expiry, s]
    discount = np.where(shocked >= 0, positive, negative)
    option_pnl = q * (own[rows, s] * discount - base) * p.dampening[s]
    expiry_pnl = (shocked * discount - values[expiry, -1]) * p.dampening[s]
    skew = np.isin(p.directions[s], SKEW)
    option_pnl = np.where(skew, -np.sign(expiry_pnl) * option_pnl, option_pnl)
    linear_pnl = q * _padded(x.linear_pnl, 0.0)[lin, s]
    scenario_part = np.where(is_option, option_pnl, linear_pnl)
    # an option in its expiry's worse basis move (0 where neither loses)
    up, down = values[:, -3] - values[:, -1], values[:, -2] - values[:, -1]
    move = np.where(up <= down, -3, -2)[expiry]
    losing = np.minimum(up, down)[expiry] < 0
    scale = _padded(x.basis_scale, 0.0)[expiry]
    basis_part = np.where(losing, q * (own[rows, move] - base) * scale, 0.0)
    loss_part = np.where(basis_sets[row_u], basis_part, scenario_part)
    worst_part = np.where(has_loss[row_u], -risk.initial_factor * loss_part, 0.0)

    c, h = p.contingencies, p.collateral
    linear_amount = np.zeros(len(table))
    linear_amount[x.linear] = np.abs(net[x.linear]) * (
        x.perp_notional * (c.perp_maintenance + c.perp_initial)
        + x.collateral_value * (h.maintenance_haircut + h.initial_haircut)
    )
    strikes = len(x.strike_group_spot)
    strike = _padded(x.option_strike_group, strikes)[o]
    coins = np.bincount(x.option_strike_group, net[x.options] * x.coins, minlength=strikes)
    naked = (
        np.maximum(-coins, 0.0) * x.strike_group_spot * (c.option_maintenance + c.option_initial)
    )
    row_coins = q * _padded(x.coins, 0.0)[o]
    naked_part = pro_rata(row_coins, _padded(coins, 0.0)[strike], _padded(naked, 0.0)[strike])
    contribution = worst_part + per_instrument_allocation(book, linear_amount) + naked_part
    names = np.asarray(p.names)
    basis = {
        u: (
            ("basis contingency" if basis_sets[i] else f"worst scenario: {names[scenario[i]]}")
            if has_loss[i]
            else "no loss"
        )
        + "; contingencies per instrument and strike"
        for i, u in enumerate(table.underlyings)
    }
    return Allocation(contribution, basis)


def _padded(per_entry: np.ndarray, fill) -> np.ndarray:
    """``per_entry`` with one more entry (row) of ``fill`` at the end, picked by index −1 (or by
    the count of entries): what rows without such an entry get."""
    pad = np.full((1, *np.shape(per_entry)[1:]), fill, dtype=np.result_type(per_entry, fill))
    return np.concatenate([per_entry, pad])
