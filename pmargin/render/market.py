"""Tables of ``pmargin market estimate``: vols, and the correlation matrix as a heatmap grid.

Drawn from the plain rows of :func:`pmargin.report.market.estimate_rows`.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from . import usd
from .fit import Column, FittedTable
from .heat import DivergingScale, Heatmap


def print_estimate(console: Console, title: str, rows: list[dict[str, Any]]) -> None:
    """The vol table, then (two coins or more) the correlation heatmap."""
    console.print(Text(title, style="bold"))
    console.print(vol_table(rows))
    if len(rows) > 1:
        console.print(correlation_grid(rows))


def vol_table(rows: list[dict[str, Any]]) -> FittedTable:
    columns = [Column("underlying", number=False), Column("vol")]
    columns += [Column("last close (USD)", drop=1), Column("returns", drop=2)]
    table = FittedTable(
        columns, title="Annualised vol of daily log returns (× √365)", title_justify="left"
    )
    for row in rows:
        table.add_row(
            row["underlying"], f"{row['vol']:.2%}", usd(row["spot"]), f"{row['returns']:,}"
        )
    return table


def correlation_grid(rows: list[dict[str, Any]]) -> Heatmap:
    """The correlation matrix, shaded red (+1, moving together) to blue (−1), with a legend."""
    codes = [row["underlying"] for row in rows]
    return Heatmap(
        "",
        codes,
        codes,
        [[row[code] for code in codes] for row in rows],
        text=lambda v: f"{v:+.3f}",
        scale=DivergingScale(1.0, negative="blue", positive="red"),
        title="Correlation",
        diagonal_dim=True,
    )
