"""``pmargin scenarios list|show``: every bundled set listed, its shocks as the YAML gives them."""

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pmargin.io.scenario_file import bundled_dir, bundled_sets

REPO_SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def _expected_count(document: dict) -> int:
    """Scenarios in a bundled set, counted from its file (and its prices file) directly."""
    kind = document.get("kind", "explicit")
    if kind == "explicit":
        return len(document["scenarios"])
    if kind == "grid":
        spot = document["spot"]
        moves = spot["steps"] if isinstance(spot, dict) else len(spot)
        return moves * len(document.get("vol", document.get("vol_shift", [0])))
    if kind == "montecarlo":
        return document["paths"]
    closes = pd.read_csv(REPO_SCENARIOS / document["prices"], parse_dates=["date"])
    start = pd.Timestamp(str(document.get("start", closes["date"].min().date())))
    end = pd.Timestamp(str(document.get("end", closes["date"].max().date())))
    rows = closes[(closes["date"] >= start) & (closes["date"] <= end)]
    return len(rows) - document["horizon_days"]


def test_every_bundled_set_is_listed_with_its_description(cli):
    result = cli("scenarios", "list", "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)["scenario_sets"]
    names = sorted(p.stem for p in REPO_SCENARIOS.glob("*.yaml"))
    assert [r["name"] for r in rows] == names == bundled_sets()
    for row in rows:
        document = yaml.safe_load((REPO_SCENARIOS / f"{row['name']}.yaml").read_text())
        assert row["count"] == _expected_count(document)
        assert row["description"] == document["description"]
        assert row["kind"] == document.get("kind", "explicit")


def test_scenarios_alone_lists_the_library_as_a_table(cli):
    result = cli("scenarios")
    assert result.exit_code == 0, result.stderr
    for name in bundled_sets():
        assert name in result.stdout
    assert result.stdout == cli("scenarios", "list").stdout


def test_show_gives_the_shocks_of_the_yaml(cli):
    result = cli("scenarios", "show", "crash", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    document = yaml.safe_load((bundled_dir() / "crash.yaml").read_text())
    assert data["name"] == "crash" and data["underlyings"] == ["BTC", "ETH", "*"]
    for shown, raw in zip(data["scenarios"], document["scenarios"], strict=True):
        assert shown["name"] == raw["name"]
        for underlying in ("BTC", "ETH", "*"):
            given = raw.get("shocks", {}).get(underlying, raw)
            assert shown["shocks"][underlying]["spot"] == given.get("spot", 0.0)
            assert shown["shocks"][underlying]["vol"] == given.get("vol", 0.0)


def test_show_as_a_table(cli):
    result = cli("scenarios", "show", "vol_spike")
    assert result.exit_code == 0, result.stderr
    assert "vol_spike — explicit, 7 scenarios" in result.stdout
    assert "vol shift +10 pts" in result.stdout


def test_show_a_grid_historical_and_montecarlo_file(tmp_path, monkeypatch, write, cli):
    monkeypatch.chdir(tmp_path)
    write("g.yaml", "kind: grid\nspot: [-0.1, 0.1]\nvol_shift: [0, 0.1]\n")
    write("prices.csv", "date,BTC\n2021-01-01,100\n2021-01-02,80\n2021-01-03,100\n")
    write("h.yaml", "kind: historical\nprices: prices.csv\n")
    write("m.yaml", "kind: montecarlo\npaths: 500\nseed: 3\n")
    grid = json.loads(cli("scenarios", "show", "g.yaml", "--format", "json").stdout)
    assert grid["grid"] == {"spot": [-0.1, 0.1], "vol": [0.0, 0.1], "vol_kind": "vol_shift"}
    assert grid["scenarios"][1]["shocks"]["*"] == {"spot": -0.1, "vol": 0.0, "vol_shift": 0.1}
    hist = json.loads(cli("scenarios", "show", "h.yaml", "--format", "json").stdout)
    assert [s["shocks"]["BTC"]["spot"] for s in hist["scenarios"]] == [80 / 100 - 1, 100 / 80 - 1]
    assert (hist["start"], hist["end"], hist["horizon_days"]) == ("2021-01-01", "2021-01-03", 1)
    table = cli("scenarios", "show", "m.yaml")
    assert table.exit_code == 0, table.stderr
    assert "montecarlo, 500 scenarios" in table.stdout
    assert "distribution normal" in " ".join(table.stdout.split())


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["scenarios", "show", "nosuch"], "scenarios show nosuch: no such file or bundled"),
        (["scenarios", "show", "bad.yaml"], "bad.yaml: kind: unknown kind 'nope'"),
    ],
)
def test_show_bad_input_exit_2(tmp_path, monkeypatch, write, cli, args, expected):
    monkeypatch.chdir(tmp_path)
    write("bad.yaml", "kind: nope\n")
    result = cli(*args)
    assert result.exit_code == 2
    assert expected in " ".join(result.stderr.split())
    assert result.stdout == ""


def test_validate_knows_the_new_kinds(tmp_path, monkeypatch, write, cli):
    monkeypatch.chdir(tmp_path)
    write("m.yaml", "kind: montecarlo\npaths: 10\n")
    write("bad.yaml", "kind: montecarlo\npaths: 0\n")
    ok = cli("validate", "m.yaml")
    assert ok.exit_code == 0 and "ok: m.yaml (scenario set)" in ok.stdout
    bad = cli("validate", "bad.yaml")
    assert bad.exit_code == 2 and "bad.yaml: paths: must be a whole number ≥ 1" in bad.stderr
