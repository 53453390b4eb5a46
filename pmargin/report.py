"""Results as plain data: the dicts ``--format json`` prints and the tables of csv/markdown.

These functions are the single source of the machine-readable output (SPEC §4); the CLI prints
exactly what they return.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import numpy as np
import pandas as pd

from .compute import MarginResult

POSITION_KEYS = (
    "id",
    "account",
    "instrument",
    "underlying",
    "quantity",
    "value",
    "isolated_margin",
    "delta",
    "gamma",
    "vega",
    "theta",
)


def clean(value: Any) -> Any:
    """numpy scalars -> Python; non-finite floats are a bug, so they fail loudly here."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"non-finite number in a result: {number}")
        return 0.0 if number == 0 else number
    return value


def positions_records(positions: pd.DataFrame) -> list[dict[str, Any]]:
    frame = positions[list(POSITION_KEYS)]
    return [dict(zip(POSITION_KEYS, row)) for row in frame.itertuples(index=False, name=None)]


def margin_dict(result: MarginResult, *, positions: bool = True) -> dict[str, Any]:
    """The ``compute`` JSON object of SPEC §4 (plus ``savings`` and ``by_underlying``)."""
    worst = result.worst_scenario
    data: dict[str, Any] = {
        "model": result.model,
        "currency": result.currency,
        "portfolio_margin": result.portfolio_margin,
        "maintenance_margin": result.maintenance_margin,
        "isolated_margin": result.isolated_margin,
        "offset": result.offset,
        "savings": result.savings,
        "worst_scenario": None if worst is None else dict(worst),
        "equity": result.equity,
        "excess": result.excess,
        "status": result.status,
        "components": dict(result.components),
        "by_underlying": dict(result.by_underlying),
    }
    if result.account is not None:
        data = {"account": result.account, **data}
    if positions:
        data["positions"] = positions_records(result.positions)
    if result.accounts is not None:
        data["accounts"] = [margin_dict(a, positions=False) for a in result.accounts]
    if result.models:
        data["models"] = {
            name: margin_dict(other, positions=False) for name, other in result.models.items()
        }
    return clean(data)


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


def to_csv(rows: list[dict[str, Any]]) -> str:
    """Rows of flat dicts as CSV (nested values are JSON-encoded)."""
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in row.items()}
        )
    return buffer.getvalue()


def markdown_table(headers: list[str], rows: list[list[Any]]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:,.2f}"
        return "" if value is None else str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def margin_markdown(data: dict[str, Any]) -> str:
    """A compute result (as from :func:`margin_dict`) as GitHub-flavoured markdown."""
    worst = data.get("worst_scenario") or {}
    savings = data.get("savings")
    summary = [
        ["Model", data["model"]],
        ["Portfolio margin (initial)", data["portfolio_margin"]],
        ["Maintenance margin", data["maintenance_margin"]],
        ["Isolated margin", data["isolated_margin"]],
        ["Offset", data["offset"]],
        ["Savings", "" if savings is None else f"{savings:.1%}"],
        ["Worst scenario", f"{worst.get('name', '')} ({worst.get('pnl', 0.0):,.2f})"],
        ["Equity", data["equity"]],
        ["Excess", data["excess"]],
        ["Status", data["status"]],
    ]
    text = "## pmargin compute\n\n" + markdown_table(["", "USD"], summary)
    if data.get("models"):
        rows = [
            [
                name,
                m["portfolio_margin"],
                m["maintenance_margin"],
                m["isolated_margin"],
                m["offset"],
            ]
            for name, m in data["models"].items()
        ]
        text += "\n### Models\n\n" + markdown_table(
            ["model", "initial", "maintenance", "isolated", "offset"], rows
        )
    if data.get("accounts"):
        rows = [
            [
                a["account"],
                a["portfolio_margin"],
                a["maintenance_margin"],
                a["isolated_margin"],
                a["equity"],
                a["status"],
            ]
            for a in data["accounts"]
        ]
        text += "\n### Accounts\n\n" + markdown_table(
            ["account", "initial", "maintenance", "isolated", "equity", "status"], rows
        )
    if data.get("positions"):
        rows = [
            [
                p["id"],
                p["instrument"],
                p["quantity"],
                p["value"],
                p["delta"],
                p["gamma"],
                p["vega"],
                p["theta"],
                p["isolated_margin"],
            ]
            for p in data["positions"]
        ]
        text += "\n### Positions\n\n" + markdown_table(
            [
                "id",
                "instrument",
                "quantity",
                "value",
                "delta",
                "gamma",
                "vega",
                "theta",
                "isolated margin",
            ],
            rows,
        )
    return text
