"""Trades for ``pmargin whatif``: ``--add INSTRUMENT:QUANTITY`` values and files of trades.

* ``BTC-27DEC24-60000-C:-5`` — an exchange-style symbol (SPEC §2), a colon, signed contracts
  (+ buy, − sell); the symbol is expanded by the portfolio loaders' own row parser;
* a path ending in ``.csv``, ``.yaml`` or ``.yml`` — a portfolio file (same columns, symbols
  and checks as ``pmargin compute`` reads) whose positions and orders are the trades, in file
  order. It may not state collateral: a deposit is not a trade. ``entry_price`` is the price a
  trade is done at (default: the mark).

Every bad value is reported at once, each naming the ``--add`` value or the file line.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import InputError, Problem, ProblemCollector
from ..portfolio import POSITION_COLUMNS
from .portfolio_file import load_portfolio
from .position_rows import build_positions

TRADE_FILE_SUFFIXES = (".csv", ".yaml", ".yml")
EXAMPLE = "BTC-27DEC24-60000-C:-5"


def load_trades(values: list[str], *, account: str = "") -> pd.DataFrame:
    """Trades as position rows (:data:`~pmargin.portfolio.POSITION_COLUMNS`), in the order
    given; ``account`` goes to every trade that names none."""
    if not values:
        raise InputError(
            Problem("--add", "no trades given", f"Add one: --add {EXAMPLE}, or --add trades.csv.")
        )
    problems = ProblemCollector()
    parts = []
    for value in values:
        if value.strip().lower().endswith(TRADE_FILE_SUFFIXES):
            parts.append(_trade_file(value.strip()))
        else:
            parts.append(_trade_value(value, problems))
    problems.raise_if_any()
    trades = pd.concat([p for p in parts if p is not None], ignore_index=True)
    if account:
        trades["account"] = trades["account"].where(trades["account"] != "", account)
    return trades[list(POSITION_COLUMNS)]


def _trade_value(value: str, problems: ProblemCollector) -> pd.DataFrame | None:
    """One ``INSTRUMENT:QUANTITY`` value, through the portfolio row parser."""
    instrument, colon, quantity = value.strip().rpartition(":")
    where = f"--add {value}"
    if not colon or not instrument.strip() or not quantity.strip():
        problems.add(
            where,
            "expected INSTRUMENT:QUANTITY or a .csv/.yaml file of trades",
            f"e.g. --add {EXAMPLE} (sell 5 calls) or --add trades.csv",
        )
        return None
    frame = pd.DataFrame({"instrument": [instrument.strip()], "quantity": [quantity.strip()]})
    sources = pd.Series([where])
    return build_positions(frame, sources, problems, default_ids=pd.Series([value.strip()]))


def _trade_file(value: str) -> pd.DataFrame:
    portfolio = load_portfolio(Path(value))
    if portfolio.has_collateral:
        raise InputError(
            Problem(
                f"{value}: collateral",
                "a trades file holds trades, not collateral",
                "Remove `collateral:` (deposit it in the portfolio file instead).",
            )
        )
    return portfolio.positions
