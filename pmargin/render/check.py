"""The PASS/FAIL table of ``pmargin check``."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from ..report import limits_headline
from ..report.check import check_label, format_value
from ..report.records import Records
from .fit import Column, FittedTable

#: the table lists every check up to this many, else the breaches (up to this many)
MAX_CHECK_ROWS = 200


def check_table(data: dict[str, Any]) -> FittedTable:
    records = data["checks"]
    total = len(records)
    headline = limits_headline(data["passed"], data["breaches"], total)
    title = (
        f"[bold green]PASS[/]: {headline}" if data["passed"] else f"[bold red]FAIL[/]: {headline}"
    )
    caption = f"model {data['model']} · limits {data['limits']}"
    if total > MAX_CHECK_ROWS:
        breaches = records.frame[~records.frame["passed"].to_numpy(bool)]
        records = Records(breaches.iloc[:MAX_CHECK_ROWS], records.layout)
        caption += (
            f" · {total:,} checks: showing {len(records):,} breaches "
            "(--format csv or json lists all)"
        )
    checks = records.rows()
    if data["scenario_sets"]:
        caption += " · scenario sets " + ", ".join(data["scenario_sets"])
    has_accounts = any(c["account"] is not None for c in checks)
    columns = [Column("result", number=False)]
    columns += [Column("account", number=False)] if has_accounts else []
    columns += [Column("check", number=False), Column("value"), Column("limit")]
    columns += [Column("headroom"), Column("unit", number=False, drop=2)]
    columns += [Column("note", number=False, drop=1)]
    table = FittedTable(
        columns, title=title, caption=escape(caption), title_justify="left", caption_justify="left"
    )
    for check in checks:
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
