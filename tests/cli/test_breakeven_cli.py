"""`pmargin breakeven` prints exactly what the library computes (SPEC §9 keys)."""

import csv
import json

import pytest
from conftest import SAMPLES, csv_body, without_run

from pmargin import load_market, load_portfolio
from pmargin.io.model_file import load_model
from pmargin.report.breakeven import breakeven_dict
from pmargin.reverse_stress import breakeven


def test_json_equals_the_library_result(cli):
    path = SAMPLES / "multi_asset.yaml"
    result = cli("breakeven", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    printed = without_run(json.loads(result.stdout))
    library = breakeven(
        load_portfolio(path), load_market(SAMPLES / "market.yaml"), load_model("deribit")
    )
    assert printed == json.loads(json.dumps(breakeven_dict(library)))
    assert {"target", "underlyings", "all_together", "vol_up", "joint"} <= set(printed)
    assert printed["target"] == "maintenance"
    assert set(printed["underlyings"]) == {"BTC", "ETH", "SOL"}
    assert all(set(m) == {"spot_down", "spot_up"} for m in printed["underlyings"].values())
    assert set(printed["all_together"]) == {"spot_down", "spot_up"}
    assert {"moves", "distance"} <= set(printed["joint"])


def test_loss_target_formats(cli):
    path = SAMPLES / "hedged_btc_options.csv"
    data = json.loads(cli("breakeven", path, "--loss", "100000", "--format", "json").stdout)
    assert data["target"] == "loss" and data["loss"] == 100000
    assert -1 < data["underlyings"]["BTC"]["spot_down"] < 0
    rows = list(
        csv.DictReader(csv_body(cli("breakeven", path, "--loss", "1e5", "--format", "csv").stdout))
    )
    assert {r["move"] for r in rows} >= {"spot BTC", "spot all", "vol all", "joint BTC"}
    markdown = cli("breakeven", path, "--loss", "1e5", "--format", "markdown").stdout
    assert markdown.startswith("## pmargin breakeven") and "the loss reaches 100,000.00" in markdown
    assert "Most plausible joint move" in cli("breakeven", path, "--loss", "1e5").stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "states no collateral"),
        (["--loss", "-5"], "--loss: must be > 0"),
        (["--loss", "inf"], "--loss: must be > 0"),
        (["--loss", "1000", "--horizon-days", "0"], "--horizon-days: must be > 0"),
    ],
)
def test_bad_requests_exit_2(cli, args, expected):
    result = cli("breakeven", SAMPLES / "hedged_btc_options.csv", *args)
    assert result.exit_code == 2
    assert expected in result.stderr
