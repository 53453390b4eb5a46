"""Liquidation plans: the trades that take an account back to equity ≥ (1 + buffer) × target.

Two ways, as venues do it (SPEC §8):

* :func:`risk_reducing_plan` (exchange-style, incremental): each step is one lot — closing a lot
  of a position, or trading a lot of a hedge in one of the account's futures or perpetuals. Among
  the candidates that do not raise the worst-scenario loss (the largest counted loss over the
  model's scenarios), it takes the largest fall in the target margin per USD of fee, futures and
  perpetuals first where they lower the worst loss. It stops as soon as the target is met. When
  no step brings the account closer (each one's fee outweighs the margin it frees, or raises the
  worst loss), or after :data:`MAX_STEPS` steps, it closes out every remaining position.
* :func:`proportional_plan` (auction-style): the smallest fraction f of every position and every
  coin balance closed together that meets the target, found by bisection.

Candidates are screened together on the counted scenario P&L (one (candidates × scenarios)
update of the account's P&L each); the best by that screen are then margined exactly with the
model (see :class:`~pmargin.liquidation_book.AccountBook`), a batch at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .liquidation_book import AccountBook, Holdings
from .margin import Requirement

TARGETS = ("maintenance", "initial")
MODES = ("risk-reducing", "proportional")
#: the most steps a risk-reducing plan takes before it closes out what is left
MAX_STEPS = 5_000
#: candidates margined exactly at a time, best screened first
BATCH = 4
#: bound on the (candidates × scenarios) cells screened at once
SCREEN_CELLS = 4_000_000
#: bisection steps of the proportional fraction (2⁻⁴⁵ ≈ 3e-14)
BISECTIONS = 45
#: relative slack the proportional fraction keeps above the goal (rounding of a recomputation)
ROUNDING = 1e-9
#: a fee below this (USD) counts as this, so that a free step ranks by the margin it frees
SMALLEST_FEE = 1e-9


@dataclass(frozen=True)
class Goal:
    """Restore equity to (1 + ``buffer``) × the ``target`` margin (maintenance or initial)."""

    target: str
    buffer: float

    def margin(self, requirement: Requirement) -> float:
        return self.target_margin(requirement.initial, requirement.maintenance)

    def target_margin(self, initial: float, maintenance: float) -> float:
        return maintenance if self.target == "maintenance" else initial

    def shortfall(self, equity: float, requirement: Requirement) -> float:
        """(1 + buffer) × target margin − equity, USD; ≤ 0 when the goal is met."""
        return (1.0 + self.buffer) * self.margin(requirement) - equity


@dataclass(frozen=True)
class Step:
    """One step of a plan; money in USD, ``quantity`` the signed trade in contracts (coins for
    collateral), ``price`` USD per coin. ``worst_loss_after`` ≥ 0 is the largest counted loss
    over the model's scenarios after the step. Steps of a close-out (the proportional plan's,
    or a stalled risk-reducing plan's last) close what is left together: one of them alone may
    raise the worst loss (closing one leg of a hedge), the close-out as a whole does not."""

    step: int
    action: str  # cancel_orders, close or hedge
    instrument: str | None
    quantity: float | None
    price: float | None
    fee: float
    equity_after: float
    initial_margin_after: float
    maintenance_margin_after: float
    worst_loss_after: float
    #: part of a close-out of everything left (which may raise the worst loss on the way)
    close_out: bool = False


@dataclass
class Plan:
    """Steps and the state they leave. ``stalled_shortfall`` is the shortfall at which partial
    liquidation could go no further (then ``full_close_out``), else None; ``fraction`` is the
    share of everything a proportional plan closes."""

    steps: list[Step]
    holdings: Holdings
    requirement: Requirement
    full_close_out: bool = False
    stalled_shortfall: float | None = None
    fraction: float | None = None


@dataclass(frozen=True)
class _Candidate:
    """A step considered: its trade, fee and worst loss after; margin and score once margined."""

    instrument: int
    quantity: float
    fee: float
    action: str
    worst_loss: float
    requirement: Requirement | None = None
    score: float = 0.0


class _Recorder:
    """Applies trades to an account's holdings and records them as numbered steps."""

    def __init__(self, account: AccountBook, steps: list[Step], holdings, requirement):
        self.account, self.steps = account, steps
        self.holdings, self.requirement = holdings, requirement

    def apply(
        self,
        instrument,
        quantity,
        fee,
        action,
        requirement=None,
        *,
        collateral=False,
        close_out=False,
        worst_loss=None,
    ):
        account = self.account
        self.holdings = account.trade(
            self.holdings, instrument, quantity, fee, collateral=collateral
        )
        total = self.holdings.total
        if requirement is None:
            requirement = account.requirement(total)
        self.requirement = requirement
        symbol = account.symbols[instrument]
        if collateral:
            symbol = f"{account.underlying[instrument]} (collateral)"
        self.steps.append(
            Step(
                step=len(self.steps) + 1,
                action=action,
                instrument=str(symbol),
                quantity=float(quantity),
                price=float(account.price[instrument]),
                fee=float(fee),
                equity_after=account.equity(self.holdings),
                initial_margin_after=self.requirement.initial,
                maintenance_margin_after=self.requirement.maintenance,
                worst_loss_after=float(
                    account.worst_loss(total) if worst_loss is None else worst_loss
                ),
                close_out=close_out,
            )
        )

    def plan(self, **flags) -> Plan:
        return Plan(self.steps, self.holdings, self.requirement, **flags)


