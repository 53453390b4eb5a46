"""``breakeven``: reverse stress — how far the market can move before equity meets maintenance
margin (or, with ``loss``, before the loss reaches it).

For one account (each account on its own; accounts never net), searched moves are relative:

* ``underlyings``: each underlying's spot alone, down (−0.99 … 0) and up (0 … +9) — forwards move
  with it, implied vols stay as bound per strike (sticky strike), every other underlying held;
* ``all_together``: every underlying's spot by the same relative move;
* ``vol_up`` / ``vol_down``: every implied vol × (1 + shock), spots held;
* ``joint``: with the market's correlations, the joint spot move of least Mahalanobis distance
  (log returns, the market's vols over ``horizon_days``; see :mod:`pmargin.joint_move`).

Each is the move nearest 0 at which ``gap`` reaches 0, where ``gap`` = equity − maintenance
margin with the *whole* margin model re-run on the moved market (orders as ``compute`` counts
them), or ``loss + P&L of the move`` with a loss target, the P&L ``stress`` gives for a
scenario of that move (positions, open orders as filled and coin collateral; an inverse
contract's coin P&L at the moved spot). The uniform moves walk out
through trial moves (1% apart up to 5%, 2.5% up to 20%, 5% beyond, geometric steps above +100%),
then :func:`scipy.optimize.brentq` refines the first change of sign to 1e-9; a change of sign
that opens and closes between two trial moves is not seen. None where no move in
the range reaches the target; 0 where the account has already reached it.

Equity and maintenance margin on a moved market are counted as for liquidation prices (one
shared :class:`~pmargin.portfolio_margin.MaintenanceGap`): positions at model prices on the
moved market, plus what their marks are worth above the model today (a mark observed at one
spot says nothing of another); a future or perpetual without an ``entry_price`` (worth 0 to
``compute``) counts as entered at today's price, so that its P&L on the move counts. A book
without marks whose futures state entry prices gives exactly what ``compute`` gives on the
moved market. The searches are :func:`pmargin.root_search.nearest_crossing`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .book import Book, bind
from .engine import instrument_pnl
from .errors import InputError, Problem
from .joint_move import NearestMove, nearest_move
from .margin import MarginModel
from .market import Market
from .montecarlo import NotPositiveSemiDefinite, correlation_factor, underlying_vols
from .portfolio import Portfolio
from .portfolio_margin import (
    MaintenanceGap,
    equity,
    position_values,
    requirement_with_orders,
)
from .root_search import nearest_crossing
from .scenarios import move_shocks

TARGET_MAINTENANCE, TARGET_LOSS = "maintenance", "loss"
#: trial moves, nearest first: 1% apart to 5%, 2.5% to 20%, 5% to 95%, then −99% or, up,
#: geometric steps from +100% to +900%
_NEAR = np.concatenate([np.arange(1, 5), np.arange(5, 20, 2.5), np.arange(20, 100, 5)]) / 100
DOWN_MOVES = -np.concatenate([_NEAR, [0.99]])
UP_MOVES = np.concatenate([_NEAR, np.geomspace(1.0, 9.0, 9)])
#: tolerance of a reported move
MOVE_TOLERANCE = 1e-9
#: horizon of the joint move's distance when the model has none of its own
DEFAULT_HORIZON_DAYS = 1.0


@dataclass(frozen=True)
class SpotMoves:
    """The smallest relative spot moves down (< 0) and up (> 0) that reach the target, or None."""

    down: float | None
    up: float | None


@dataclass(frozen=True)
class JointMove:
    """The most plausible joint move on the boundary: relative spot moves per underlying and
    their Mahalanobis distance (standard deviations over ``horizon_days``)."""

    moves: dict[str, float]
    distance: float
    account: str | None = None


@dataclass(frozen=True)
class Breakeven:
    """Reverse stress of a portfolio (or one account). Money in USD, moves relative.

    ``equity`` and ``maintenance_margin`` are today's (``compute``'s); with several accounts
    they are sums, and each move is the smallest over the accounts (the first to break), the
    accounts' own under ``accounts``. ``notes`` say why a move is missing where that is not
    obvious (no correlations for the joint move, no collateral).
    """

    model: str
    target: str
    loss: float | None
    horizon_days: float
    equity: float | None
    maintenance_margin: float | None
    underlyings: dict[str, SpotMoves]
    all_together: SpotMoves
    vol_up: float | None
    vol_down: float | None
    joint: JointMove | None
    notes: tuple[str, ...] = ()
    account: str | None = None
    accounts: list[Breakeven] | None = None


def breakeven(
    portfolio: Portfolio,
    market: Market,
    model: MarginModel,
    *,
    loss: float | None = None,
    horizon_days: float | None = None,
) -> Breakeven:
    """Smallest moves that take equity to maintenance margin (or the loss to ``loss``, USD > 0).

    ``horizon_days`` sizes the joint move's distance; by default the model's own scenario
    horizon (the var model's) or one day.
    """
    if loss is not None and not 0 < loss < math.inf:
        raise InputError(Problem("--loss", f"must be > 0 (USD), found {loss}", "e.g. --loss 50000"))
    if horizon_days is None:
        horizon_days = getattr(getattr(model, "scenario_set", None), "horizon_days", None)
    horizon = DEFAULT_HORIZON_DAYS if horizon_days is None else float(horizon_days)
    if not 0 < horizon < math.inf:
        raise InputError(
            Problem("--horizon-days", f"must be > 0 (days), found {horizon_days}", "e.g. 2")
        )
    if loss is None and not portfolio.has_collateral:
        raise InputError(
            Problem(
                portfolio.source,
                "the portfolio states no collateral, so its equity (and when it meets "
                "maintenance margin) is unknown",
                "Add `collateral:` to the portfolio, or ask for a loss: --loss 100000.",
            )
        )
    accounts = portfolio.accounts
    if len(accounts) <= 1:
        return _one_account(portfolio, market, model, loss, horizon, None)
    parts = [
        _one_account(portfolio.for_account(a), market, model, loss, horizon, a) for a in accounts
    ]
    return _first_to_break(parts)


def _one_account(portfolio, market, model, loss, horizon, account) -> Breakeven:
    book = bind(portfolio, market)
    held = tuple(sorted({str(u) for u in book.underlying_of_positions()[book.quantity != 0]}))
    target = TARGET_LOSS if loss is not None else TARGET_MAINTENANCE
    equity_today = _equity(book)
    maintenance = requirement_with_orders(model, book).maintenance
    common = {
        "model": model.name,
        "target": target,
        "loss": loss,
        "horizon_days": horizon,
        "equity": equity_today,
        "maintenance_margin": maintenance,
        "account": account,
    }
    if loss is None and equity_today is None:
        return Breakeven(
            **common,
            underlyings={u: SpotMoves(None, None) for u in held},
            all_together=SpotMoves(None, None),
            vol_up=None,
            vol_down=None,
            joint=None,
            notes=("no collateral stated: equity unknown",),
        )
    gap = _Gap(book, model, loss)
    here = gap(held, np.zeros(len(held)))
    underlyings = {u: _spot_moves(lambda m, u=u: gap((u,), np.array([m])), here) for u in held}
    together = _spot_moves(lambda m: gap(held, np.full(len(held), m)), here)
    vol_up = _first(lambda v: gap((), np.zeros(0), v), here, UP_MOVES)
    vol_down = _first(lambda v: gap((), np.zeros(0), v), here, DOWN_MOVES)
    joint, notes = _joint(gap, held, market, horizon, here, underlyings, together)
    return Breakeven(
        **common,
        underlyings=underlyings,
        all_together=together,
        vol_up=vol_up,
        vol_down=vol_down,
        joint=joint if joint is None else replace(joint, account=account),
        notes=notes,
    )


class _Gap:
    """``gap(underlyings, moves, vol)``: > 0 while the target is not reached, on the market with
    those underlyings' spots × (1 + move) and every vol × (1 + vol): equity − maintenance margin
    as :class:`~pmargin.portfolio_margin.MaintenanceGap` counts it (liquidation prices count it
    so too), or, with a loss target, ``loss`` + the book's P&L on the move as ``stress`` counts it.
    """

    def __init__(self, book: Book, model: MarginModel, loss: float | None):
        self.loss = loss
        self.book = book
        if loss is None:
            self.maintenance_gap = MaintenanceGap(book, model)
            self.unmarked = self.maintenance_gap.unmarked

    def __call__(self, underlyings, moves: np.ndarray, vol: float = 0.0) -> float:
        if self.loss is not None:
            return self.loss + self.pnl(underlyings, moves, vol)
        moved = self.unmarked
        for underlying, move in zip(underlyings, moves):
            if move != 0:
                moved = moved.with_spot_scaled(underlying, 1.0 + float(move))
        if vol != 0:
            moved = moved.with_vol_scaled(1.0 + vol)
        return self.maintenance_gap(moved)

    def pnl(self, underlyings, moves: np.ndarray, vol: float = 0.0) -> float:
        """The book's P&L (USD) on the move, as ``stress`` values a scenario of it: positions,
        open orders as filled and coin collateral, by the engine (inverse contracts' coin P&L
        at the moved spot)."""
        names = self.book.instruments.underlyings
        spot = np.zeros((len(names), 1))
        for underlying, move in zip(underlyings, moves):
            spot[names.index(underlying), 0] = float(move)
        shocks = move_shocks(tuple(names), spot, np.full_like(spot, float(vol)))
        return float(self.book.net_quantity @ instrument_pnl(self.book.instruments, shocks)[:, 0])


def _equity(book: Book) -> float | None:
    return equity(book, position_values(book))


def _first(gap_of_move, here: float, moves: np.ndarray) -> float | None:
    if here <= 0:
        return 0.0
    return nearest_crossing(gap_of_move, moves, here=here, xtol=MOVE_TOLERANCE)


def _spot_moves(gap_of_move, here: float) -> SpotMoves:
    return SpotMoves(_first(gap_of_move, here, DOWN_MOVES), _first(gap_of_move, here, UP_MOVES))


def _joint(gap, held, market, horizon, here, underlyings, together):
    """The joint move and notes (why there is none)."""
    if not held:
        return None, ()
    missing = [
        f"{a}/{b}"
        for i, a in enumerate(held)
        for b in held[i + 1 :]
        if market.correlation(a, b) is None
    ]
    if missing:
        return None, (f"no joint move: the market has no correlation for {', '.join(missing)}",)
    no_vol = [u for u in held if not market.underlyings[u].has_vol]
    if no_vol:
        return None, (f"no joint move: the market has no vol for {', '.join(no_vol)}",)
    if here <= 0:
        return JointMove({u: 0.0 for u in held}, 0.0), ()
    correlation = np.array([[market.correlation(a, b) for b in held] for a in held])
    try:
        factor = correlation_factor(correlation)
    except NotPositiveSemiDefinite as exc:
        return None, (f"no joint move: the correlations are not consistent ({exc})",)
    # each underlying's vol as Monte Carlo sets size their moves (flat, or 30-day ATM)
    stdev = underlying_vols(market, held, "breakeven") * np.sqrt(horizon / 365.0)
    seeds = [
        np.where(np.array(held) == u, move, 0.0)
        for u, moves in underlyings.items()
        for move in (moves.down, moves.up)
        if move is not None
    ]
    seeds += [np.full(len(held), m) for m in (together.down, together.up) if m is not None]
    found: NearestMove | None = nearest_move(
        lambda moves: gap(held, moves), stdev[:, None] * factor, seeds, here=here
    )
    if found is None:
        return None, ()
    return JointMove(dict(zip(held, found.moves.tolist())), found.distance), ()


def _first_to_break(parts: list[Breakeven]) -> Breakeven:
    """The portfolio's figures from its accounts': sums today, and the smallest moves."""

    def nearest(values):
        values = [v for v in values if v is not None]
        return min(values, key=abs) if values else None

    names = sorted({u for p in parts for u in p.underlyings})
    equities = [p.equity for p in parts if p.equity is not None]
    joints = [p.joint for p in parts if p.joint is not None]
    return Breakeven(
        model=parts[0].model,
        target=parts[0].target,
        loss=parts[0].loss,
        horizon_days=parts[0].horizon_days,
        equity=sum(equities) if equities else None,
        maintenance_margin=sum(p.maintenance_margin for p in parts),
        underlyings={
            u: SpotMoves(
                nearest(p.underlyings[u].down for p in parts if u in p.underlyings),
                nearest(p.underlyings[u].up for p in parts if u in p.underlyings),
            )
            for u in names
        },
        all_together=SpotMoves(
            nearest(p.all_together.down for p in parts), nearest(p.all_together.up for p in parts)
        ),
        vol_up=nearest(p.vol_up for p in parts),
        vol_down=nearest(p.vol_down for p in parts),
        joint=min(joints, key=lambda j: j.distance) if joints else None,
        accounts=parts,
    )
