"""The PASS/FAIL table of ``pmargin check``."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..report.check import check_label, format_value
from ..report.records import Records

#: the table lists every check up to this many, else the breaches (up to this many)
MAX_CHECK_ROWS = 200


def check_table(data: dict[str, Any]) -> Table:
    records = data["checks"]
    total = len(records)
    if data["passed"]:
        title = f"[bold green]PASS[/]: all {total} limits hold"
    else:
        title = f"[bold red]FAIL[/]: {data['breaches']} of {total} limits breached"
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
    table = Table(
        title=title, caption=escape(caption), title_justify="left", caption_justify="left"
    )
    has_accounts = any(c["account"] is not None for c in checks)
    table.add_column("result")
    if has_accounts:
        table.add_column("account")
    table.add_column("check")
    for name in ("value", "limit", "headroom"):
        table.add_column(name, justify="right")
    table.add_column("unit")
    table.add_column("note")
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
