"""The PASS/FAIL table of ``pmargin check``."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from ..report import limits_headline
from ..report.check import check_label, format_value
from .fit import Column, FittedTable


def check_table(data: dict[str, Any]) -> FittedTable:
    headline = limits_headline(data["passed"], data["breaches"], len(data["checks"]))
    title = (
        f"[bold green]PASS[/]: {headline}" if data["passed"] else f"[bold red]FAIL[/]: {headline}"
    )
    caption = f"model {data['model']} · limits {data['limits']}"
    if data["scenario_sets"]:
        caption += " · scenario sets " + ", ".join(data["scenario_sets"])
    has_accounts = any(c["account"] is not None for c in data["checks"])
    columns = [Column("result", number=False)]
    columns += [Column("account", number=False)] if has_accounts else []
    columns += [Column("check", number=False), Column("value"), Column("limit")]
    columns += [Column("headroom"), Column("unit", number=False, drop=2)]
    columns += [Column("note", number=False, drop=1)]
    table = FittedTable(
        columns, title=title, caption=escape(caption), title_justify="left", caption_justify="left"
    )
    for check in data["checks"]:
        passed = check["passed"]
        row = [Text("PASS", style="bold green") if passed else Text("FAIL", style="bold red")]
        if has_accounts:
            row.append(escape(check["account"] or "(none)"))
        row += [
            escape(check_label(check)),
            format_value(check["value"]),
            format_value(check["limit"]),
            Text(format_value(check["headroom"]), style="" if passed else "red"),
            escape(check["unit"]),
            escape(check.get("detail", "")),
        ]
        table.add_row(*row)
    return table


def print_check(console: Console, data: dict[str, Any]) -> None:
    console.print(check_table(data))
