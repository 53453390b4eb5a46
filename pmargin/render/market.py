"""Tables of ``pmargin market estimate``: vols, and the correlation matrix as a heatmap grid.

Drawn from the plain rows of :func:`pmargin.report.market.estimate_rows`.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import usd
from .stress import heat_style

#: correlation heatmap ends: negative blue, positive red (co-movement is concentration risk)
NEGATIVE_RGB, POSITIVE_RGB = (40, 90, 200), (200, 30, 30)


def print_estimate(console: Console, title: str, rows: list[dict[str, Any]]) -> None:
    """The vol table, then (two coins or more) the correlation heatmap."""
    console.print(Text(title, style="bold"))
    console.print(vol_table(rows))
    if len(rows) > 1:
        console.print(correlation_grid(rows))


def vol_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="Annualised vol of daily log returns (× √365)", title_justify="left")
    for name in ("underlying", "vol", "last close (USD)", "returns"):
        table.add_column(name, justify="left" if name == "underlying" else "right")
    for row in rows:
        table.add_row(
            row["underlying"], f"{row['vol']:.2%}", usd(row["spot"]), f"{row['returns']:,}"
        )
    return table


def correlation_grid(rows: list[dict[str, Any]]) -> Table:
    """The correlation matrix, each cell shaded from grey (0) to red (+1) or blue (−1)."""
    codes = [row["underlying"] for row in rows]
    table = Table(title="Correlation", title_justify="left")
    table.add_column("", style="bold")
    for code in codes:
        table.add_column(code, justify="right", no_wrap=True)
    for row in rows:
        cells = [
            Text(
                f"{row[code]:+.3f}",
                style="dim"
                if code == row["underlying"]
                else heat_style(row[code], 1.0, (NEGATIVE_RGB, POSITIVE_RGB)),
            )
            for code in codes
        ]
        table.add_row(row["underlying"], *cells)
    return table
