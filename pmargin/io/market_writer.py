"""Writing a market snapshot YAML (the format :mod:`pmargin.io.market_file` reads, SPEC §3).

:func:`write_market` writes atomically (:func:`pmargin.io.output_file.write_atomic`): the text
goes to a temporary file in the target's folder, which then replaces the target in one step, so
a reader never sees half a snapshot and a failed write leaves the old file as it was. Numbers are
written in full (``repr``), so a snapshot loads back to exactly the same floats and an estimated
correlation matrix stays positive semi-definite.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..market import Market, UnderlyingMarket
from .output_file import write_atomic


def market_document(market: Market) -> dict[str, Any]:
    """The snapshot as a YAML-ready mapping: as_of, rate, underlyings, correlations (each pair
    once, in the order of ``market.underlyings``)."""
    document: dict[str, Any] = {
        "as_of": market.as_of.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rate": float(market.rate),
        "underlyings": {code: _underlying(data) for code, data in market.underlyings.items()},
    }
    codes = list(market.underlyings)
    named = codes + sorted({code for pair in market.correlations for code in pair} - set(codes))
    correlations: dict[str, dict[str, float]] = {}
    for i, first in enumerate(named):
        for second in named[i + 1 :]:
            rho = market.correlations.get((first, second))
            if rho is not None:
                correlations.setdefault(first, {})[second] = float(rho)
    if correlations:
        document["correlations"] = correlations
    return document


def _underlying(data: UnderlyingMarket) -> dict[str, Any]:
    entry: dict[str, Any] = {"spot": float(data.spot)}
    if data.vol is not None:
        entry["vol"] = float(data.vol)
    if data.carry:
        entry["carry"] = float(data.carry)
    if data.forwards:
        entry["forwards"] = {_instant(e): float(f) for e, f in sorted(data.forwards.items())}
    if data.smile is not None:
        entry["smile"] = {
            _instant(expiry): {float(k): float(v) for k, v in zip(strikes, vols)}
            for expiry, strikes, vols in zip(
                data.smile.expiries, data.smile.strikes, data.smile.vols
            )
        }
    return entry


def _instant(value: np.datetime64) -> str:
    """An expiry as ``YYYY-MM-DD`` when it is 08:00 UTC (the loader's default), else in full."""
    text = str(np.datetime_as_string(value, unit="s"))
    return text[:10] if text.endswith("T08:00:00") else f"{text}Z"


def market_yaml(market: Market, comment: str = "") -> str:
    """The snapshot's YAML text, led by ``comment`` as ``#`` lines."""
    header = "".join(f"# {line}\n" for line in comment.splitlines())
    body = yaml.safe_dump(
        market_document(market), sort_keys=False, default_flow_style=None, allow_unicode=True
    )
    return header + body


def write_market(
    path: str | Path, market: Market, comment: str = "", *, label: str | None = None
) -> None:
    """Write the snapshot to ``path`` atomically; ``label`` names it in messages (default: the
    path), e.g. ``--output snapshot.yaml``."""
    write_atomic(path, market_yaml(market, comment), label=label, what="the market snapshot")
