"""``pmargin stress`` end to end: formats, options, the heatmap, progress and bad input."""

import csv
import io
import json

import pytest
from conftest import csv_body, without_run
from rich.console import Console

from pmargin import load_market, load_portfolio, load_scenarios
from pmargin.render import usd
from pmargin.render.stress import heatmap_table, stress_progress
from pmargin.report.stress import stress_dict, tidy
from pmargin.stress import run_stress

BOOK = "instrument,quantity\nBTC_USDC-PERPETUAL,2\nBTC_USDC-28MAR25-90000-P,-5\n"
GRID = "kind: grid\nspot: [-0.2, 0, 0.2]\nvol: [0, 0.5]\n"
MC = "kind: montecarlo\npaths: 1500\nhorizon_days: 2\nseed: 3\n"


@pytest.fixture
def files(tmp_path, monkeypatch, write, market_path):
    monkeypatch.chdir(tmp_path)
    write("book.csv", BOOK)
    write("grid.yaml", GRID)
    write("mc.yaml", MC)
    write("prices.csv", "date,BTC\n2021-01-01,100\n2021-01-02,80\n2021-01-03,90\n")
    write("hist.yaml", "kind: historical\nprices: prices.csv\n")
    return tmp_path


def test_json_is_the_library_result(files, cli):
    result = cli("stress", "book.csv", "-s", "grid.yaml", "-s", "mc.yaml", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = without_run(json.loads(result.stdout))
    book, market = load_portfolio("book.csv"), load_market("market.yaml")
    sets = [load_scenarios("grid.yaml"), load_scenarios("mc.yaml")]
    assert data == json.loads(json.dumps(stress_dict(run_stress(book, market, sets))))
    grid, mc = data["scenario_sets"]
    assert grid["name"] == "grid" and grid["kind"] == "grid" and grid["var_95"] is None
    assert mc["kind"] == "montecarlo" and mc["count"] == 1500
    assert mc["es_99"] >= mc["var_99"] >= mc["var_95"] > 0
    assert set(data["scenarios"][0]) >= {"set", "name", "pnl", "by_underlying"}
    assert data["worst"]["pnl"] == min(s["pnl"] for s in data["scenarios"])
    worst_set = grid if data["worst"]["set"] == "grid" else mc
    assert data["worst"]["name"] == worst_set["worst"]["name"]


def test_historical_replay_through_the_cli(files, cli):
    result = cli("stress", "book.csv", "-s", "hist.yaml", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [s["name"] for s in data["scenarios"]] == [
        "2021-01-01 → 2021-01-02",
        "2021-01-02 → 2021-01-03",
    ]
    assert data["scenarios"][0]["shocks"]["BTC"]["spot"] == pytest.approx(-0.2)
    assert data["scenario_sets"][0]["var_99"] == -data["scenarios"][0]["pnl"]


def test_table_shows_sets_var_heatmap_and_worst(files, cli):
    result = cli("stress", "book.csv", "-s", "grid.yaml", "-s", "mc.yaml", "--top", "4")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "grid — grid, 6 scenarios (USD, worst first)" in out
    assert "mc — montecarlo, 1,500 scenarios (USD, worst first)" in out
    assert "P&L heatmap (USD) by spot and vol" in out
    assert "VaR 95%" in out and "ES 99%" in out
    assert "the 4 worst of 1,500\n" in out  # --top asked for them: no "for more" hint
    assert out.count("path ") == 4
    assert "Worst scenario: grid / spot -20%, vol +50%" in out


def test_long_sets_show_their_20_worst_by_default(files, cli):
    out = cli("stress", "book.csv", "-s", "mc.yaml").stdout
    assert "the 20 worst of 1,500; --top N or --format csv for more" in " ".join(out.split())


def test_by_position_lists_the_drivers_of_the_worst_scenario(files, cli):
    result = cli("stress", "book.csv", "-s", "grid.yaml", "--by", "position", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(csv_body(result.stdout)))
    assert [r["instrument"] for r in rows] == ["BTC_USDC-28MAR25-90000-P", "BTC_USDC-PERPETUAL"]
    assert float(rows[1]["pnl"]) == pytest.approx(2 * 100_000 * -0.2)
    table = cli("stress", "book.csv", "-s", "grid.yaml", "--by", "position").stdout
    assert "Positions in the worst scenario" in table


def test_csv_flattens_the_scenarios(files, cli):
    result = cli("stress", "book.csv", "-s", "grid.yaml", "--format", "csv")
    rows = list(csv.DictReader(csv_body(result.stdout)))
    assert list(rows[0]) == [
        "set",
        "name",
        "pnl",
        "pnl_BTC",
        "spot_BTC",
        "vol_BTC",
        "vol_shift_BTC",
    ]
    assert len(rows) == 6
    assert [float(r["pnl"]) for r in rows] == sorted(float(r["pnl"]) for r in rows)


def test_markdown_has_risk_lines_and_the_heatmap(files, cli):
    out = cli("stress", "book.csv", "-s", "grid.yaml", "-s", "mc.yaml", "--format", "markdown")
    text = out.stdout
    assert "## grid (grid, 6 scenarios)" in text
    assert "| vol \\ spot | -20% | 0% | +20% |" in text
    assert "## mc (montecarlo, 1,500 scenarios)" in text
    assert "VaR 95% " in text and "**Worst:** grid / spot -20%, vol +50%" in text


def test_rendered_heatmap_cells_are_the_grid_pnl(files):
    result = run_stress(
        load_portfolio("book.csv"), load_market("market.yaml"), [load_scenarios("grid.yaml")]
    )
    grid = stress_dict(result)["scenario_sets"][0]["grid"]
    console = Console(file=io.StringIO(), width=160)
    table, dropped = heatmap_table(grid).table(None, transposed=False).fit(console, 160)
    assert dropped == []
    for j, column in enumerate(table.columns[1:]):
        cells = [str(cell) for cell in column._cells]
        assert cells == [usd(tidy(row[j]), signed=True) for row in grid["pnl"]]


def test_warnings_go_to_stderr_and_the_run_goes_on(files, write, cli):
    write("eth.yaml", "scenarios:\n  - {name: x, shocks: {ETH: {spot: -0.1}}, spot: -0.1}\n")
    result = cli("stress", "book.csv", "-s", "eth.yaml")
    assert result.exit_code == 0
    assert "warning: scenario set eth (eth.yaml): shocks for ETH are ignored" in " ".join(
        result.stderr.split()
    )
    assert "ETH" not in result.stdout


def test_no_progress_bar_when_stderr_is_not_a_terminal(files, cli, monkeypatch):
    result = cli("stress", "book.csv", "-s", "mc.yaml")
    assert "Valuing" not in result.stderr
    with stress_progress(5000) as progress:
        assert progress is None
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    with stress_progress(5000) as progress:
        assert callable(progress)
        progress("mc", 2000, 5000)
        progress("mc", 5000, 5000)
    with stress_progress(500) as progress:
        assert progress is None  # small sets: no bar


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["stress", "book.csv"], "--scenario: no scenario set given"),
        (["stress", "book.csv", "-s", "nosuch"], "--scenario nosuch: no such file or bundled"),
        (["stress", "book.csv", "-s", "bad.yaml"], "bad.yaml: kind: unknown kind 'replay'"),
        (["stress", "book.csv", "-s", "h2.yaml"], "h2.yaml: prices: prices file"),
        (["stress", "book.csv", "-s", "m0.yaml"], "m0.yaml: paths: must be a whole number ≥ 1"),
        (
            ["stress", "book.csv", "-s", "mc.yaml", "--market", "psd.yaml"],
            "psd.yaml: correlations: the correlation matrix of BTC, ETH, SOL is not positive "
            "semi-definite",
        ),
        (
            ["stress", "book.csv", "-s", "mc.yaml", "--market", "nopair.yaml"],
            "nopair.yaml: correlations.BTC.ETH: no correlation between BTC and ETH",
        ),
        (["stress", "book.csv", "-s", "grid.yaml", "--top", "0"], "--top"),
    ],
)
def test_bad_input_exit_2_naming_file_and_key(files, write, cli, args, expected):
    write("bad.yaml", "kind: replay\n")
    write("h2.yaml", "kind: historical\nprices: none.csv\n")
    write("m0.yaml", "kind: montecarlo\npaths: 0\n")
    eth = "instrument,quantity\nBTC_USDC-PERPETUAL,1\nETH_USDC-PERPETUAL,1\nSOL_USDC-PERPETUAL,1\n"
    if "psd.yaml" in args:
        write("book.csv", eth)
    write(
        "psd.yaml",
        "as_of: 2024-11-25\nunderlyings:\n  BTC: {spot: 1, vol: 0.5}\n  ETH: {spot: 1, vol: 0.5}\n"
        "  SOL: {spot: 1, vol: 0.5}\n"
        "correlations:\n  BTC: {ETH: 0.9, SOL: 0.9}\n  ETH: {SOL: -0.9}\n",
    )
    if "nopair.yaml" in args:
        write("book.csv", eth.replace("SOL_USDC-PERPETUAL,1\n", ""))
    write(
        "nopair.yaml",
        "as_of: 2024-11-25\nunderlyings:\n  BTC: {spot: 1, vol: 0.5}\n  ETH: {spot: 1, vol: 0.5}\n",
    )
    result = cli(*args)
    assert result.exit_code == 2, result.stdout
    assert expected in " ".join(result.stderr.split()), result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_every_failing_set_is_reported_at_once(files, write, cli):
    write("bad.yaml", "kind: replay\n")
    write("m0.yaml", "kind: montecarlo\npaths: 0\n")
    result = cli("stress", "book.csv", "-s", "bad.yaml", "-s", "m0.yaml")
    assert result.exit_code == 2
    assert "2 problems" in result.stderr


def test_a_held_underlying_missing_from_the_prices_file_is_exit_2(files, write, cli):
    write("book.csv", "instrument,quantity\nBTC_USDC-PERPETUAL,1\nETH_USDC-PERPETUAL,1\n")
    result = cli("stress", "book.csv", "-s", "hist.yaml")
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "hist.yaml: prices: the portfolio holds ETH but prices.csv has no column for ETH" in (
        message
    )
    assert 'e.g. `proxies: {ETH: BTC}` or `{"*": BTC}`' in message
