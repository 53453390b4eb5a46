"""The table of ``pmargin breakeven``: the smallest moves that break the account.

A :class:`~pmargin.render.fit.FittedTable` of three columns (move, down, up): it fits 80
columns as it is, and never cuts a number.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from . import usd
from .fit import Column, FittedTable


def _move(value: float | None) -> str:
    return "—" if value is None else f"{value:+.2%}"


def moves_table(part: dict[str, Any], title: str) -> FittedTable:
    columns = [Column("move", number=False), Column("down"), Column("up")]
    table = FittedTable(columns, title=Text(title), title_justify="left")
    for underlying, moves in part["underlyings"].items():
        table.add_row(
            Text(f"{underlying} spot"), _move(moves["spot_down"]), _move(moves["spot_up"])
        )
    together = part["all_together"]
    table.add_row("all spots together", _move(together["spot_down"]), _move(together["spot_up"]))
    table.add_row("every implied vol", _move(part["vol_down"]), _move(part["vol_up"]))
    return table


def joint_line(part: dict[str, Any], horizon_days: float) -> str:
    joint = part["joint"]
    if joint is None:
        notes = f" ({'; '.join(part['notes'])})" if part["notes"] else ""
        return f"Most plausible joint move: none{notes}"
    moves = ", ".join(f"{u} {_move(m)}" for u, m in joint["moves"].items())
    return (
        f"Most plausible joint move: {moves} — {joint['distance']:.2f} standard deviations "
        f"over {horizon_days:g} day(s)"
    )


def print_breakeven(console: Console, data: dict[str, Any]) -> None:
    goal = (
        "equity meets maintenance margin"
        if data["target"] == "maintenance"
        else f"the loss reaches {usd(data['loss'])} USD"
    )
    parts = data.get("accounts") or [data]
    for index, part in enumerate(parts):
        if index:
            console.print()
        name = f" — account {part['account']}" if part.get("account") else ""
        title = f"Breakeven — model {data['model']}{name}: moves at which {goal}"
        console.print(moves_table(part, title))
        if data["target"] == "maintenance" and part["equity"] is not None:
            console.print(
                Text(
                    f"Today: equity {usd(part['equity'])} USD, maintenance margin "
                    f"{usd(part['maintenance_margin'])} USD"
                )
            )
        console.print(Text(joint_line(part, data["horizon_days"])))
