"""``what_if``, ``explain_margin`` and ``breakeven`` in a notebook: portfolios and markets as
files, frames or dicts, trades as strings or a frame, and results whose ``to_dict()`` /
``to_frame()`` are what ``--format json`` / ``csv`` print."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest
from conftest import SAMPLES, csv_body, without_run

import pmargin
from pmargin import Attribution, Breakeven, WhatIfResult, breakeven, explain_margin, what_if

BOOK = SAMPLES / "multi_asset.yaml"
MARKET = SAMPLES / "market.yaml"
TRADES = ["BTC-27DEC24-85000-P:3", "ETH-PERPETUAL:60000"]


def test_the_three_are_the_public_api():
    names = {"what_if", "explain_margin", "breakeven", "WhatIfResult", "Attribution", "Breakeven"}
    assert names <= set(pmargin.__all__)


def rows_of(cli, *args):
    text = cli(*args, "--format", "csv").stdout
    return list(csv.DictReader(csv_body(text)))


def test_what_if_to_dict_and_to_frame_are_what_the_command_prints(cli):
    result = what_if(str(BOOK), MARKET, TRADES)
    assert isinstance(result, WhatIfResult)
    args = ["whatif", BOOK, *(x for t in TRADES for x in ("--add", t))]
    printed = without_run(json.loads(cli(*args, "--format", "json").stdout))
    assert json.loads(json.dumps(result.to_dict())) == printed
    frame, rows = result.to_frame(), rows_of(cli, *args)
    assert list(frame.columns) == list(rows[0])
    assert frame["incremental_margin"].tolist() == pytest.approx(
        [float(r["incremental_margin"]) for r in rows]
    )
    accounts = result.to_frame("accounts")
    assert accounts["incremental_margin"].tolist() == pytest.approx([result.incremental_margin])
    with pytest.raises(ValueError, match="`rows` must be one of"):
        result.to_frame("positions")


def test_trades_as_a_frame_with_the_csv_columns_equal_the_strings():
    frame = pd.DataFrame(
        {"instrument": ["BTC-27DEC24-85000-P", "ETH-PERPETUAL"], "quantity": [3, 60000]}
    )
    from_frame = what_if(BOOK, MARKET, frame)
    from_strings = what_if(BOOK, MARKET, TRADES)
    assert from_frame.incremental_margin == pytest.approx(from_strings.incremental_margin)
    assert from_frame.to_frame()["incremental_margin"].tolist() == pytest.approx(
        from_strings.to_frame()["incremental_margin"].tolist()
    )


def test_explain_margin_takes_a_frame_and_a_dict(cli):
    positions = pd.DataFrame(
        {"instrument": ["BTC-27DEC24-100000-C", "BTC-PERPETUAL"], "quantity": [-10, 25000]}
    )
    market = {"as_of": "2024-11-25T08:00:00Z", "underlyings": {"BTC": {"spot": 95000, "vol": 0.5}}}
    result = explain_margin(positions, market, "span")
    assert isinstance(result, Attribution)
    frame = result.to_frame()
    assert frame["contribution"].sum() == pytest.approx(result.portfolio_margin, rel=1e-9)
    from_file = explain_margin(BOOK, MARKET)
    printed = without_run(json.loads(cli("explain", BOOK, "--format", "json").stdout))
    assert json.loads(json.dumps(from_file.to_dict())) == printed
    assert from_file.to_frame()["id"].tolist() == [r["id"] for r in rows_of(cli, "explain", BOOK)]


def test_breakeven_to_dict_and_to_frame_are_what_the_command_prints(cli):
    result = breakeven(BOOK, MARKET, loss=150000)
    assert isinstance(result, Breakeven)
    args = ["breakeven", BOOK, "--loss", "150000"]
    printed = without_run(json.loads(cli(*args, "--format", "json").stdout))
    assert json.loads(json.dumps(result.to_dict())) == printed
    frame, rows = result.to_frame(), rows_of(cli, *args)
    assert frame["move"].tolist() == [r["move"] for r in rows]
    assert list(frame.columns) == list(rows[0])
