"""A book of USD cash alone (no positions, no coin: no instrument to price) is margined at 0
by every model, and what-if, explain, breakeven and liquidate answer for it, without a
traceback. ``liquidate --mode proportional`` writes such a book as ``--positions-after`` when
it closes everything, and ``compute`` must read it back."""

from __future__ import annotations

import json

import pytest

from pmargin.io.model_file import bundled_models

MARKET = """\
as_of: 2024-11-25T08:00:00Z
underlyings:
  BTC: {spot: 95000, vol: 0.55}
"""
CASH = "account: z\ncollateral: {USD: 1000}\npositions: []\n"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "market.yaml").write_text(MARKET)
    (tmp_path / "cash.yaml").write_text(CASH)
    return tmp_path


def _json(result) -> dict:
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("model", bundled_models())
def test_every_model_margins_cash_at_zero(folder, cli, model):
    data = _json(cli("compute", "cash.yaml", "--model", model, "--format", "json"))
    assert data["portfolio_margin"] == 0.0
    assert data["maintenance_margin"] == 0.0
    assert data["equity"] == 1000.0
    assert data["status"] == "ok"


@pytest.mark.parametrize("model", bundled_models())
def test_cash_answers_every_question(folder, cli, model):
    explain = _json(cli("explain", "cash.yaml", "--model", model, "--format", "json"))
    assert explain["positions"] == []
    whatif = _json(
        cli("whatif", "cash.yaml", "--add", "BTC-PERPETUAL:1", "--model", model, "--format", "json")
    )
    assert whatif["before"]["initial_margin"] == 0.0
    assert whatif["after"]["initial_margin"] > 0.0
    breakeven = _json(cli("breakeven", "cash.yaml", "--model", model, "--format", "json"))
    assert breakeven["equity"] == 1000.0
    assert breakeven["underlyings"] == {}
    liquidate = _json(cli("liquidate", "cash.yaml", "--model", model, "--format", "json"))
    assert liquidate["accounts"][0]["before"]["maintenance_margin"] == 0.0


def test_a_proportional_liquidation_to_cash_reads_back(folder, cli):
    (folder / "book.yaml").write_text(
        "account: a\ncollateral: {USD: 100}\n"
        "positions:\n  - {instrument: BTC-27DEC24-95000-P, quantity: -5}\n"
    )
    plan = cli(
        "liquidate",
        "book.yaml",
        "--model",
        "span",
        "--mode",
        "proportional",
        "--positions-after",
        "after.yaml",
    )
    assert plan.exit_code == 0, plan.stderr
    assert "positions: []" in (folder / "after.yaml").read_text()
    data = _json(cli("compute", "after.yaml", "--model", "span", "--format", "json"))
    assert data["portfolio_margin"] == 0.0
