"""Tables of ``pmargin stress`` and ``pmargin scenarios``, the grid heatmap, and a progress bar.

Everything is drawn from the plain dicts of :mod:`pmargin.report.stress`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from ..report.stress import (
    DEFAULT_SHOWN,
    MAX_ACCOUNT_ROWS,
    liquidation_line,
    liquidation_text,
    move_text,
    risk_line,
    set_rows,
    shocks_text,
    shown,
    tidy,
)
from . import STATUS_STYLE, number, stderr_console, usd
from .fit import Column, FittedTable
from .heat import DivergingScale, Heatmap

#: sets with more scenarios than this show a progress bar (when stderr is a terminal)
PROGRESS_ABOVE = 1_000
WORST_STYLE = "bold red"


def print_stress(console: Console, data: dict[str, Any], top: int | None = None) -> None:
    """Per set: scenarios worst first, VaR/ES, heatmap (grid); then the worst and positions."""
    underlyings = list(data["scenarios"][0]["by_underlying"]) if data["scenarios"] else []
    for entry in data["scenario_sets"]:
        rows = shown(set_rows(data, entry["name"]), top)
        console.print(
            Text(entry["name"], style="bold")
            + Text(f" — {entry['kind']}, {entry['count']:,} scenarios (USD, worst first)")
        )
        console.print(scenario_table(entry, rows, underlyings))
        if len(rows) < entry["count"]:
            more = "" if top is not None else "; --top N or --format csv for more"
            console.print(f"the {len(rows)} worst of {entry['count']:,}{more}", style="dim")
        line = risk_line(entry)
        if line:
            console.print(Text(line, style="bold"))
        line = liquidation_line(entry, data)
        if line:
            console.print(Text(line, style="bold red" if entry["liquidation_count"] else "bold"))
        if "grid" in entry:
            console.print(heatmap_table(entry["grid"]))
        console.print()
    worst = data["worst"]
    console.print(
        Text("Worst scenario: ", style="bold")
        + Text(f"{worst['set']} / {worst['name']}: ")
        + Text(f"{usd(tidy(worst['pnl']), signed=True)} USD", style=_pnl_style(worst["pnl"]))
    )
    if "positions" in data:
        console.print()
        console.print(positions_table(data["positions"], worst["pnl"]))
    if "accounts" in data:
        console.print()
        console.print(accounts_table(data))


def accounts_table(data: dict[str, Any]) -> FittedTable:
    """Each account's worst scenario over all sets and its worst P&L per set, largest loss
    first. At a narrow width the per-set columns go first, the last set first."""
    accounts = data["accounts"]
    title = "Accounts, largest loss first (USD)"
    if len(accounts) > MAX_ACCOUNT_ROWS:
        title += f": {MAX_ACCOUNT_ROWS} of {len(accounts):,} (--format csv lists all)"
    sets = data["scenario_sets"]
    columns = [Column("account", number=False), Column("worst scenario", number=False)]
    columns += [Column("P&L")]
    columns += [
        Column(f"{escape(entry['name'])} worst", drop=len(sets) - k) for k, entry in enumerate(sets)
    ]
    table = FittedTable(columns, title=title, title_justify="left")
    for a in accounts.rows(MAX_ACCOUNT_ROWS):
        worst = a["worst"]
        table.add_row(
            escape(a["account"] or "(none)"),
            escape(f"{worst['set']} / {worst['name']}"),
            Text(usd(tidy(worst["pnl"]), signed=True), style=_pnl_style(worst["pnl"])),
            *(usd(tidy(s["worst"]["pnl"]), signed=True) for s in a["scenario_sets"]),
        )
    return table


def scenario_table(entry: dict[str, Any], rows: list[dict], underlyings: list[str]) -> FittedTable:
    """The set's scenarios, a spot, vol and P&L column per underlying. At a narrow width the vol
    columns go first, then the spot columns, then the P&L of the last underlyings, then equity
    (a book with collateral); the status column stays."""
    has_vol = any(
        s["shocks"][u]["vol"] or s["shocks"][u]["vol_shift"] for s in rows for u in underlyings
    )
    count = len(underlyings)
    columns = [Column("scenario", number=False), Column("P&L")]
    for index, u in enumerate(underlyings):
        columns.append(Column(f"{u} spot", drop=count + count - index))
        if has_vol:
            columns.append(Column(f"{u} vol", drop=count - index))
        columns.append(Column(f"{u} P&L", drop=3 * count - index if index else 0))
    with_equity = any(s.get("equity") is not None for s in rows)
    if with_equity:  # the status stays; equity goes after every column above
        columns += [Column("equity", drop=3 * count), Column("status", number=False)]
    table = FittedTable(columns)
    worst_name = entry["worst"]["name"]
    for s in rows:
        cells: list[Any] = [escape(s["name"]), Text(usd(tidy(s["pnl"]), signed=True))]
        for u in underlyings:
            shock = s["shocks"][u]
            cells.append(move_text(shock["spot"], "spot"))
            if has_vol:
                vol = {k: shock[k] for k in ("vol", "vol_shift")}
                cells.append(shocks_text(vol).replace("vol shift ", "").replace("vol ", ""))
            cells.append(usd(tidy(s["by_underlying"][u]), signed=True))
        if with_equity:
            cells.append(usd(s["equity"]))
            cells.append(Text(liquidation_text(s), style=STATUS_STYLE["liquidation"]))
        table.add_row(*cells, style=WORST_STYLE if s["name"] == worst_name else None)
    return table


def heatmap_table(grid: dict[str, Any]) -> Heatmap:
    """Spot × vol P&L: a row per vol move and a column per spot move (swapped when too wide);
    losses red, gains green, in three shades each with a legend; every cell shows its P&L."""
    label = "vol shift" if grid["vol_kind"] == "vol_shift" else "vol"
    scale = max((abs(v) for row in grid["pnl"] for v in row), default=0.0)
    return Heatmap(
        f"{label} \\ spot",
        [move_text(vol, grid["vol_kind"]) for vol in grid["vol"]],
        [move_text(move, "spot") for move in grid["spot"]],
        grid["pnl"],
        text=lambda v: usd(tidy(v), signed=True),
        scale=DivergingScale(scale),
        title=f"P&L heatmap (USD) by spot and {label}",
        transposed_corner=f"spot \\ {label}",
    )


def positions_table(positions: list[dict[str, Any]], total: float) -> FittedTable:
    title = f"Positions in the worst scenario (USD, worst first; total {usd(total, signed=True)})"
    if len(positions) > DEFAULT_SHOWN:
        title += f" — {DEFAULT_SHOWN} of {len(positions):,}; --format csv lists all"
    columns = [Column("id", number=False), Column("instrument", number=False, drop=2)]
    columns += [Column("quantity", drop=1), Column("P&L"), Column("share")]
    table = FittedTable(columns, title=title, title_justify="left")
    for p in positions[:DEFAULT_SHOWN]:
        share = f"{p['pnl'] / total:.1%}" if total else "—"
        table.add_row(
            escape(p["id"]),
            escape(p["instrument"]),
            number(p["quantity"]),
            Text(usd(p["pnl"], signed=True), style=_pnl_style(p["pnl"])),
            share,
        )
    return table


def _pnl_style(pnl: float) -> str:
    return "red" if pnl < 0 else "green" if pnl > 0 else ""


@contextmanager
def stress_progress(total_scenarios: int) -> Iterator[Any]:
    """A ``progress(set, done, count)`` callback drawing a bar on stderr, or None.

    Only for more than :data:`PROGRESS_ABOVE` scenarios and when stderr is a terminal.
    """
    if total_scenarios <= PROGRESS_ABOVE or not sys.stderr.isatty():
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=stderr_console(), transient=True) as bar:
        task = bar.add_task("Valuing scenarios", total=total_scenarios)
        state = {"set": None, "done": 0}

        def advance(name: str, done: int, count: int) -> None:
            if name != state["set"] or done < state["done"]:
                state["set"], state["done"] = name, 0
            bar.update(task, advance=done - state["done"], description=f"Valuing {name}")
            state["done"] = done

        yield advance
