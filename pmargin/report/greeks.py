"""The ``greeks`` report: JSON, CSV rows and markdown of net greeks per underlying and expiry.

JSON::

    {"as_of": "2024-11-25T08:00:00Z", "currency": "USD", "open_orders_excluded": 0,
     "underlyings": [{"underlying": "BTC", "spot": 95000.0, "delta": 0.38, "delta_usd": 36100.0,
                      "gamma": ..., "gamma_usd": ..., "vega": ..., "theta": ...,
                      "expiries": [{"expiry": "2024-12-27T08:00:00Z", "delta": ..., ...},
                                   {"expiry": null, ...}]}],
     "total": {"delta_usd": ..., "gamma_usd": ..., "vega": ..., "theta": ...}}

Units (see :mod:`pmargin.greeks`): delta in coins, delta_usd in USD, gamma in coins per USD,
gamma_usd in USD of delta per 1% spot move, vega in USD per 1.00 vol, theta in USD per day.
``expiry`` is null for undated instruments (spot, perpetuals, coin collateral); ``total`` holds
net sums of the USD greeks over underlyings.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..greeks import GREEKS, GreeksResult
from . import clean, markdown_table, plural


def _expiry_text(expiry: Any) -> str | None:
    if pd.isna(expiry):
        return None
    return np.datetime_as_string(np.datetime64(expiry, "s")) + "Z"


def greeks_dict(result: GreeksResult) -> dict[str, Any]:
    underlyings = []
    for row in result.by_underlying.to_dict("records"):
        name = row["underlying"]
        expiries = result.by_expiry[result.by_expiry["underlying"] == name]
        underlyings.append(
            {
                "underlying": name,
                "spot": row["spot"],
                **{g: row[g] for g in GREEKS},
                "expiries": [
                    {"expiry": _expiry_text(e["expiry"]), **{g: e[g] for g in GREEKS}}
                    for e in expiries.to_dict("records")
                ],
            }
        )
    return clean(
        {
            "as_of": result.as_of.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "currency": "USD",
            "open_orders_excluded": 0 if result.include_orders else result.open_orders,
            "underlyings": underlyings,
            "total": result.total(),
        }
    )


def greeks_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per underlying and expiry (``--format csv``); expiry empty when undated."""
    return [
        {"underlying": u["underlying"], "spot": u["spot"], **e}
        for u in data["underlyings"]
        for e in u["expiries"]
    ]


def expiry_label(expiry: str | None) -> str:
    """``2024-12-27`` for the 08:00 UTC standard expiry, the full time otherwise."""
    if expiry is None:
        return "undated"
    return expiry[:10] if expiry.endswith("T08:00:00Z") else expiry


def _number(value: float) -> str:
    if value == 0:
        return "0"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def greeks_markdown(data: dict[str, Any]) -> str:
    headers = ["underlying", "expiry", "delta (coin)", "delta USD", "gamma (coin/USD)"]
    headers += ["gamma USD/1%", "vega USD/vol", "theta USD/day"]
    rows = []
    for u in data["underlyings"]:
        for e in u["expiries"]:
            rows.append(
                [u["underlying"], expiry_label(e["expiry"])] + [_number(e[g]) for g in GREEKS]
            )
        rows.append([f"**{u['underlying']}**", "**all**"] + [_number(u[g]) for g in GREEKS])
    total = data["total"]
    rows.append(
        ["**total (net)**", "", "", _number(total["delta_usd"]), ""]
        + [_number(total[g]) for g in ("gamma_usd", "vega", "theta")]
    )
    text = f"## pmargin greeks (as of {data['as_of']})\n\n" + markdown_table(headers, rows)
    if data["open_orders_excluded"]:
        text += f"\n{plural(data['open_orders_excluded'], 'open order')} excluded.\n"
    return text
