"""Deribit ``public/get_book_summary_by_currency`` exports as a market snapshot.

The file is found and its responses recognised as in :mod:`pmargin.io.deribit_export`; this
module turns the book summary records into the market YAML's structure, which
:func:`pmargin.io.market_file.market_from_document` then validates like any market file.

Market: per underlying, the spot is the index (``estimated_delivery_price``; else an option's
``underlying_price`` whose ``underlying_index`` is ``index_price``; else a spot pair's mark); the
forward of each expiry is its options' ``underlying_price`` (else the dated future's mark); each
option's ``mark_iv`` (percent) is a smile point at its expiry and strike (calls and puts of one
strike are averaged); every instrument's ``mark_price`` is kept as a mark. ``as_of`` is the latest
``creation_timestamp`` (else the envelope's ``usOut``); ``rate`` is 0 (the forwards carry the
basis). Expiries at or before ``as_of`` are left out.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, Problem, ProblemCollector
from ..instruments import parse_symbol
from .deribit_export import BOOK, POSITIONS, SUMMARY, optional_number, read_export


def deribit_market_document(path: str | Path) -> tuple[dict, dict[str, float]]:
    """The market YAML's structure (``as_of``, ``rate``, ``underlyings``) built from a Deribit
    book summary export, and the marks by instrument; the caller validates the structure."""
    export = read_export(path)
    records = export.of(BOOK)
    if not records:
        fix = (
            "This is a portfolio export: pass it as the PORTFOLIO."
            if export.of(POSITIONS) or export.of(SUMMARY)
            else "Give the JSON of public/get_book_summary_by_currency."
        )
        raise InputError(Problem(str(path), "holds no Deribit book summary", fix))
    problems = ProblemCollector()
    quotes = _quotes(records, problems)
    as_of = _as_of(quotes, export.server_times, str(path), problems)
    problems.raise_if_any()
    assert as_of is not None
    live = quotes[quotes["expiry"].isna() | (quotes["expiry"] > as_of)]
    underlyings = {
        underlying: _underlying_entry(group, f"{path}: {underlying}", problems)
        for underlying, group in live.groupby("underlying", sort=True)
    }
    problems.raise_if_any()
    marks = dict(zip(quotes["instrument"], quotes["mark"]))
    marks = {k: float(v) for k, v in marks.items() if math.isfinite(v)}
    document = {"as_of": as_of, "rate": 0.0, "underlyings": underlyings}
    return document, marks


def _quotes(records: list[tuple[str, dict]], problems: ProblemCollector) -> pd.DataFrame:
    """One row per book summary record: instrument fields and the numbers the market uses."""
    rows = []
    for where, record in records:
        name = str(record.get("instrument_name", "")).strip().upper()
        try:
            fields = parse_symbol(name)
        except ValueError:
            continue  # instruments pmargin does not trade (combos, other products) are skipped
        numbers = {
            key: optional_number(record, key, where, problems)
            for key in (
                "mark_price",
                "mark_iv",
                "underlying_price",
                "estimated_delivery_price",
                "creation_timestamp",
            )
        }
        expiry = fields.get("expiry")
        rows.append(
            {
                "instrument": name,
                "underlying": fields["underlying"],
                "kind": fields["kind"],
                "expiry": expiry,
                "strike": fields.get("strike", np.nan),
                "mark": _or_nan(numbers["mark_price"]),
                "mark_iv": _or_nan(numbers["mark_iv"]),
                "underlying_price": _or_nan(numbers["underlying_price"]),
                "index": _or_nan(numbers["estimated_delivery_price"]),
                "on_index": str(record.get("underlying_index", "")) == "index_price",
                "created": _or_nan(numbers["creation_timestamp"]),
            }
        )
    columns = ["instrument", "underlying", "kind", "expiry", "strike", "mark", "mark_iv"]
    columns += ["underlying_price", "index", "on_index", "created"]
    quotes = pd.DataFrame(rows, columns=columns)
    quotes["expiry"] = pd.to_datetime(quotes["expiry"], utc=True)
    return quotes


def _or_nan(value: float | None) -> float:
    return np.nan if value is None else value


def _as_of(quotes: pd.DataFrame, server_times: list[float], where: str, problems):
    """The snapshot's instant: the latest record, else the latest response (UTC)."""
    created = quotes["created"].dropna()
    if len(created):
        return datetime.fromtimestamp(created.max() / 1e3, tz=timezone.utc)
    if server_times:
        return datetime.fromtimestamp(max(server_times) / 1e6, tz=timezone.utc)
    problems.add(
        where,
        "no `creation_timestamp` in the records and no `usOut` in the response",
        "Save the whole JSON-RPC response, which carries the time.",
    )
    return None


def _underlying_entry(quotes: pd.DataFrame, where: str, problems: ProblemCollector) -> dict:
    """``{spot, forwards, smile}`` of one underlying, as the market YAML writes them."""
    options = quotes[quotes["kind"] == "option"]
    candidates = (
        quotes["index"].dropna(),
        options.loc[options["on_index"], "underlying_price"].dropna(),
        quotes.loc[quotes["kind"] == "spot", "mark"].dropna(),
    )
    spot = next((float(c.median()) for c in candidates if len(c)), None)
    if spot is None:
        problems.add(
            where,
            "no index price (`estimated_delivery_price`) and no spot pair",
            "Export the book summary of a currency that has derivatives.",
        )
    forwards = (
        options.dropna(subset=["underlying_price"]).groupby("expiry")["underlying_price"].median()
    )
    futures = quotes[quotes["kind"] == "future"].dropna(subset=["mark"])
    forward_map = {expiry: float(price) for expiry, price in forwards.items()}
    for expiry, mark in zip(futures["expiry"], futures["mark"]):
        forward_map.setdefault(expiry, float(mark))
    with_vol = options[options["mark_iv"] > 0]
    smile: dict[datetime, dict[float, float]] = {}
    for (expiry, strike), iv in with_vol.groupby(["expiry", "strike"])["mark_iv"].mean().items():
        smile.setdefault(expiry, {})[float(strike)] = float(iv) / 100.0
    entry: dict[str, Any] = {"spot": spot, "forwards": forward_map}
    if smile:
        entry["smile"] = smile
    return entry