def risk_reducing_plan(
    account: AccountBook, holdings: Holdings, requirement: Requirement, goal: Goal, steps: list
) -> Plan:
    """Lot by lot, the step that frees the most target margin per USD of fee (module doc)."""
    recorder = _Recorder(account, steps, holdings, requirement)
    hedgeable = np.flatnonzero(account.is_future & (holdings.quantity != 0))
    shortfall = goal.shortfall(account.equity(holdings), requirement)
    for _ in range(MAX_STEPS):
        if shortfall <= 0:
            return recorder.plan()
        best = _best_step(account, recorder.holdings, recorder.requirement, goal, hedgeable)
        if best is None:
            break
        recorder.apply(
            best.instrument,
            best.quantity,
            best.fee,
            best.action,
            best.requirement,
            worst_loss=best.worst_loss,
        )
        shortfall = goal.shortfall(account.equity(recorder.holdings), recorder.requirement)
    if shortfall <= 0:
        return recorder.plan()
    close_out(account, recorder)
    return recorder.plan(full_close_out=True, stalled_shortfall=shortfall)


def _candidates(account: AccountBook, quantity: np.ndarray, hedgeable: np.ndarray):
    """(instrument, signed trade, is a close) of every candidate step."""
    held = np.flatnonzero(quantity != 0)
    close = -np.sign(quantity[held]) * np.minimum(account.lot[held], np.abs(quantity[held]))
    up = hedgeable[quantity[hedgeable] >= 0]  # a hedge adds to a future, or opens either side
    down = hedgeable[quantity[hedgeable] <= 0]
    instrument = np.concatenate([held, up, down])
    trade = np.concatenate([close, account.lot[up], -account.lot[down]])
    is_close = np.arange(len(instrument)) < len(held)
    return instrument, trade, is_close


