"""`pmargin compute` prints exactly what the library computes, in every format."""

import csv
import io
import json
from pathlib import Path

import pytest

from pmargin import compute_margin, load_market, load_portfolio
from pmargin.report.margin import margin_dict

SAMPLES = Path(__file__).resolve().parents[2] / "sample_portfolios"
SPEC_KEYS = {
    "model",
    "currency",
    "portfolio_margin",
    "maintenance_margin",
    "isolated_margin",
    "offset",
    "worst_scenario",
    "equity",
    "excess",
    "status",
    "components",
    "positions",
}
POSITION_KEYS = {
    "id",
    "instrument",
    "quantity",
    "value",
    "isolated_margin",
    "delta",
    "gamma",
    "vega",
    "theta",
}


def test_json_equals_library_result(cli):
    path = SAMPLES / "multi_asset.yaml"
    result = cli("compute", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    printed = json.loads(result.stdout)
    library = compute_margin(
        load_portfolio(path), load_market(SAMPLES / "market.yaml"), with_liquidation_prices=True
    )
    assert printed == json.loads(json.dumps(margin_dict(library)))
    assert set(printed) >= SPEC_KEYS
    assert {"name", "pnl"} <= set(printed["worst_scenario"])
    assert all(set(p) >= POSITION_KEYS for p in printed["positions"])
    assert printed["status"] == "ok" and printed["equity"] > printed["portfolio_margin"]


def test_no_collateral_means_null_equity(cli):
    result = cli("compute", SAMPLES / "hedged_btc_options.csv", "--format", "json")
    data = json.loads(result.stdout)
    assert data["equity"] is None and data["excess"] is None and data["status"] is None
    assert data["portfolio_margin"] < data["isolated_margin"]


def test_by_account(cli, write, market_path):
    path = write(
        "book.csv",
        "instrument,quantity,account\nBTC_USDC-PERPETUAL,1,a\nBTC_USDC-PERPETUAL,-1,b\n",
    )
    data = json.loads(cli("compute", path, "--by-account", "--format", "json").stdout)
    assert [a["account"] for a in data["accounts"]] == ["a", "b"]
    assert [a["portfolio_margin"] for a in data["accounts"]] == pytest.approx([16000.0, 16000.0])
    assert data["portfolio_margin"] == 0.0  # across accounts the two legs net


def test_table_csv_markdown_and_output_file(cli, tmp_path):
    path = SAMPLES / "hedged_btc_options.csv"
    table = cli("compute", path)
    assert table.exit_code == 0
    assert "Portfolio margin" in table.stdout and "covered-call" in table.stdout
    rows = list(csv.DictReader(io.StringIO(cli("compute", path, "--format", "csv").stdout)))
    assert [r["id"] for r in rows][:2] == ["spot-btc", "covered-call"]
    markdown = cli("compute", path, "--format", "markdown").stdout
    assert markdown.startswith("## pmargin compute") and "| Isolated margin |" in markdown
    out = tmp_path / "out.json"
    written = cli("compute", path, "--format", "json", "--output", out)
    assert written.stdout == "" and json.loads(out.read_text())["model"] == "deribit"


def test_demo_market_is_used_with_a_warning(cli, write):
    path = write("book.csv", "instrument,quantity\nBTC-PERPETUAL,100\n")
    result = cli("compute", path, "--format", "json")
    assert result.exit_code == 0
    assert "bundled demo snapshot" in result.stderr
    assert json.loads(result.stdout)["portfolio_margin"] > 0


def test_version_and_help(cli):
    assert cli("--version").stdout.startswith("pmargin ")
    for command in ("compute", "validate"):
        result = cli(command, "--help")
        assert result.exit_code == 0 and len(result.stdout) > 100


def test_an_empty_book_is_margined_at_zero_with_a_warning(cli, write, market_path):
    result = cli("compute", write("b.csv", "instrument,quantity\n"), "--format", "json")
    assert result.exit_code == 0
    assert "holds no positions and no collateral" in result.stderr
    assert json.loads(result.stdout)["portfolio_margin"] == 0.0


@pytest.mark.parametrize(
    "command",
    [
        ["compute"],
        ["stress"],
        ["check"],
        ["greeks"],
        ["validate"],
        ["scenarios", "list"],
        ["scenarios", "show"],
        ["models", "list"],
        ["models", "show"],
    ],
)
def test_every_command_has_help(cli, command):
    result = cli(*command, "--help")
    assert result.exit_code == 0
    _, _, rest = result.stdout.partition("\n")
    assert "Usage:" in result.stdout and len(rest.strip()) > 40


def test_the_command_list_is_complete(cli):
    listing = cli("--help").stdout
    for name in ("compute", "stress", "check", "greeks", "validate", "scenarios", "models"):
        assert name in listing


def test_currency_reports_money_in_coin_terms(cli):
    path = SAMPLES / "multi_asset.yaml"
    usd = json.loads(cli("compute", path, "--format", "json", "--by-account").stdout)
    btc = json.loads(
        cli("compute", path, "--format", "json", "--by-account", "--currency", "btc").stdout
    )
    spot = 95000.0  # BTC in sample_portfolios/market.yaml
    assert usd["currency"] == "USD" and btc["currency"] == "BTC"
    for key in ("portfolio_margin", "maintenance_margin", "isolated_margin", "offset", "equity"):
        assert btc[key] == pytest.approx(usd[key] / spot, rel=1e-12), key
    assert btc["worst_scenario"]["pnl"] == pytest.approx(usd["worst_scenario"]["pnl"] / spot)
    assert btc["accounts"][0]["portfolio_margin"] == pytest.approx(
        usd["accounts"][0]["portfolio_margin"] / spot
    )
    for p_usd, p_btc in zip(usd["positions"], btc["positions"], strict=True):
        assert p_btc["value"] == pytest.approx(p_usd["value"] / spot)
        assert p_btc["delta"] == p_usd["delta"]  # coins of each underlying, not converted
    assert btc["status"] == usd["status"]


def test_unknown_currency_is_bad_input(cli):
    result = cli("compute", SAMPLES / "multi_asset.yaml", "--currency", "DOGE")
    assert result.exit_code == 2
    assert "--currency DOGE: not USD and not an underlying of the market" in result.stderr
