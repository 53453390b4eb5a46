"""``pmargin.liquidate`` in a notebook: portfolios and markets as files, frames or dicts, and a
result whose ``to_dict()`` / ``to_frame()`` are what ``liquidate --format json`` / ``csv`` print."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest
import yaml
from conftest import SAMPLES, csv_body, without_run

import pmargin
from pmargin import LiquidationResult, Market, Portfolio, liquidate, liquidation_prices

BOOK = SAMPLES / "short_puts_btc.yaml"
CRASH = SAMPLES / "market_btc_down_25.yaml"


def test_liquidate_and_liquidation_prices_are_the_public_api():
    assert {"liquidate", "liquidation_prices", "LiquidationResult"} <= set(pmargin.__all__)


def test_to_dict_is_what_the_command_prints(cli):
    result = liquidate(str(BOOK), CRASH, "deribit", buffer=0.1)
    assert isinstance(result, LiquidationResult)
    printed = cli("liquidate", BOOK, "--market", CRASH, "--buffer", "0.1", "--format", "json")
    assert printed.exit_code == 0, printed.stderr
    assert json.loads(json.dumps(result.to_dict())) == without_run(json.loads(printed.stdout))


def test_to_frame_has_the_csv_rows_and_a_row_per_account(cli):
    result = liquidate(BOOK, CRASH)
    steps = result.to_frame()
    text = cli("liquidate", BOOK, "--market", CRASH, "--format", "csv").stdout
    rows = list(csv.DictReader(csv_body(text)))
    assert list(steps.columns) == list(rows[0])
    assert steps["instrument"].tolist() == [r["instrument"] for r in rows]
    assert steps["fee"].tolist() == pytest.approx([float(r["fee"]) for r in rows])
    (account,) = result.to_dict()["accounts"]
    accounts = result.to_frame("accounts")
    assert accounts["account"].tolist() == ["put-seller"]
    row = accounts.iloc[0]
    assert (
        row["before.status"] == "liquidation" and row["after.status"] == account["after"]["status"]
    )
    assert row["after.equity"] == account["after"]["equity"]
    assert row["steps"] == len(account["steps"]) and bool(row["restored"]) is True
    assert row["fees"] == pytest.approx(steps["fee"].sum())
    with pytest.raises(ValueError, match="`rows` must be one of steps, accounts"):
        result.to_frame("positions")


def test_a_safe_account_has_no_steps_and_a_frame_with_the_step_columns():
    frame = liquidate(BOOK, SAMPLES / "market.yaml").to_frame()
    assert frame.empty and "maintenance_margin_after" in frame.columns


def test_a_frame_and_a_dict_give_the_plan_of_the_files():
    document = yaml.safe_load(BOOK.read_text())
    positions = pd.DataFrame(document["positions"])
    book = Portfolio.from_frame(positions, document["collateral"], account=document["account"])
    market = Market.from_dict(yaml.safe_load(CRASH.read_text()), source=str(CRASH))
    from_objects = liquidate(book, market).to_dict()
    from_files = liquidate(BOOK, CRASH).to_dict()
    assert from_objects["accounts"][0]["steps"] == from_files["accounts"][0]["steps"]
    prices = liquidation_prices(BOOK, CRASH)
    assert prices["BTC"].as_dict() == from_files["accounts"][0]["liquidation_prices"]["BTC"]
