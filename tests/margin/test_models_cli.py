"""`pmargin models list | show`, `--model FILE` overrides and `compute --compare`."""

import csv
import json
from pathlib import Path

import pytest
import yaml
from conftest import csv_body

from pmargin import compute_margin, load_market, load_portfolio
from pmargin.book import bind
from pmargin.io.model_file import bundled_models, load_model
from pmargin.portfolio_margin import margin_for_book

MODELS = {"deribit", "derive", "span", "standard", "tims", "var"}
MODELS_DIR = Path(__file__).resolve().parents[2] / "pmargin" / "models"
BOOK = "instrument,quantity\nBTC_USDC-PERPETUAL,1\nBTC_USDC-28MAR25-110000-C,-2\nETH_USDC,-20\n"


def test_every_model_is_bundled():
    assert set(bundled_models()) >= MODELS


def test_list_shows_every_model(cli):
    result = cli("models", "list")
    assert result.exit_code == 0, result.stderr
    for name in MODELS:
        assert name in result.stdout
    assert cli("models").stdout == result.stdout  # list is the default


def test_list_json_has_method_description_and_source(cli):
    result = cli("models", "list", "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)["models"]}
    assert set(rows) >= MODELS
    for name in MODELS:
        assert rows[name]["method"] == name
        assert rows[name]["description"] and rows[name]["source"]
    assert "illustrative" in rows["span"]["source"]


def test_show_json_prints_the_yaml_parameters(cli):
    result = cli("models", "show", "span", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    document = yaml.safe_load((MODELS_DIR / "span.yaml").read_text(encoding="utf-8"))
    assert data["name"] == "span" and data["source"] == document["source"]
    assert Path(data["file"]).samefile(MODELS_DIR / "span.yaml")
    expected = {
        k: v for k, v in document.items() if k not in ("name", "method", "description", "source")
    }
    assert data["parameters"] == expected
    assert data["parameters"]["per_underlying"]["BTC"]["price_scan_range"] == 0.16


@pytest.mark.parametrize("name", sorted(MODELS))
def test_show_table_lists_parameters_and_source(cli, name):
    result = cli("models", "show", name)
    assert result.exit_code == 0, result.stderr
    assert "Source:" in result.stdout and "Parameters" in result.stdout
    assert f"{name}.yaml" in result.stdout


def test_show_csv_and_markdown(cli):
    csv_text = csv_body(cli("models", "show", "tims", "--format", "csv").stdout).read()
    assert csv_text.splitlines()[0] == "parameter,value,source"
    assert 'minimum_per_contract,0.375,"Method: FINRA' in csv_text  # the model's own source
    markdown = cli("models", "show", "standard", "--format", "markdown").stdout
    assert markdown.startswith("## Model `standard`")
    assert "| short_option.initial_floor | 0.1 | Deribit's inverse option margin" in markdown
    assert "| futures.SOL.initial_rate | 0.04 | Deribit support article" in markdown


@pytest.mark.parametrize("name", ["deribit", "standard"])
def test_show_gives_every_parameter_its_own_source_and_date(cli, name):
    rows = list(csv.DictReader(csv_body(cli("models", "show", name, "--format", "csv").stdout)))
    document = yaml.safe_load((MODELS_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
    assert rows and all(row["source"] != document["source"] for row in rows)
    assert all(row["source"].rsplit(", ", 1)[1][:2] == "20" for row in rows)  # a year
    assert not any(row["parameter"].endswith((".source", ".date")) for row in rows)
    by_name = {row["parameter"]: row for row in rows}
    if name == "deribit":
        assert by_name["currency_pairs.ETH.price_range"]["value"] == "0.18"
        assert (
            "not an official document, 2026-02-15"
            in by_name["currency_pairs.ETH.price_range"]["source"]
        )
        assert by_name["currency_pairs.BTC.price_range"]["source"].endswith("2024-06-17")


def test_show_a_model_file(cli, write):
    path = write(
        "mine.yaml",
        "name: mine\nmethod: tims\nsource: desk\nclasses: {crypto: {price_range: 0.2}}\n",
    )
    result = cli("models", "show", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["name"] == "mine" and data["parameters"]["classes"]["crypto"]["price_range"] == 0.2


def test_show_unknown_model_fails_with_the_fix(cli):
    result = cli("models", "show", "nosuch")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "models show nosuch: no such model or file" in result.stderr
    assert "span" in result.stderr


def test_show_bad_model_file_names_the_key(cli, write):
    path = write(
        "bad.yaml", "name: bad\nmethod: span\nper_underlying: {BTC: {price_scan_range: x}}\n"
    )
    result = cli("models", "show", path)
    assert result.exit_code == 2
    assert (
        "per_underlying.BTC.price_scan_range" in result.stderr
        and "expected a number" in result.stderr
    )


def test_commands_have_help(cli):
    for args in (("models", "--help"), ("models", "list", "--help"), ("models", "show", "--help")):
        result = cli(*args)
        assert result.exit_code == 0 and "Usage" in result.stdout


def _eth_range(document):
    document["currency_pairs"]["ETH"]["price_range"] = 0.25


def _flat_btc_futures(document):
    document["futures"]["BTC"]["size_increment"] = 0


@pytest.mark.parametrize(
    ("name", "change", "row", "changed", "bundled"),
    [
        # ETH price range 25% instead of 18%; + the 1% roll shock
        ("deribit", _eth_range, "ETH_USDC-PERPETUAL,25", 0.26 * 100000, 0.19 * 100000),
        # no size increment: a flat 2% on 100 BTC instead of 2% + 100 × 0.005%
        ("standard", _flat_btc_futures, "BTC_USDC-PERPETUAL,100", 0.02 * 1e7, 0.025 * 1e7),
    ],
)
def test_a_copied_model_with_one_change(
    cli, write, market_path, name, change, row, changed, bundled
):
    document = yaml.safe_load((MODELS_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
    change(document)
    model = write("mine.yaml", yaml.safe_dump(document))
    book = write("b.csv", f"instrument,quantity\n{row}\n")
    args = ("compute", book, "--market", market_path, "--format", "json")
    mine = cli(*args, "--model", model)
    assert mine.exit_code == 0, mine.stderr
    assert json.loads(mine.stdout)["portfolio_margin"] == pytest.approx(changed)
    original = json.loads(cli(*args, "--model", name).stdout)["portfolio_margin"]
    assert original == pytest.approx(bundled)


def test_model_file_overrides_a_bundled_parameter(cli, write, market_path):
    document = yaml.safe_load((MODELS_DIR / "span.yaml").read_text(encoding="utf-8"))
    document["per_underlying"]["BTC"]["price_scan_range"] = 0.25
    model = write("wide.yaml", yaml.safe_dump(document))
    book = write("b.csv", "instrument,quantity\nBTC_USDC-PERPETUAL,2\n")
    result = cli("compute", book, "--market", market_path, "--model", model, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["portfolio_margin"] == pytest.approx(2 * 0.25 * 100000)


def test_compare_computes_every_model(write, market_path):
    portfolio, market = load_portfolio(write("b.csv", BOOK)), load_market(market_path)
    result = compute_margin(portfolio, market, compare=bundled_models())
    assert set(result.models) == set(bundled_models())
    book = bind(portfolio, market)
    for name, other in result.models.items():
        alone = margin_for_book(book, load_model(name))
        assert other.portfolio_margin == pytest.approx(alone.portfolio_margin, rel=1e-12), name
        assert other.maintenance_margin == pytest.approx(alone.maintenance_margin, rel=1e-12)
        assert other.portfolio_margin > 0 and other.maintenance_margin >= 0
        assert other.isolated_margin >= other.portfolio_margin - 1e-6, name


def test_compare_json_has_every_model(cli, write, market_path):
    book = write("b.csv", BOOK)
    result = cli("compute", book, "--market", market_path, "--compare", "--format", "json")
    assert result.exit_code == 0, result.stderr
    models = json.loads(result.stdout)["models"]
    assert set(models) == set(bundled_models())
    for data in models.values():
        assert {"portfolio_margin", "maintenance_margin", "isolated_margin", "offset"} <= set(data)
        assert data["offset"] == pytest.approx(data["isolated_margin"] - data["portfolio_margin"])


def test_compare_table_shows_every_model(cli, write, market_path):
    result = cli("compute", write("b.csv", BOOK), "--market", market_path, "--compare")
    assert result.exit_code == 0, result.stderr
    table = result.stdout.split("Margin by model")[1]
    for name in bundled_models():
        assert name in table
