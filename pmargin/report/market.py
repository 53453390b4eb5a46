"""The ``market estimate`` report (SPEC §11), as plain data.

``estimate_dict`` is what ``pmargin market estimate --format json`` prints::

    {"as_of": "2022-11-15T08:00:00Z", "method": "ewma", "window": 1832,
     "vol": {"BTC": 0.0, "ETH": 0.0},                 # decimal, annualised (× √365)
     "correlations": {"BTC": {"ETH": 0.0}}}           # each pair once, as in a market snapshot

``estimate_rows`` (CSV, and the tables) add each coin's last close, its number of returns and its
correlation with every coin.
"""

from __future__ import annotations

from typing import Any

from ..estimate import Estimate
from . import clean, markdown_table


def estimate_dict(estimate: Estimate) -> dict[str, Any]:
    """The JSON object of SPEC §11."""
    codes = estimate.underlyings
    return clean(
        {
            "as_of": estimate.as_of.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "method": estimate.method,
            "window": estimate.window,
            "vol": dict(zip(codes, estimate.vols.tolist())),
            "correlations": {
                first: {
                    second: estimate.correlation[i, j] for j, second in enumerate(codes) if j > i
                }
                for i, first in enumerate(codes[:-1])
            },
        }
    )


def estimate_rows(estimate: Estimate) -> list[dict[str, Any]]:
    """One row per coin: vol, spot (last close, USD), returns, then its correlation with each."""
    codes = estimate.underlyings
    return clean(
        [
            {
                "underlying": code,
                "vol": estimate.vols[i],
                "spot": estimate.spot[i],
                "returns": estimate.returns[i],
            }
            | dict(zip(codes, estimate.correlation[i].tolist()))
            for i, code in enumerate(codes)
        ]
    )


def estimate_title(estimate: Estimate) -> str:
    return f"Vols and correlations: {estimate.describe()}"


def estimate_markdown(estimate: Estimate) -> str:
    rows = estimate_rows(estimate)
    codes = list(estimate.underlyings)
    parts = [f"# {estimate_title(estimate)}\n\n"]
    parts.append(
        markdown_table(
            ["underlying", "vol", "spot (USD)", "returns"],
            [[r["underlying"], f"{r['vol']:.2%}", r["spot"], r["returns"]] for r in rows],
        )
    )
    parts.append("\n")
    parts.append(
        markdown_table(
            ["correlation", *codes],
            [[r["underlying"], *(f"{r[c]:+.3f}" for c in codes)] for r in rows],
        )
    )
    parts += [f"\n{note}\n" for note in estimate.notes]
    return "".join(parts)
