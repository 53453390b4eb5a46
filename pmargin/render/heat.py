"""Heatmaps readable in 8-colour, 256-colour and truecolor terminals, and without colour.

A :class:`DivergingScale` sorts each value into one of seven bins around 0 — three shades each
side of a neutral band — by its size against the largest magnitude shown. Each bin has a style
for the terminal's colour system, chosen when the table is drawn: the xterm 256-colour palette
(shown exactly by 256-colour and truecolor terminals: light, medium and strong backgrounds), or
the eight standard colours (plain, bold, then white on the colour). A legend line gives each
bin's range, and every cell always shows its value, so nothing depends on the colour alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from rich.console import Console, ConsoleOptions
from rich.style import Style
from rich.text import Text

from .fit import Column, FittedTable

#: |value| / scale below which a value is neutral, and the upper edges of the first two shades
NEUTRAL_BELOW = 0.05
EDGES = (1 / 3, 2 / 3)
#: 256-colour palette: (light, medium, strong) background and the text colour on each
PALETTE_256 = {
    "red": ((224, "black"), (210, "black"), (160, "white")),
    "green": ((194, "black"), (114, "black"), (28, "white")),
    "blue": ((189, "black"), (111, "black"), (25, "white")),
}


@dataclass(frozen=True)
class DivergingScale:
    """Seven bins around 0 over ``[-scale, scale]``: ``negative`` and ``positive`` name the
    colours of each side (red, green, blue)."""

    scale: float
    negative: str = "red"
    positive: str = "green"

    def bin(self, value: float) -> int:
        """−3 … +3: the side and the shade of ``value`` (0 for the neutral band)."""
        if self.scale <= 0:
            return 0
        share = abs(value) / self.scale
        if share < NEUTRAL_BELOW:
            return 0
        shade = 1 + sum(share >= edge for edge in EDGES)
        return shade if value > 0 else -shade

    def style(self, value: float, color_system: str | None) -> Style:
        return self.bin_style(self.bin(value), color_system)

    def bin_style(self, shade: int, color_system: str | None) -> Style:
        if shade == 0 or color_system is None:
            return Style()
        colour = self.positive if shade > 0 else self.negative
        level = abs(shade)
        if color_system in ("256", "truecolor"):
            background, text = PALETTE_256[colour][level - 1]
            return Style(color=text, bgcolor=f"color({background})", bold=level == 3)
        return Style.parse(("", colour, f"bold {colour}", f"bold white on {colour}")[level])

    def legend(self, color_system: str | None, label: Callable[[float], str]) -> Text:
        """``scale: [≤ -29,913] [≤ -14,956] [≤ -2,243] [within ±2,243] [≥ +2,243] ...``"""
        edges = [NEUTRAL_BELOW, *EDGES]
        parts: list[Any] = ["scale: "]
        for shade in (-3, -2, -1, 0, 1, 2, 3):
            if shade == 0:
                text = f"within ±{label(NEUTRAL_BELOW * self.scale).lstrip('+')}"
            else:
                edge = label(edges[abs(shade) - 1] * self.scale * (1 if shade > 0 else -1))
                text = f"{'≥' if shade > 0 else '≤'} {edge}"
            parts += [(f" {text} ", self.bin_style(shade, color_system)), " "]
        return Text.assemble(*parts)


class Heatmap:
    """A grid of values, coloured by a :class:`DivergingScale`, with its legend; rows and
    columns swap when the grid is wider than the terminal, and the outer columns are left out
    (with a note) when even that does not fit."""

    def __init__(
        self,
        corner: str,
        row_labels: list[str],
        column_labels: list[str],
        values: list[list[float]],
        *,
        text: Callable[[float], str],
        scale: DivergingScale,
        title: str = "",
        transposed_corner: str = "",
        diagonal_dim: bool = False,
    ):
        self.corner, self.transposed_corner = corner, transposed_corner or corner
        self.row_labels, self.column_labels = row_labels, column_labels
        self.values, self.text, self.scale = values, text, scale
        self.title, self.diagonal_dim = title, diagonal_dim

    def table(self, color_system: str | None, *, transposed: bool) -> FittedTable:
        rows, columns = self.row_labels, self.column_labels
        values = self.values
        corner = self.corner
        if transposed:
            rows, columns, corner = columns, rows, self.transposed_corner
            values = [list(line) for line in zip(*values)]
        middle = (len(columns) - 1) / 2
        outward = sorted(range(len(columns)), key=lambda j: -abs(j - middle))
        drop = {j: rank + 1 for rank, j in enumerate(outward[: max(len(columns) - 1, 0)])}
        table = FittedTable(
            [Column(corner, number=False, style="bold")]
            + [Column(label, drop=drop.get(j, 0)) for j, label in enumerate(columns)],
            title=self.title,
            title_justify="left",
        )
        for i, (label, line) in enumerate(zip(rows, values)):
            cells = [
                Text(
                    self.text(v),
                    style="dim"
                    if self.diagonal_dim and i == j
                    else self.scale.style(v, color_system),
                )
                for j, v in enumerate(line)
            ]
            table.add_row(label, *cells)
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Any]:
        colours = console.color_system
        wide = self.table(colours, transposed=False)
        every_column = list(range(len(wide.columns)))
        if wide.layout(console, every_column, options.max_width) is not None:
            yield wide
        else:
            yield self.table(colours, transposed=True)
        yield self.scale.legend(colours, self.text)
