"""`pmargin compute` prints exactly what the library computes, in every format."""

import csv
import json

import pytest
from conftest import SAMPLES, csv_body, without_run

from pmargin import compute_margin, load_market, load_portfolio
from pmargin.cli import app
from pmargin.report.margin import margin_dict

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
    printed = without_run(json.loads(result.stdout))
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
    # deribit: 16% price range + 1% roll shock of 1 BTC at 100,000 each
    assert [a["portfolio_margin"] for a in data["accounts"]] == pytest.approx([17000.0, 17000.0])
    assert data["portfolio_margin"] == 0.0  # across accounts the two legs net


def test_table_csv_markdown_and_output_file(cli, tmp_path):
    path = SAMPLES / "hedged_btc_options.csv"
    table = cli("compute", path)
    assert table.exit_code == 0
    assert "Portfolio margin" in table.stdout and "covered-call" in table.stdout
    rows = list(csv.DictReader(csv_body(cli("compute", path, "--format", "csv").stdout)))
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


def app_commands() -> list[list[str]]:
    """Every command of the app, sub-commands of groups included, read from typer itself."""
    commands = [[info.name] for info in app.registered_commands]
    for group in app.registered_groups:
        commands += [[group.name, info.name] for info in group.typer_instance.registered_commands]
    return commands


def test_the_app_lists_every_command_module():
    # a command module without a registration would be missing from app_commands()
    names = {c[0] for c in app_commands()}
    modules = {p.stem for p in (SAMPLES.parent / "pmargin" / "commands").glob("*.py")}
    assert modules - {"__init__", "common"} <= names
    assert {"compute", "stress", "check", "greeks", "validate", "scenarios", "models"} <= names


@pytest.mark.parametrize("command", app_commands(), ids=" ".join)
def test_every_command_has_help(cli, command):
    result = cli(*command, "--help")
    assert result.exit_code == 0
    _, _, rest = result.stdout.partition("\n")
    assert "Usage:" in result.stdout and len(rest.strip()) > 40


def test_the_command_list_is_complete(cli):
    listing = cli("--help").stdout
    for command in app_commands():
        assert command[0] in listing


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
