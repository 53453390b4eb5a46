"""A CSV of daily closes as a :class:`~pmargin.estimate.PriceHistory` (every cell a number or
missing), for ``pmargin market estimate`` and the var model.

The file is the one historical sets replay (read by
:func:`pmargin.io.historical_file.read_closes`): a ``date`` column (ISO 8601) and one column of
USD closes per coin, named by its code; blank and ``#`` lines are skipped, rows may come in any
date order. An empty cell is a missing close; any other cell must be a positive number.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ProblemCollector
from ..estimate import PriceHistory
from ..values import PRICE_MAX, PRICE_MIN, describe, is_price
from .historical_file import MAX_ROW_PROBLEMS, read_closes


def read_price_history(
    prices: Path, date_column: str, where: str, problems: ProblemCollector
) -> PriceHistory | None:
    """The closes of ``prices`` per coin (upper-case column name), or None after a problem.

    ``where`` says where the date column is named (e.g. "`date_column:` in model.yaml"), for a
    message about it.
    """
    table = read_closes(prices, date_column, where, problems)
    if table is None:
        return None
    closes = {
        column.upper(): parse_closes(raw, table.lines, prices, column, problems)
        for column, raw in table.columns.items()
    }
    if problems:
        return None
    return PriceHistory(str(prices), table.dates, closes, table.lines)


def load_price_history(prices: str | Path, date_column: str = "date") -> PriceHistory:
    """:func:`read_price_history`, raising every problem at once."""
    problems = ProblemCollector()
    history = read_price_history(Path(prices), date_column, "--date-column", problems)
    problems.raise_if_any()
    assert history is not None
    return history


def parse_closes(
    raw: np.ndarray, lines: np.ndarray, prices: Path, column: str, problems: ProblemCollector
) -> np.ndarray:
    """One column's closes (USD); an empty cell is a missing close (NaN)."""
    text = pd.Series(raw, dtype=str).str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(np.float64)
    blank = (text == "").to_numpy()
    bad = np.flatnonzero(~blank & ~is_price(values))
    for row in bad[:MAX_ROW_PROBLEMS]:
        problems.add(
            f"{prices}:{lines[row]}: `{column}`",
            f"expected a positive price ({PRICE_MIN:g} to {PRICE_MAX:g} USD), found "
            f"{describe(text.iloc[row])}",
            "Leave the cell empty for a missing close.",
        )
    if len(bad) > MAX_ROW_PROBLEMS:
        problems.add(f"{prices}: column `{column}`", f"... and {len(bad) - 10} more bad values")
    return np.where(blank, np.nan, values)
