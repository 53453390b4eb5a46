"""Tables of ``pmargin models list`` and ``pmargin models show``."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from .fit import Column, FittedTable


def print_models(console: Console, rows: list[dict[str, Any]]) -> None:
    """The bundled models, one row each."""
    columns = [Column("name", number=False, style="bold"), Column("method", number=False)]
    columns += [Column("description", number=False)]
    table = FittedTable(columns, title="Margin models", title_justify="left")
    for row in rows:
        table.add_row(escape(row["name"]), escape(row["method"]), escape(row["description"]))
    console.print(table)
    console.print(
        Text("`pmargin models show NAME` prints a model's parameters and sources.", style="dim")
    )


def print_model(console: Console, data: dict[str, Any], parameters: list[dict[str, str]]) -> None:
    """A model's header (method, file, description, source) and its parameters."""
    console.print(
        Text("Model ", style="bold")
        + Text(data["name"], style="bold cyan")
        + Text(f"  (method {data['method']})")
    )
    console.print(Text("File: ", style="bold") + Text(data["file"]))
    console.print(Text("Description: ", style="bold") + Text(data["description"]))
    console.print(Text("Source: ", style="bold") + Text(data["source"]))
    console.print()
    columns = [Column("parameter", number=False), Column("value", number=False, justify="right")]
    columns += [Column("source", number=False)]
    table = FittedTable(columns, title="Parameters", title_justify="left")
    for row in parameters:
        source = "model source (above)" if row["source"] == data["source"] else row["source"]
        table.add_row(escape(row["parameter"]), escape(row["value"]), escape(source))
    console.print(table)
    console.print(
        Text("Copy the file, change a parameter and pass it with `--model my.yaml`.", style="dim")
    )
