"""run_stress with the new kinds: chunking, VaR/ES, warnings, the grid heatmap and positions."""

from pathlib import Path

import numpy as np
import pytest

from pmargin import InputError, load_market, load_portfolio, load_scenarios
from pmargin import stress as stress_module
from pmargin.engine import value
from pmargin.montecarlo import MonteCarloSet
from pmargin.pricing.black76 import black76_price
from pmargin.report.stress import stress_dict
from pmargin.risk_measures import TailRisk
from pmargin.scenarios import grid_set
from pmargin.stress import run_stress

BOOK = "instrument,quantity\nBTC_USDC-PERPETUAL,2\nBTC_USDC-28MAR25-90000-P,-5\n"


@pytest.fixture
def book(write):
    return load_portfolio(write("book.csv", BOOK))


@pytest.fixture
def market(market_path):
    return load_market(market_path)


def test_chunked_valuation_equals_one_pass(book, market, monkeypatch):
    mc = MonteCarloSet("mc", paths=1003, horizon_days=2, seed=4)
    calls = []
    monkeypatch.setattr(stress_module, "CHUNK_SCENARIOS", 100)
    result = run_stress(book, market, [mc], progress=lambda *a: calls.append(a))
    set_result = result.sets[0]
    one_pass = value(set_result.valuation.book, mc.shocks(("BTC",), market))
    np.testing.assert_allclose(set_result.pnl, one_pass.pnl, rtol=1e-13, atol=1e-9)
    assert calls[-1] == ("mc", 1003, 1003) and len(calls) == 11


def test_sampled_sets_carry_var_and_es_and_others_do_not(book, market):
    mc = MonteCarloSet("mc", paths=2000, horizon_days=2, seed=4)
    grid = grid_set("g", [-0.1, 0.0, 0.1], [0.0])
    result = run_stress(book, market, [mc, grid])
    assert result.sets[0].tail_risk == TailRisk.of(result.sets[0].pnl)
    assert result.sets[0].tail_risk.es_99 >= result.sets[0].tail_risk.var_99 > 0
    assert result.sets[1].tail_risk is None
    data = stress_dict(result)
    assert data["scenario_sets"][0]["var_99"] == result.sets[0].tail_risk.var_99
    assert data["scenario_sets"][1]["var_99"] is None


def test_a_grid_that_leaves_a_held_underlying_unshocked_warns(write, market):
    book = load_portfolio(write("b.csv", "instrument,quantity\nETH_USDC-PERPETUAL,1\n"))
    explicit = load_scenarios(
        write("s.yaml", "scenarios:\n  - {name: btc down, shocks: {BTC: {spot: -0.2}}}\n")
    )
    (warning_btc, warning_eth) = run_stress(book, market, [explicit]).sets[0].warnings
    assert "shocks for BTC are ignored; the portfolio holds no BTC" in warning_btc
    assert "does not shock ETH, which the portfolio holds" in warning_eth
    assert warning_eth.endswith("its spot and vol stay as they are: its P&L there is 0")


def test_a_time_only_set_says_time_still_passes_for_an_unshocked_underlying(write, market):
    book = load_portfolio(write("b.csv", "instrument,quantity\nBTC-27DEC24-90000-P,10\n"))
    days = load_scenarios(write("s.yaml", "scenarios:\n  - {name: ten days, days: 10}\n"))
    result = run_stress(book, market, [days]).sets[0]
    (warning,) = result.warnings
    assert warning.endswith(
        'does not shock BTC, which the portfolio holds (no BTC or "*" '
        "entry); its spot and vol stay as they are"
    )
    assert result.pnl[0] < 0  # the puts lose ten days of time value: not a P&L of 0


def test_a_bad_set_weight_is_one_problem_not_one_per_scenario(write):
    with pytest.raises(InputError) as caught:
        load_scenarios(write("s.yaml", "weight: -1\nscenarios:\n  - {name: a, spot: -0.1}\n"))
    assert [p.message for p in caught.value.problems] == ["must be ≥ 0, found -1"]


def test_heatmap_cells_are_the_grid_pnl_from_closed_forms(book, market):
    spots, vols = [-0.2, -0.1, 0.0, 0.1], [-0.25, 0.0, 0.5]
    result = run_stress(book, market, [grid_set("g", spots, vols)])
    grid = stress_dict(result)["scenario_sets"][0]["grid"]
    assert (grid["spot"], grid["vol"]) == (spots, vols)
    time = (np.datetime64("2025-03-28T08:00") - np.datetime64("2024-11-25T08:00")).astype(float) / (
        365 * 1440
    )
    base_put = black76_price(100_000.0, 90_000.0, time, 0.5, 1.0, False)
    for i, vol in enumerate(vols):
        for j, spot in enumerate(spots):
            put = black76_price(100_000 * (1 + spot), 90_000.0, time, 0.5 * (1 + vol), 1.0, False)
            expected = 2 * 100_000 * spot - 5 * (put - base_put)
            assert grid["pnl"][i][j] == pytest.approx(expected, rel=1e-9, abs=1e-6)


def test_positions_of_the_worst_scenario_add_up_to_it(book, market):
    result = run_stress(book, market, [grid_set("g", [-0.3, 0.3], [0.0, 0.5])])
    data = stress_dict(result, by_position=True)
    assert sum(p["pnl"] for p in data["positions"]) == pytest.approx(data["worst"]["pnl"])
    assert data["worst"]["name"] == "spot -30%, vol +50%"
    assert [p["instrument"] for p in data["positions"]] == [
        "BTC_USDC-28MAR25-90000-P",
        "BTC_USDC-PERPETUAL",
    ]
    assert data["positions"][1]["pnl"] == pytest.approx(2 * 100_000 * -0.3)


def test_scenarios_are_sorted_worst_first_and_top_cuts_each_set(book, market):
    sets = [grid_set("a", [-0.2, 0.1, -0.1, 0.2], [0.0]), grid_set("b", [0.1, -0.1], [0.0])]
    data = stress_dict(run_stress(book, market, sets), top=3)
    names = [(s["set"], s["name"]) for s in data["scenarios"]]
    assert names == [
        ("a", "spot -20%, vol 0%"),
        ("a", "spot -10%, vol 0%"),
        ("a", "spot +10%, vol 0%"),
        ("b", "spot -10%, vol 0%"),
        ("b", "spot +10%, vol 0%"),
    ]
    for row in data["scenarios"]:
        assert row["pnl"] == pytest.approx(sum(row["by_underlying"].values()))


def test_bundled_sets_do_not_warn_about_the_majors_a_book_lacks(write, market, tmp_path):
    book = load_portfolio(write("b.csv", "instrument,quantity\nBTC_USDC-PERPETUAL,1\n"))
    bundled = load_scenarios("crash")  # names BTC and ETH
    copy = tmp_path / "crash.yaml"
    copy.write_text(Path(bundled.source).read_text())
    result = run_stress(book, market, [bundled, load_scenarios(copy)])
    assert result.sets[0].warnings == ()
    assert result.sets[1].warnings == (
        f"scenario set crash ({copy}): shocks for ETH are ignored; the portfolio holds no ETH",
    )