def _screen(account: AccountBook, total: np.ndarray, instrument, trade):
    """Per candidate: the worst loss after it, and the fall of its underlying's worst loss."""
    pnl = account.counted_pnl  # (I, S)
    now = total @ pnl
    by_underlying = account.by_underlying @ (total[:, None] * pnl)  # (U, S)
    underlying = account.book.instruments.underlying_index[instrument]
    worst_after = np.empty(len(instrument))
    own_fall = np.empty(len(instrument))
    size = max(SCREEN_CELLS // max(pnl.shape[1], 1), 1)
    for start in range(0, len(instrument), size):  # bounds memory, not a loop over positions
        rows = slice(start, start + size)
        change = trade[rows, None] * pnl[instrument[rows]]
        worst_after[rows] = np.maximum(-(now + change).min(axis=1, initial=0.0), 0.0)
        own = by_underlying[underlying[rows]]
        own_now = np.maximum(-own.min(axis=1, initial=0.0), 0.0)
        own_fall[rows] = own_now - np.maximum(-(own + change).min(axis=1, initial=0.0), 0.0)
    return worst_after, own_fall


def _best_step(account, holdings, requirement, goal, hedgeable) -> _Candidate | None:
    instrument, trade, is_close = _candidates(account, holdings.quantity, hedgeable)
    if not len(instrument):
        return None
    total = holdings.total
    worst_now = account.worst_loss(total)
    worst_after, own_fall = _screen(account, total, instrument, trade)
    tolerance = 1e-9 * max(worst_now, 1.0)
    allowed = worst_after <= worst_now + tolerance
    futures_first = allowed & account.is_future[instrument] & (worst_after < worst_now - tolerance)
    fees = account.fees(instrument, trade)
    rank = own_fall / np.maximum(fees, SMALLEST_FEE)
    margined: dict[int, _Candidate | None] = {}
    for tier in (futures_first, allowed):
        order = np.flatnonzero(tier)
        order = order[np.argsort(-rank[order], kind="stable")]
        for start in range(0, len(order), BATCH):
            for c in order[start : start + BATCH]:
                if c not in margined:
                    action = "close" if is_close[c] else "hedge"
                    margined[c] = _margined(
                        account,
                        total,
                        requirement,
                        goal,
                        _Candidate(instrument[c], trade[c], fees[c], action, worst_after[c]),
                    )
            found = [margined[c] for c in order[: start + BATCH] if margined[c] is not None]
            if found:
                return max(found, key=lambda candidate: candidate.score)
    return None


def _margined(account, total, requirement, goal, candidate: _Candidate) -> _Candidate | None:
    """``candidate`` margined exactly, or None when it does not bring the account closer."""
    after = total.copy()
    after[candidate.instrument] += candidate.quantity
    margin_after = account.requirement(after)
    fall = goal.margin(requirement) - goal.margin(margin_after)
    if (1.0 + goal.buffer) * fall - candidate.fee <= 0:
        return None
    score = fall / max(candidate.fee, SMALLEST_FEE)
    return replace(candidate, requirement=margin_after, score=score)


def close_out(account: AccountBook, recorder: _Recorder, *, fraction: float = 1.0, coins=False):
    """Close ``fraction`` of every remaining position (and, with ``coins``, of every coin
    balance), one instrument a step, in the order that keeps the worst loss lowest at each step."""
    holdings = recorder.holdings
    positions = np.flatnonzero(holdings.quantity)
    balances = np.flatnonzero(holdings.collateral) if coins else np.array([], np.int64)
    instrument = np.concatenate([positions, balances])
    quantity = -fraction * np.concatenate(
        [holdings.quantity[positions], holdings.collateral[balances]]
    )
    collateral = np.arange(len(instrument)) >= len(positions)
    fees = account.fees(instrument, quantity)
    pnl = account.counted_pnl
    change = quantity[:, None] * pnl[instrument]  # (moves, S)
    now = recorder.holdings.total @ pnl
    left = np.arange(len(instrument))
    while len(left):  # one step per move; each pass scores the moves left together
        worst = np.maximum(-(now + change[left]).min(axis=1, initial=0.0), 0.0)
        pick = int(np.argmin(worst))
        move, left = left[pick], np.delete(left, pick)
        now = now + change[move]
        recorder.apply(
            instrument[move],
            quantity[move],
            fees[move],
            "close",
            collateral=collateral[move],
            close_out=True,
            worst_loss=float(worst[pick]),
        )


def proportional_plan(
    account: AccountBook, holdings: Holdings, requirement: Requirement, goal: Goal, steps: list
) -> Plan:
    """The smallest common fraction of every position and coin balance that meets the goal."""
    recorder = _Recorder(account, steps, holdings, requirement)
    if goal.shortfall(account.equity(holdings), requirement) <= 0:
        return recorder.plan()
    every = np.arange(len(holdings.quantity))

    def shortfall_at(fraction: float) -> float:
        sold_positions = fraction * holdings.quantity
        sold_coins = fraction * holdings.collateral
        fees = account.fees(every, sold_positions).sum() + account.fees(every, sold_coins).sum()
        after = Holdings(holdings.quantity - sold_positions, holdings.collateral - sold_coins, 0.0)
        cash = holdings.cash + float((sold_positions + sold_coins) @ account.unit_value) - fees
        after = Holdings(after.quantity, after.collateral, cash)
        return goal.shortfall(account.equity(after), account.requirement(after.total))

    def short(fraction: float) -> float:
        return shortfall_at(fraction) + ROUNDING * max(account.equity(holdings), 1.0)

    fraction = 1.0 if shortfall_at(1.0) > 0 else _smallest_fraction(short)
    close_out(account, recorder, fraction=fraction, coins=True)
    return recorder.plan(full_close_out=fraction >= 1.0, fraction=fraction)


def _smallest_fraction(shortfall_at) -> float:
    """The least f in (0, 1] with ``shortfall_at(f)`` ≤ 0, given it holds at 1 and not at 0.

    A coarse grid finds the first f that meets the goal, bisection narrows the bracket; the
    upper end (which meets it) is returned. Meeting it takes a shortfall of −1e-9 × the
    equity or less, so that recomputing the book after from a file, which adds in another
    order, still finds it met.
    """
    grid = np.linspace(0.0, 1.0, 33)
    low, high = 0.0, 1.0
    for f in grid[1:]:  # 32 trial fractions
        if shortfall_at(float(f)) <= 0:
            high = float(f)
            break
        low = float(f)
    for _ in range(BISECTIONS):
        middle = 0.5 * (low + high)
        if shortfall_at(middle) <= 0:
            high = middle
        else:
            low = middle
    return high
