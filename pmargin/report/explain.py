"""The ``explain`` report: SPEC §9 JSON keys, CSV rows (one per position) and markdown.

JSON::

    {"model": "deribit", "portfolio_margin": 0.0, "isolated_margin": 0.0,
     "basis": {"BTC": "worst counted scenario: spot -16%, vol +50%"},
     "positions": [{"id": "...", "account": null, "instrument": "...", "underlying": "BTC",
                    "quantity": 0.0, "contribution": 0.0, "isolated_margin": 0.0,
                    "diversification_benefit": 0.0}],
     "accounts": [{"account": "...", "portfolio_margin": 0.0, "isolated_margin": 0.0,
                   "basis": {...}, "positions": [...]}]}

Positions are sorted by contribution, largest first; contributions add up to
``portfolio_margin``. ``account`` is null for a file that names none; ``accounts`` is present
with several (``basis`` is then per account).
"""

from __future__ import annotations

from typing import Any

from ..attribution import POSITION_COLUMNS, Attribution
from . import clean, markdown_table


def _positions(attribution: Attribution) -> list[dict[str, Any]]:
    frame = attribution.positions[list(POSITION_COLUMNS)]
    records = [dict(zip(POSITION_COLUMNS, row)) for row in frame.itertuples(index=False)]
    for record in records:
        record["account"] = record["account"] or None
    return records


def explain_dict(result: Attribution) -> dict[str, Any]:
    data: dict[str, Any] = {
        "model": result.model,
        "portfolio_margin": result.portfolio_margin,
        "isolated_margin": result.isolated_margin,
        "basis": result.basis,
        "positions": _positions(result),
    }
    if result.accounts is not None:
        data["accounts"] = [
            {
                "account": a.account,
                "portfolio_margin": a.portfolio_margin,
                "isolated_margin": a.isolated_margin,
                "basis": a.basis,
                "positions": _positions(a),
            }
            for a in result.accounts
        ]
    return clean(data)


def explain_summary(data: dict[str, Any]) -> dict[str, Any]:
    """The margin allocated, the isolated margin beside it, how many positions, and what was
    allocated per underlying (per settlement currency for deribit; per account with several)."""
    basis = data["basis"]
    if "accounts" in data:
        basis = {f"{a} {u}": text for a, part in basis.items() for u, text in part.items()}
    return {
        "model": data["model"],
        "portfolio_margin": data["portfolio_margin"],
        "isolated_margin": data["isolated_margin"],
        "positions": len(data["positions"]),
        "basis": "; ".join(f"{u}: {text}" for u, text in basis.items()),
    }


def explain_markdown(data: dict[str, Any]) -> str:
    text = f"## pmargin explain — model {data['model']}\n\n"
    text += f"Portfolio margin {data['portfolio_margin']:,.2f} USD "
    text += f"(isolated {data['isolated_margin']:,.2f} USD)\n\n"
    columns = [
        ("id", "id"),
        ("account", "account"),
        ("instrument", "instrument"),
        ("quantity", "quantity"),
        ("contribution", "contribution"),
        ("isolated margin", "isolated_margin"),
        ("diversification benefit", "diversification_benefit"),
    ]
    rows = [[p[k] for _, k in columns] for p in data["positions"]]
    return text + markdown_table([h for h, _ in columns], rows)
