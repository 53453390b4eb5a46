"""The ``breakeven`` report: SPEC §9 JSON keys, CSV rows (one per move) and markdown.

JSON::

    {"model": "deribit", "target": "maintenance", "loss": null, "horizon_days": 1.0,
     "equity": 0.0, "maintenance_margin": 0.0,
     "underlyings": {"BTC": {"spot_down": -0.0, "spot_up": 0.0}},
     "all_together": {"spot_down": -0.0, "spot_up": 0.0},
     "vol_up": 0.0, "vol_down": -0.0,
     "joint": {"moves": {"BTC": -0.0, "ETH": -0.0}, "distance": 0.0},
     "notes": [],
     "accounts": [{"account": "...", ...the same keys...}]}

Moves are relative (−0.25 = spot × 0.75; ``vol_up`` 0.5 = every vol × 1.5), the smallest that
reach the target; null where none in [−0.99, +9] does. ``target`` is ``maintenance`` (equity
meets maintenance margin) or ``loss`` (the loss reaches ``loss`` USD). ``distance`` is the joint
move's Mahalanobis distance in standard deviations over ``horizon_days``. With several accounts
the top-level moves are the smallest over ``accounts`` (the first account to break).
"""

from __future__ import annotations

from typing import Any

from ..reverse_stress import Breakeven, SpotMoves
from . import clean, markdown_table


def _moves(moves: SpotMoves) -> dict[str, float | None]:
    return {"spot_down": moves.down, "spot_up": moves.up}


def _body(result: Breakeven) -> dict[str, Any]:
    joint = result.joint
    return {
        "equity": result.equity,
        "maintenance_margin": result.maintenance_margin,
        "underlyings": {u: _moves(m) for u, m in result.underlyings.items()},
        "all_together": _moves(result.all_together),
        "vol_up": result.vol_up,
        "vol_down": result.vol_down,
        "joint": None
        if joint is None
        else {
            "moves": dict(joint.moves),
            "distance": joint.distance,
            **({"account": joint.account} if joint.account is not None else {}),
        },
        "notes": list(result.notes),
    }


def breakeven_dict(result: Breakeven) -> dict[str, Any]:
    data = {
        "model": result.model,
        "target": result.target,
        "loss": result.loss,
        "horizon_days": result.horizon_days,
        **_body(result),
    }
    if result.accounts is not None:
        data["accounts"] = [{"account": a.account, **_body(a)} for a in result.accounts]
    return clean(data)


def breakeven_summary(data: dict[str, Any]) -> dict[str, Any]:
    """The target, today's equity and maintenance margin, and the nearest moves all together,
    of every vol and the joint move's distance (null where none reaches the target)."""
    joint = data["joint"]
    return {
        "model": data["model"],
        "target": data["target"],
        "loss": data["loss"],
        "equity": data["equity"],
        "maintenance_margin": data["maintenance_margin"],
        "all_spot_down": data["all_together"]["spot_down"],
        "all_spot_up": data["all_together"]["spot_up"],
        "vol_up": data["vol_up"],
        "vol_down": data["vol_down"],
        "joint_distance": None if joint is None else joint["distance"],
    }


def breakeven_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per searched move: what moves, which way, and the smallest move that breaks."""
    rows = []
    for part in data.get("accounts") or [data]:
        account = part.get("account")
        for underlying, moves in part["underlyings"].items():
            for side in ("down", "up"):
                rows.append(_row(account, f"spot {underlying}", side, moves[f"spot_{side}"]))
        for side in ("down", "up"):
            rows.append(_row(account, "spot all", side, part["all_together"][f"spot_{side}"]))
        for side in ("down", "up"):
            rows.append(_row(account, "vol all", side, part[f"vol_{side}"]))
        joint = part["joint"]
        if joint is not None:
            for underlying, move in joint["moves"].items():
                rows.append(_row(account, f"joint {underlying}", "", move, joint["distance"]))
    return rows


def _row(account, what, side, move, distance=None) -> dict[str, Any]:
    return {"account": account, "move": what, "side": side, "value": move, "distance": distance}


def breakeven_markdown(data: dict[str, Any]) -> str:
    goal = (
        "equity meets maintenance margin"
        if data["target"] == "maintenance"
        else f"the loss reaches {data['loss']:,.2f} USD"
    )
    text = f"## pmargin breakeven — model {data['model']}\n\nSmallest moves at which {goal}.\n\n"
    rows = [
        [r["account"] or "", r["move"], r["side"], _percent(r["value"]), r["distance"]]
        for r in breakeven_rows(data)
    ]
    headers = ["account", "move", "side", "move", "distance (sd)"]
    return text + markdown_table(headers, rows)


def _percent(value: float | None) -> str:
    return "none" if value is None else f"{value:+.2%}"
