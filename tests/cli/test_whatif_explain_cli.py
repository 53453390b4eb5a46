"""`pmargin whatif` and `pmargin explain` print exactly what the library computes (SPEC §9)."""

import csv
import json

import pytest
from conftest import SAMPLES, csv_body, without_run

from pmargin import load_market, load_portfolio
from pmargin.attribution import explain_margin
from pmargin.io.model_file import load_model
from pmargin.io.trades import load_trades
from pmargin.report.explain import explain_dict
from pmargin.report.whatif import whatif_dict
from pmargin.whatif import what_if

STATE_KEYS = {"initial_margin", "maintenance_margin", "equity", "status"}
TRADE = "BTC-27DEC24-100000-C:-2"


def test_whatif_json_equals_the_library_result(cli):
    path = SAMPLES / "multi_asset.yaml"
    result = cli("whatif", path, "--add", TRADE, "--add", "ETH-PERPETUAL:1000", "--format", "json")
    assert result.exit_code == 0, result.stderr
    printed = without_run(json.loads(result.stdout))
    library = what_if(
        load_portfolio(path),
        load_market(SAMPLES / "market.yaml"),
        load_model("deribit"),
        load_trades([TRADE, "ETH-PERPETUAL:1000"]),
    )
    assert printed == json.loads(json.dumps(whatif_dict(library)))
    assert {"before", "after", "incremental_margin", "trades"} <= set(printed)
    assert set(printed["before"]) >= STATE_KEYS
    assert set(printed["after"]) >= STATE_KEYS
    assert all(
        {"instrument", "quantity", "incremental_margin"} <= set(t) for t in printed["trades"]
    )
    assert printed["before"]["status"] == "ok"


def test_whatif_reads_a_trades_file_and_every_format(cli, tmp_path):
    trades = tmp_path / "trades.csv"
    trades.write_text("instrument,quantity\nBTC-27DEC24-110000-C,10\nBTC-PERPETUAL,1000\n")
    path = SAMPLES / "hedged_btc_options.csv"
    data = json.loads(cli("whatif", path, "--add", trades, "--format", "json").stdout)
    assert [t["instrument"] for t in data["trades"]] == ["BTC-27DEC24-110000-C", "BTC-PERPETUAL"]
    assert data["before"]["equity"] is None and data["after"]["status"] is None
    rows = list(
        csv.DictReader(csv_body(cli("whatif", path, "--add", trades, "--format", "csv").stdout))
    )
    assert len(rows) == 2 and "incremental_margin" in rows[0]
    markdown = cli("whatif", path, "--add", TRADE, "--format", "markdown").stdout
    assert markdown.startswith("## pmargin whatif") and "| Initial margin |" in markdown
    table = cli("whatif", path, "--add", TRADE)
    assert table.exit_code == 0 and "Each trade alone" in table.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--add", "BTC-PERPETUAL"], "--add BTC-PERPETUAL: expected INSTRUMENT:QUANTITY"),
        (["--add", "BTC-PERPETUAL:lots"], "'lots' is not a finite number"),
        (["--add", "BTC-32DEC24:1"], "--add BTC-32DEC24:1: column `instrument`"),
        ([], "--add: no trades given"),
        (["--add", "DOGE_USDC-PERPETUAL:1"], "unknown underlying DOGE"),
    ],
)
def test_whatif_bad_trades_exit_2_with_one_message(cli, args, expected):
    result = cli("whatif", SAMPLES / "hedged_btc_options.csv", *args)
    assert result.exit_code == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_a_trades_file_with_collateral_is_refused(cli, write):
    trades = write("trades.yaml", "collateral: {USD: 5}\npositions: []\n")
    result = cli("whatif", SAMPLES / "hedged_btc_options.csv", "--add", trades)
    assert result.exit_code == 2
    assert "a trades file holds trades, not collateral" in result.stderr


def test_explain_json_equals_the_library_result(cli):
    path = SAMPLES / "hedged_btc_options.csv"
    result = cli("explain", path, "--model", "span", "--format", "json")
    assert result.exit_code == 0, result.stderr
    printed = without_run(json.loads(result.stdout))
    library = explain_margin(
        load_portfolio(path), load_market(SAMPLES / "market.yaml"), load_model("span")
    )
    assert printed == json.loads(json.dumps(explain_dict(library)))
    assert {"model", "portfolio_margin", "positions"} <= set(printed)
    keys = {"id", "account", "instrument", "contribution", "isolated_margin"}
    assert all(keys <= set(p) for p in printed["positions"])
    assert printed["positions"][0]["account"] is None
    total = sum(p["contribution"] for p in printed["positions"])
    assert total == pytest.approx(printed["portfolio_margin"], rel=1e-9)


def test_explain_per_account_and_formats(cli, write, market_path):
    path = write(
        "accounts.csv",
        "account,instrument,quantity\na,BTC_USDC-PERPETUAL,1\nb,BTC_USDC-PERPETUAL,-1\n",
    )
    data = json.loads(cli("explain", path, "--format", "json").stdout)
    assert [a["account"] for a in data["accounts"]] == ["a", "b"]
    # each account: 16% worst case + 1% roll shock of 100,000 USD (deribit)
    assert data["portfolio_margin"] == pytest.approx(34000.0)
    assert cli("explain", path, "--format", "markdown").stdout.startswith("## pmargin explain")
    assert "Margin attribution" in cli("explain", path).stdout
