"""Records are written column by column; the text must parse to what a dict per row would give."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from pmargin.report import to_json
from pmargin.report.records import Constant, Field, Items, Nested, Present, Records

FRAME = pd.DataFrame(
    {
        "account": ["plain", 'quote " and \\ back', None, "naïve ✓", "tab\there"],
        "margin": [1.0, -0.0, 2.5e-12, 123456789.12345679, 3.0],
        "equity": [np.nan, 1.0, np.nan, 2.0, 0.1],
        "count": np.array([1, 2, 3, 4, 5], dtype=np.int64),
        "ok": [True, False, True, True, False],
        "underlying": ["BTC", None, "ETH", None, "BTC"],
        "by.BTC": [1.0, np.nan, np.nan, 4.0, 5.0],
        "by.ETH": [np.nan, 2.0, np.nan, 4.5, 5.5],
        "by.SOL": [7.0, 7.0, 7.0, 7.0, 7.0],
        "worst.name": ["a", "b", "c", "d", "e"],
        "worst.pnl": [-1.0, -2.0, -3.0, -4.0, -5.0],
    }
)
LAYOUT = (
    Field("account", "account", nullable=True),
    Field("margin", "margin"),
    Field("equity", "equity", nullable=True),
    Field("count", "count"),
    Field("ok", "ok"),
    Field("underlying", "underlying", optional=True),
    Present("by_underlying", "by."),
    Nested("worst", (Field("name", "worst.name"), Field("pnl", "worst.pnl"))),
    Items("sets", ((Constant("name", "crash"), Field("pnl", "margin")), (Constant("name", "x"),))),
)


def reference(frame: pd.DataFrame) -> list[dict]:
    """The same objects built the slow way, one dict per row."""
    rows = []
    for _, row in frame.iterrows():

        def value(column, row=row):
            v = row[column]
            return None if v is None or (isinstance(v, float) and math.isnan(v)) else v

        entry = {
            "account": value("account"),
            "margin": float(row["margin"]) + 0.0,
            "equity": value("equity"),
            "count": int(row["count"]),
            "ok": bool(row["ok"]),
        }
        if value("underlying") is not None:
            entry["underlying"] = row["underlying"]
        entry["by_underlying"] = {
            c[3:]: float(row[c]) for c in ("by.BTC", "by.ETH", "by.SOL") if value(c) is not None
        }
        entry["worst"] = {"name": row["worst.name"], "pnl": float(row["worst.pnl"])}
        entry["sets"] = [{"name": "crash", "pnl": float(row["margin"]) + 0.0}, {"name": "x"}]
        rows.append(entry)
    return rows


def test_records_parse_to_the_dicts_a_row_loop_builds():
    records = Records(FRAME, LAYOUT)
    parsed = json.loads(records.json())
    assert parsed == reference(FRAME)
    assert records.rows(2) == reference(FRAME)[:2]
    assert "-0.0" not in records.json()  # negative zero is written as 0.0


def test_low_cardinality_strings_and_numbers_round_trip():
    frame = pd.DataFrame({"u": ["BTC", "ETH"] * 50 + [None], "x": np.linspace(-1, 1, 101) / 3})
    layout = (Field("u", "u", nullable=True), Field("x", "x"))
    parsed = json.loads(Records(frame, layout).json())
    assert [p["u"] for p in parsed] == [None if pd.isna(u) else u for u in frame["u"]]
    assert [p["x"] for p in parsed] == frame["x"].tolist()  # exact: shortest round-trip repr


def test_to_json_places_records_inside_the_document():
    data = {
        "model": "deribit",
        "accounts": Records(FRAME, LAYOUT),
        "empty": Records(FRAME[:0], LAYOUT),
    }
    parsed = json.loads(to_json(data))
    assert parsed == {"model": "deribit", "accounts": reference(FRAME), "empty": []}


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_non_finite_number_where_none_is_allowed_fails_loudly(bad):
    frame = FRAME.assign(margin=[1.0, bad, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match="non-finite"):
        Records(frame, LAYOUT).json()


def test_records_csv_has_every_column():
    lines = Records(FRAME, LAYOUT).csv().splitlines()
    assert lines[0].split(",")[:3] == ["account", "margin", "equity"]
    assert len(lines) == 1 + len(FRAME)
