"""`pmargin stress` on a book with collateral: equity after each scenario, liquidation flags."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import csv_body

from pmargin import compute_margin, load_market, load_model, load_portfolio, load_scenarios
from pmargin import run_stress as api_run_stress
from pmargin.portfolio import Portfolio
from pmargin.stress import run_stress

SAMPLES = Path(__file__).resolve().parents[2] / "sample_portfolios"
BOOK = SAMPLES / "short_puts_btc.yaml"


def _stress(cli, *args) -> dict:
    result = cli("stress", *map(str, args), "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_equity_after_each_scenario_is_equity_plus_pnl(cli):
    data = _stress(cli, BOOK, "-s", "crash", "-s", "rally")
    before = compute_margin(load_portfolio(BOOK), load_market(SAMPLES / "market.yaml"))
    assert data["equity"] == pytest.approx(before.equity, rel=1e-12)
    assert data["maintenance_margin"] == pytest.approx(before.maintenance_margin, rel=1e-12)
    assert data["model"] == "deribit"
    for scenario in data["scenarios"]:
        assert scenario["equity"] == pytest.approx(before.equity + scenario["pnl"], rel=1e-12)
        expected = scenario["equity"] < before.maintenance_margin
        assert scenario["liquidation"] is expected
    for entry in data["scenario_sets"]:
        flags = [s["liquidation"] for s in data["scenarios"] if s["set"] == entry["name"]]
        assert entry["liquidation_count"] == sum(flags)
    counts = {e["name"]: e["liquidation_count"] for e in data["scenario_sets"]}
    assert counts["crash"] > 0 and counts["rally"] == 0


def test_the_model_sets_the_margin_the_equity_is_held_to(cli):
    deribit = _stress(cli, BOOK, "-s", "crash")
    standard = _stress(cli, BOOK, "-s", "crash", "--model", "standard")
    assert standard["model"] == "standard"
    assert standard["maintenance_margin"] != pytest.approx(deribit["maintenance_margin"])
    assert [s["equity"] for s in standard["scenarios"]] == [
        s["equity"] for s in deribit["scenarios"]
    ]


def test_without_collateral_the_keys_are_null(cli):
    data = _stress(cli, SAMPLES / "hedged_btc_options.csv", "-s", "crash")
    assert data["equity"] is None and data["model"] is None
    assert all(s["equity"] is None and s["liquidation"] is None for s in data["scenarios"])
    assert all(e["liquidation_count"] is None for e in data["scenario_sets"])


def test_table_counts_the_scenarios_in_liquidation(cli):
    result = cli("stress", BOOK, "-s", "crash")
    assert "scenarios put an account in liquidation" in result.stdout
    csv_text = cli("stress", BOOK, "-s", "crash", "--format", "csv").stdout
    header = csv_body(csv_text).readline()
    assert "equity" in header and "liquidation" in header


def test_each_account_is_held_to_its_own_margin():
    """Two accounts: equity adds up over them, and a scenario is flagged when either falls
    below its own maintenance margin (the rich one never does here)."""
    one = load_portfolio(BOOK)
    rich_positions = one.positions.assign(account="rich", id=one.positions["id"] + "-rich")
    rich = Portfolio(rich_positions, {"rich": {"BTC": 400.0}}, "rich")
    both = Portfolio(
        pd.concat([one.positions, rich_positions], ignore_index=True),
        {"put-seller": {"BTC": 4.0}, "rich": {"BTC": 400.0}},
        "two accounts",
    )
    market = load_market(SAMPLES / "market.yaml")
    model = load_model("deribit")
    crash = [load_scenarios("crash")]
    together = run_stress(both, market, crash, model=model).sets[0]
    alone = run_stress(one, market, crash, model=model).sets[0]
    rich_alone = run_stress(rich, market, crash, model=model).sets[0]
    assert not rich_alone.in_liquidation.any() and alone.in_liquidation.any()
    np.testing.assert_array_equal(together.in_liquidation, alone.in_liquidation)
    np.testing.assert_allclose(together.equity, alone.equity + rich_alone.equity, rtol=1e-12)


def test_the_run_names_the_model_and_the_csv_summary_counts_liquidations(cli):
    data = _stress(cli, BOOK, "-s", "crash", "-s", "rally", "--model", "standard")
    assert data["run"]["model"] == "standard"
    assert _stress(cli, SAMPLES / "hedged_btc_options.csv", "-s", "crash")["run"]["model"] is None
    text = cli(
        "stress", BOOK, "-s", "crash", "-s", "rally", "--model", "standard", "--format", "csv"
    )
    summary = next(line for line in text.stdout.splitlines() if line.startswith("# summary: "))
    for entry in data["scenario_sets"]:
        assert f"{entry['name']}.liquidation_count={entry['liquidation_count']}" in summary
    assert f"equity={data['equity']:.2f}" in summary
    assert f"maintenance_margin={data['maintenance_margin']:.2f}" in summary


def test_the_library_flags_liquidations_as_the_command_does(cli):
    """``pmargin.run_stress`` margins with deribit unless told otherwise, as the command does."""
    library = api_run_stress(str(BOOK), SAMPLES / "market.yaml", "crash").to_dict()
    assert library == {k: v for k, v in _stress(cli, BOOK, "-s", "crash").items() if k != "run"}
    bare = api_run_stress(BOOK, SAMPLES / "market.yaml", "crash", model=None).to_dict()
    assert bare["equity"] is None and bare["scenario_sets"][0]["liquidation_count"] is None
