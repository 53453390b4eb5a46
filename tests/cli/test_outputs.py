"""Complete machine outputs: provenance in every format, the summary in CSV and markdown, CSV
shapes for --compare and --by-account, and the format that --output's extension asks for."""

from __future__ import annotations

import csv
import json
import re

import pytest
from conftest import SAMPLES, csv_body

from pmargin import __version__

BOOK = SAMPLES / "hedged_btc_options.csv"
#: a command line for every command that prints a result (JSON tested for each)
JSON_COMMANDS = {
    "compute": ["compute", BOOK],
    "stress": ["stress", BOOK, "-s", "crash"],
    "check": ["check", "--config", SAMPLES / "pmargin.yaml"],
    "greeks": ["greeks", BOOK],
    "liquidate": [
        "liquidate",
        SAMPLES / "short_puts_btc.yaml",
        "--market",
        SAMPLES / "market_btc_down_25.yaml",
    ],
    "scenarios list": ["scenarios", "list"],
    "scenarios show": ["scenarios", "show", "crash"],
    "models list": ["models", "list"],
    "models show": ["models", "show", "span"],
    "market estimate": ["market", "estimate", SAMPLES.parent / "scenarios/btc_eth_daily_close.csv"],
}


@pytest.mark.parametrize("name", list(JSON_COMMANDS))
def test_every_json_has_run(cli, name):
    result = cli(*JSON_COMMANDS[name], "--format", "json")
    assert result.exit_code == 0, result.stderr  # the sample limits hold
    run = json.loads(result.stdout)["run"]
    assert set(run) == {"pmargin", "as_of", "market", "model"}
    assert run["pmargin"] == __version__


def test_run_names_the_market_its_as_of_and_the_model(cli):
    run = json.loads(cli("compute", BOOK, "--model", "span", "--format", "json").stdout)["run"]
    assert run == {
        "pmargin": __version__,
        "as_of": "2024-11-25T08:00:00Z",
        "market": str(SAMPLES / "market.yaml"),
        "model": "span",
    }


def test_every_format_says_what_produced_it(cli):
    line = f"pmargin {__version__} · model deribit · market {SAMPLES / 'market.yaml'}"
    table = " ".join(cli("compute", BOOK).stdout.split())
    assert line in table and "as of 2024-11-25T08:00:00Z" in table
    assert cli("compute", BOOK, "--format", "csv").stdout.startswith(f"# {line}")
    markdown = cli("compute", BOOK, "--format", "markdown").stdout
    assert markdown.rstrip().endswith(f"_{line} as of 2024-11-25T08:00:00Z_")


def summary_fields(text: str) -> dict[str, str]:
    line = next(x for x in text.splitlines() if x.startswith("# summary: "))
    pairs = re.findall(r'(\w[\w.]*)=("(?:[^"\\]|\\.)*"|[^,]*)', line.removeprefix("# summary: "))
    return {key: json.loads(value) if value.startswith('"') else value for key, value in pairs}


def test_the_csv_of_compute_carries_the_portfolio_margin(cli):
    data = json.loads(cli("compute", SAMPLES / "multi_asset.yaml", "--format", "json").stdout)
    text = cli("compute", SAMPLES / "multi_asset.yaml", "--format", "csv").stdout
    fields = summary_fields(text)
    for key in ("portfolio_margin", "maintenance_margin", "isolated_margin", "equity"):
        assert float(fields[key]) == pytest.approx(data[key], abs=0.005)
    assert fields["status"] == data["status"] == "ok"
    assert fields["worst_scenario"] == data["worst_scenario"]["name"]
    rows = list(csv.DictReader(csv_body(text)))
    assert len(rows) == len(data["positions"])  # and the rows, a position each


def test_markdown_carries_the_summary(cli):
    markdown = cli("compute", BOOK, "--format", "markdown").stdout
    for label in ("Portfolio margin (initial)", "Maintenance margin", "Isolated margin", "Status"):
        assert f"| {label} |" in markdown


def test_compare_csv_has_a_row_per_model(cli):
    text = cli("compute", BOOK, "--compare", "--format", "csv").stdout
    rows = list(csv.DictReader(csv_body(text)))
    data = json.loads(cli("compute", BOOK, "--compare", "--format", "json").stdout)
    assert [r["model"] for r in rows] == list(data["models"])
    for row in rows:
        expected = data["models"][row["model"]]["portfolio_margin"]
        assert float(row["portfolio_margin"]) == pytest.approx(expected)


def test_by_account_csv_has_a_row_per_account_and_no_json_in_cells(cli, write, market_path):
    book = write(
        "book.csv",
        "account,instrument,quantity\na,BTC_USDC-PERPETUAL,2\nb,BTC_USDC-PERPETUAL,-2\n",
    )
    text = cli("compute", book, "--market", market_path, "--by-account", "--format", "csv").stdout
    rows = list(csv.DictReader(csv_body(text)))
    assert [r["account"] for r in rows] == ["a", "b"]
    assert all("{" not in cell for row in rows for cell in row.values())
    assert "worst_scenario.name" in rows[0] and "components.risk_matrix" in rows[0]


@pytest.mark.parametrize(
    ("suffix", "check"),
    [
        (".json", lambda text: json.loads(text)["model"] == "deribit"),
        (".csv", lambda text: text.startswith("# pmargin") and "\nid,account," in text),
        (".md", lambda text: text.startswith("## pmargin compute")),
        (".txt", lambda text: "Portfolio margin — model deribit" in text),
    ],
)
def test_the_format_follows_the_output_extension(cli, tmp_path, suffix, check):
    out = tmp_path / f"result{suffix}"
    result = cli("compute", BOOK, "-o", out)
    assert result.exit_code == 0 and result.stdout == ""
    assert check(out.read_text())


def test_an_explicit_format_wins_over_the_extension(cli, tmp_path):
    out = tmp_path / "result.json"
    cli("compute", BOOK, "--format", "csv", "-o", out)
    assert out.read_text().startswith("# pmargin")


def test_a_market_beside_the_portfolio_hidden_by_the_config_is_named(
    cli, tmp_path, monkeypatch, market_path
):
    project = tmp_path / "proj"
    (project / "books").mkdir(parents=True)
    (project / "books" / "book.csv").write_text("instrument,quantity\nBTC_USDC-PERPETUAL,1\n")
    (project / "books" / "market.yaml").write_text(market_path.read_text())
    (project / "desk.yaml").write_text(market_path.read_text())
    (project / "pmargin.yaml").write_text("market: desk.yaml\n")
    monkeypatch.chdir(project)
    result = cli("compute", "books/book.csv", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["run"]["market"].endswith("desk.yaml")
    warning = " ".join(result.stderr.split())
    assert "using the market desk.yaml of pmargin.yaml, not books/market.yaml" in warning
    assert "pass --market to choose" in warning
    assert "warning" not in cli("compute", "books/book.csv", "--market", "desk.yaml").stderr
