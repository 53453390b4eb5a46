"""The PASS/FAIL table of ``pmargin check``."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..report import limits_headline
from ..report.check import check_label, format_value


def check_table(data: dict[str, Any]) -> Table:
    headline = limits_headline(data["passed"], data["breaches"], len(data["checks"]))
    title = (
        f"[bold green]PASS[/]: {headline}" if data["passed"] else f"[bold red]FAIL[/]: {headline}"
    )
    caption = f"model {data['model']} · limits {data['limits']}"
    if data["scenario_sets"]:
        caption += " · scenario sets " + ", ".join(data["scenario_sets"])
    table = Table(
        title=title, caption=escape(caption), title_justify="left", caption_justify="left"
    )
    has_accounts = any(c["account"] is not None for c in data["checks"])
    table.add_column("result")
    if has_accounts:
        table.add_column("account")
    table.add_column("check")
    for name in ("value", "limit", "headroom"):
        table.add_column(name, justify="right")
    table.add_column("unit")
    table.add_column("note")
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
