"""Tables that never cut a number, at any terminal width.

A :class:`FittedTable` is built like a rich ``Table`` (columns, then rows) and fitted to the width
it is drawn at: numbers are never wrapped or cut (each number column is as wide as its widest
cell), names wrap only between words (a text column is at least as wide as its longest word), and
when the table is still too wide whole columns are left out in the order their
:class:`Column` states, with a line under the table that says which and how to see them
(``--wide``, a wider terminal, or ``--format csv``). Nothing is ever shown as ``…``. When the
columns always kept (``drop=0``) are still too wide, long names break within words (down to
:data:`FOLD_WIDTH`); when even that does not fit, the table is drawn at the width it needs: its
lines run past the edge (a terminal wraps them), and nothing is cut.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rich.console import Console, ConsoleOptions
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

#: how to see what was left out
SEE_MORE = "Show them with --wide, in a wider terminal, or with --format csv."
#: a width no table reaches: where a table's natural width is measured
UNBOUNDED = 100_000
#: the least width of a name column whose words break (when nothing else makes a table fit)
FOLD_WIDTH = 10


@dataclass(frozen=True)
class Column:
    """A table column. ``number``: its cells are numbers (right-aligned, never wrapped or cut);
    otherwise names, wrapped between words only. ``drop``: the order in which it is left out
    when the table does not fit (1 first, then 2, ...); 0 keeps it always."""

    header: str
    number: bool = True
    drop: int = 0
    justify: str | None = None
    style: str | None = None


def plain(cell: Any) -> str:
    """The text a cell shows (markup resolved)."""
    if isinstance(cell, Text):
        return cell.plain
    return Text.from_markup(str(cell)).plain


def longest_word(text: str) -> int:
    return max((len(word) for word in text.split()), default=0)


class FittedTable:
    """A rich table fitted to the width it is drawn at (see the module docstring)."""

    def __init__(self, columns: list[Column], **table_options: Any):
        self.columns = list(columns)
        self.table_options = table_options
        self.rows: list[tuple[list[Any], dict[str, Any]]] = []

    def add_row(self, *cells: Any, style: Any = None, end_section: bool = False) -> None:
        self.rows.append((list(cells), {"style": style, "end_section": end_section}))

    def widths(self, index: int) -> tuple[int, int]:
        """The least and the natural width of column ``index``: a number column is always as
        wide as its widest cell; a name column at least as wide as its longest word."""
        column = self.columns[index]
        texts = [plain(cells[index]) for cells, _ in self.rows]
        lines = [line for text in [column.header, *texts] for line in text.splitlines()]
        natural = max(map(len, lines), default=0)
        if column.number:
            least = max([longest_word(column.header), *(len(t) for t in texts)])
        else:
            least = max([longest_word(t) for t in [column.header, *texts]], default=0)
        return least, max(natural, least)

    def table(self, kept: list[int], widths: list[int] | None = None) -> Table:
        """The rich table of the columns ``kept``, each ``widths`` wide (or as rich likes)."""
        table = Table(**self.table_options)
        for position, index in enumerate(kept):
            column = self.columns[index]
            table.add_column(
                column.header,
                justify=column.justify or ("right" if column.number else "left"),
                no_wrap=column.number,
                overflow="fold",
                width=None if widths is None else widths[position],
                style=column.style,
            )
        for cells, options in self.rows:
            table.add_row(*(cells[i] for i in kept), **options)
        return table

    def layout(
        self, console: Console, kept: list[int], width: int, fold: bool = False
    ) -> list[int] | None:
        """Column widths for ``kept`` within ``width``: numbers whole, names wrapped between
        words (``fold``: within a word too, down to :data:`FOLD_WIDTH`) and given what room is
        left; None when even that does not fit."""
        ranges = [self.widths(i) for i in kept]
        overhead = natural_width(console, self.table(kept, [1] * len(kept))) - len(kept)
        room = width - overhead
        if sum(natural for _, natural in ranges) <= room:
            return [natural for _, natural in ranges]
        fixed = self.least(kept, fold)
        spare = room - sum(fixed)
        if spare < 0:
            return None
        numbers = [self.columns[i].number for i in kept]
        for position in sorted(range(len(kept)), key=lambda p: ranges[p][1]):
            if not numbers[position]:  # the narrowest names first get all they want
                extra = min(spare, ranges[position][1] - fixed[position])
                fixed[position] += extra
                spare -= extra
        return fixed

    def fit(self, console: Console, width: int) -> tuple[Table, list[str]]:
        """The table with as many columns as fit ``width``, and the headers left out."""
        kept = list(range(len(self.columns)))
        order = sorted((c.drop, i) for i, c in enumerate(self.columns) if c.drop)
        dropped: list[str] = []
        widths = self.layout(console, kept, width)
        while widths is None and order:
            _, index = order.pop(0)
            kept.remove(index)
            dropped.append(self.columns[index].header.replace("\n", " "))
            widths = self.layout(console, kept, width)
        if widths is None:  # nothing more to leave out: long names break within words
            widths = self.layout(console, kept, width, fold=True)
        if widths is None:  # still too wide: whole, wider than ``width``
            widths = self.least(kept)
        return self.table(kept, widths), dropped

    def least(self, kept: list[int], fold: bool = False) -> list[int]:
        """The least widths of ``kept`` that cut nothing: numbers whole, names their longest
        word (``fold``: at most :data:`FOLD_WIDTH`, a longer word breaking across lines)."""
        widths = []
        for i in kept:
            least, natural = self.widths(i)
            if self.columns[i].number:
                widths.append(natural)
            elif fold:  # never below the header's longest word
                widths.append(min(least, max(FOLD_WIDTH, longest_word(self.columns[i].header))))
            else:
                widths.append(least)
        return widths

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Any]:
        table, dropped = self.fit(console, options.max_width)
        needed = natural_width(console, table) if table.columns[0].width else 0
        if needed > options.max_width:  # narrower than the kept columns: lines run past the
            # edge (a terminal wraps them) rather than cut a number or a name
            table.expand = False
            yield from console.render(table, options.update(width=needed, max_width=needed))
        else:
            yield table
        if dropped:
            yield left_out_note(dropped, options.max_width)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        table, _ = self.fit(console, options.max_width)
        return Measurement.get(console, options, table)


def natural_width(console: Console, renderable: Any) -> int:
    """The least width ``renderable`` needs without cutting anything."""
    return Measurement.get(console, console.options.update_width(UNBOUNDED), renderable).minimum


def left_out_note(headers: list[str], width: int) -> Text:
    """``Left out to fit 80 columns: gamma, vega. Show them with --wide, ...``"""
    return Text(f"Left out to fit {width} columns: {', '.join(headers)}. {SEE_MORE}", style="dim")
