"""Terminal views of the bundled scenario library (``pmargin scenarios list | show``)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from ..report.scenarios import parameter_rows, shocks_text
from ..scenarios import DEFAULT_KEY
from . import number
from .fit import Column, FittedTable


def print_library(console: Console, rows: list[dict[str, Any]]) -> None:
    columns = [Column("name", number=False, style="bold"), Column("kind", number=False)]
    columns += [Column("scenarios"), Column("description", number=False)]
    table = FittedTable(
        columns, title="Bundled scenario sets (pmargin scenarios show NAME)", title_justify="left"
    )
    for row in rows:
        table.add_row(
            escape(row["name"]), row["kind"], f"{row['count']:,}", escape(row["description"])
        )
    console.print(table)


def print_scenario_set(console: Console, data: dict[str, Any]) -> None:
    console.print(
        Text(data["name"], style="bold")
        + Text(f" — {data['kind']}, {data['count']:,} scenarios  ({data['source']})")
    )
    if data["description"]:
        console.print(escape(data["description"]))
    parameters = parameter_rows(data)
    if parameters:
        table = FittedTable(
            [Column("", number=False), Column("", number=False)],
            show_header=False,
            box=None,
            padding=(0, 2),
        )
        for key, value in parameters:
            table.add_row(key, escape(str(value)))
        console.print(table)
    if "scenarios" not in data:
        return
    keys = data["underlyings"]
    columns = [Column("scenario", number=False)]
    columns += [Column("others (*)" if u == DEFAULT_KEY else u, number=False) for u in keys]
    table = FittedTable([*columns, Column("days")], title="Shocks", title_justify="left")
    for s in data["scenarios"]:
        table.add_row(
            escape(s["name"]),
            *[shocks_text(s["shocks"][u]) for u in keys],
            number(s["days"]),
        )
    console.print(table)
