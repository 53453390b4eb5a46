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
from rich.style import Style
from rich.table import Table
from rich.text import Text

from ..report.stress import (
    DEFAULT_SHOWN,
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

#: sets with more scenarios than this show a progress bar (when stderr is a terminal)
PROGRESS_ABOVE = 1_000
WORST_STYLE = "bold red"
LOSS_RGB, GAIN_RGB, NEUTRAL_RGB = (200, 30, 30), (30, 150, 60), (70, 70, 70)
MIN_TINT = 0.2  # the least colour of a non-zero cell, so a small gain is not grey


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


def scenario_table(entry: dict[str, Any], rows: list[dict], underlyings: list[str]) -> Table:
    table = Table()
    table.add_column("scenario", no_wrap=False)
    table.add_column("P&L", justify="right", no_wrap=True)
    has_vol = any(
        s["shocks"][u]["vol"] or s["shocks"][u]["vol_shift"] for s in rows for u in underlyings
    )
    for u in underlyings:
        table.add_column(f"{u} spot", justify="right", no_wrap=True)
        if has_vol:
            table.add_column(f"{u} vol", justify="right", no_wrap=True)
        table.add_column(f"{u} P&L", justify="right", no_wrap=True)
    with_equity = any(s.get("equity") is not None for s in rows)
    if with_equity:
        table.add_column("equity", justify="right", no_wrap=True)
        table.add_column("status", no_wrap=True)
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


def heatmap_table(grid: dict[str, Any]) -> Table:
    """Spot × vol P&L: a row per vol move, a column per spot move; red losses, green gains."""
    label = "vol shift" if grid["vol_kind"] == "vol_shift" else "vol"
    table = Table(title=f"P&L heatmap (USD): {label} × spot", title_justify="left")
    table.add_column(f"{label} \\ spot", justify="right", style="bold")
    for move in grid["spot"]:
        table.add_column(move_text(move, "spot"), justify="right", no_wrap=True)
    scale = max((abs(v) for row in grid["pnl"] for v in row), default=0.0)
    for vol, row in zip(grid["vol"], grid["pnl"]):
        cells = [Text(usd(tidy(v), signed=True), style=heat_style(v, scale)) for v in row]
        table.add_row(move_text(vol, grid["vol_kind"]), *cells)
    return table


def heat_style(pnl: float, scale: float, colours=(LOSS_RGB, GAIN_RGB)) -> Style:
    """Background from grey (small) to red (the largest loss) or green (the largest gain);
    ``colours`` are the (negative, positive) ends for other quantities."""
    if scale <= 0 or tidy(pnl) == 0:
        return Style()
    share = MIN_TINT + (1.0 - MIN_TINT) * min(abs(pnl) / scale, 1.0)
    target = colours[0] if pnl < 0 else colours[1]
    rgb = [round(n + (t - n) * share) for n, t in zip(NEUTRAL_RGB, target)]
    return Style(color="white", bgcolor=f"rgb({rgb[0]},{rgb[1]},{rgb[2]})")


def positions_table(positions: list[dict[str, Any]], total: float) -> Table:
    title = f"Positions in the worst scenario (USD, worst first; total {usd(total, signed=True)})"
    if len(positions) > DEFAULT_SHOWN:
        title += f" — {DEFAULT_SHOWN} of {len(positions):,}; --format csv lists all"
    table = Table(title=title, title_justify="left")
    for name in ("id", "instrument", "qty", "P&L", "share"):
        table.add_column(name, justify="left" if name in ("id", "instrument") else "right")
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
