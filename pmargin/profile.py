"""P&L against spot, one underlying at a time, through a margin model's range (for charts).

For each underlying the book holds, its spot alone moves (relative, vols unchanged, no time
shock; every other underlying stays put) over :data:`PLOT_SPAN` times the model's full-weight
spot range, and the book's USD P&L is taken at each point. The model's range is the least and
largest spot move among its scenarios that count in full (deribit's risk-matrix grid for the
pair, derive's undampened scenarios, SPAN's scan range, TIMS's class range, the moves of
``var``); weighted extremes are left out, and a model without scenarios (``standard``) uses
:data:`DEFAULT_RANGE`. All underlyings are
valued in one engine pass (a block of scenarios per underlying).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np

from .book import Book
from .engine import instrument_pnl
from .margin import MarginModel
from .scenarios import move_shocks

#: the spot range of a model without scenarios
DEFAULT_RANGE = (-0.30, 0.30)
#: the chart runs over this multiple of the model's range, to show what lies beyond it
PLOT_SPAN = 1.5
POINTS = 61


@dataclass(frozen=True)
class SpotProfile:
    """The book's USD P&L as one underlying's spot moves; ``moves`` are relative (−0.2 = −20%)."""

    underlying: str
    spot: float
    moves: np.ndarray
    pnl: np.ndarray
    model_range: tuple[float, float]


def spot_profiles(book: Book, model: MarginModel, points: int = POINTS) -> list[SpotProfile]:
    """One :class:`SpotProfile` per underlying of ``book``, in the book's order."""
    table = book.instruments
    underlyings = table.underlyings
    ranges = _model_ranges(book, model)
    moves = [
        np.unique(np.append(np.linspace(PLOT_SPAN * low, PLOT_SPAN * high, points), 0.0))
        for low, high in ranges
    ]
    count = sum(len(m) for m in moves)
    spot = np.zeros((len(underlyings), count))
    blocks = np.cumsum([0, *(len(m) for m in moves)])
    for index, block_moves in enumerate(moves):
        spot[index, blocks[index] : blocks[index + 1]] = block_moves
    shocks = move_shocks(underlyings, spot, np.zeros_like(spot))
    pnl = book.net_quantity @ instrument_pnl(table, shocks)
    return [
        SpotProfile(
            underlying=underlying,
            spot=float(book.market.spot(underlying)),
            moves=moves[index],
            pnl=pnl[blocks[index] : blocks[index + 1]],
            model_range=ranges[index],
        )
        for index, underlying in enumerate(underlyings)
    ]


def _model_ranges(book: Book, model: MarginModel) -> list[tuple[float, float]]:
    """The least and largest full-weight spot move of ``model`` for each underlying."""
    underlyings = book.instruments.underlyings
    moves = _full_weight_moves(book, model)
    if moves is None or moves.shape[1] == 0:
        return [DEFAULT_RANGE] * len(underlyings)
    low, high = moves.min(axis=1), moves.max(axis=1)
    return [(float(lo), float(hi)) if hi > lo else DEFAULT_RANGE for lo, hi in zip(low, high)]


def _full_weight_moves(book: Book, model: MarginModel) -> np.ndarray | None:
    """(U, K) relative spot moves that ``model`` counts in full, or None for a model without
    scenarios. Each model states its scenarios in its own way: deribit's risk-matrix grid (its
    extended moves count in part), derive's undampened scenarios, and the shocks of the others
    (span, tims, var) whose weight is 1."""
    underlyings = book.instruments.underlyings
    if hasattr(model, "scenario_moves"):  # deribit
        spot, _ = model.scenario_moves(underlyings)
        return spot[:, : model.settings.grid_count]
    settings = getattr(model, "settings", None)
    if hasattr(settings, "dampening") and hasattr(settings, "moves"):  # derive
        full = np.asarray(settings.moves)[np.asarray(settings.dampening) >= 1.0]
        return np.tile(full, (len(underlyings), 1))
    shocks_of = getattr(model, "shocks", None)
    if shocks_of is None:
        return None
    needs_market = "market" in inspect.signature(shocks_of).parameters
    shocks = shocks_of(underlyings, book.market) if needs_market else shocks_of(underlyings)
    return shocks.spot[:, shocks.weight >= 1.0]
