"""``pmargin check`` end to end in a temporary project folder with a ``pmargin.yaml``.

Reference values are computed by hand here: linear perpetuals have delta = quantity and P&L =
quantity × spot × move; the one option is priced with a Black-76 formula written out below.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET

import pytest
from conftest import csv_body, without_run

# BTC 100,000 and ETH 4,000, vol 0.5, rate 0, as of 2024-11-25 08:00 (tests/conftest.py MARKET_YAML)
SPOT = {"BTC": 100_000.0, "ETH": 4_000.0}
T = 32 / 365  # 2024-11-25 08:00 -> 2024-12-27 08:00
VOL = 0.5

BOOK = """\
instrument,quantity
BTC_USDC-PERPETUAL,2
ETH_USDC-PERPETUAL,-10
BTC_USDC-27DEC24-100000-C,-1
"""

SCENARIOS = """\
name: moves
scenarios:
  - {name: "all -10%", spot: -0.10}
  - name: "BTC +5%, ETH +20%"
    shocks:
      BTC: {spot: 0.05}
      ETH: {spot: 0.20}
"""

CONFIG = """\
portfolio: book.csv
market: market.yaml
scenarios: [moves.yaml]
limits: limits.yaml
"""


def table_rows(stdout: str) -> list[list[str]]:
    """The cells of the rich table rows in ``stdout``."""
    return [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in stdout.splitlines()
        if line.strip().startswith("│")
    ]


def norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def black_call(forward: float, strike: float, t: float, vol: float) -> float:
    d1 = (math.log(forward / strike) + 0.5 * vol * vol * t) / (vol * math.sqrt(t))
    d2 = d1 - vol * math.sqrt(t)
    return forward * norm_cdf(d1) - strike * norm_cdf(d2)


def call_delta() -> float:
    return norm_cdf(0.5 * VOL * math.sqrt(T))  # at the money, forward = spot


def call_vega() -> float:
    d1 = 0.5 * VOL * math.sqrt(T)
    return SPOT["BTC"] * math.exp(-0.5 * d1 * d1) / math.sqrt(2 * math.pi) * math.sqrt(T)


def expected_pnl(btc_move: float, eth_move: float) -> float:
    btc, eth = SPOT["BTC"], SPOT["ETH"]
    call = black_call(btc * (1 + btc_move), 100_000, T, VOL) - black_call(btc, 100_000, T, VOL)
    return 2 * btc * btc_move - 10 * eth * eth_move - call


WORST_LOSS = -min(expected_pnl(-0.10, -0.10), expected_pnl(0.05, 0.20))
BTC_DELTA = 2 - call_delta()
GROSS_USD_DELTA = abs(BTC_DELTA) * SPOT["BTC"] + 10 * SPOT["ETH"]


@pytest.fixture
def project(tmp_path, monkeypatch, write, market_path):
    """A project folder with book, market, scenarios and pmargin.yaml; the cwd is set to it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    write("book.csv", BOOK)
    write("moves.yaml", SCENARIOS)
    write("pmargin.yaml", CONFIG)

    def limits(text: str, name: str = "limits.yaml"):
        return write(name, text)

    return limits


PASSING = f"""\
limits:
  max_loss: {WORST_LOSS * 1.01}
  max_delta: {{BTC: 1.5, ETH: 10, total: {GROSS_USD_DELTA * 1.01}}}
  max_vega: {{BTC: {call_vega() * 1.01}}}
"""

BREACHING = f"""\
limits:
  max_loss: {WORST_LOSS * 0.99}
  max_delta: {{BTC: 1.4, ETH: 10}}
  max_vega: {call_vega() * 1.01}
"""


def test_hand_references_are_what_the_limits_are_set_around():
    assert 1.4 < BTC_DELTA < 1.5  # N(d1) of a one-month ATM call at 50% vol is about 0.53
    assert expected_pnl(-0.10, -0.10) < expected_pnl(0.05, 0.20) < 0  # "all -10%" is the worst


def test_pass_exits_0_with_no_arguments(project, cli):
    project(PASSING)
    result = cli("check", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["passed"] is True
    by_label = {(c["name"], c.get("underlying")): c for c in data["checks"]}
    assert by_label[("max_loss", None)]["value"] == pytest.approx(WORST_LOSS, rel=1e-9)
    assert by_label[("max_delta", "BTC")]["value"] == pytest.approx(BTC_DELTA, rel=1e-9)
    # |−10 ETH| = 10 exactly at the limit: a limit holds with zero headroom
    assert by_label[("max_delta", "ETH")]["value"] == pytest.approx(-10.0)
    assert by_label[("max_delta", "ETH")]["headroom"] == pytest.approx(0.0, abs=1e-9)
    assert by_label[("max_delta", "total")]["value"] == pytest.approx(GROSS_USD_DELTA, rel=1e-9)
    assert by_label[("max_vega", "BTC")]["value"] == pytest.approx(-call_vega(), rel=1e-9)
    for check in data["checks"]:
        assert {"name", "account", "value", "limit", "passed", "headroom"} <= set(check)
        assert check["account"] is None
        assert check["passed"] is True


def test_breach_exits_1_and_names_the_limits(project, cli):
    project(BREACHING)
    result = cli("check")
    assert result.exit_code == 1, result.stderr
    assert "FAIL: 2 of 4 limits breached" in result.stdout
    results = {row[1]: row[0] for row in table_rows(result.stdout)}
    assert results == {
        "max_loss": "FAIL",
        "max_delta[BTC]": "FAIL",
        "max_delta[ETH]": "PASS",
        "max_vega[total]": "PASS",
    }
    assert result.stderr == ""


def test_breaching_json_lists_headroom_as_limit_minus_value(project, cli):
    project(BREACHING)
    result = cli("check", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["passed"] is False
    assert data["breaches"] == 2
    loss = next(c for c in data["checks"] if c["name"] == "max_loss")
    assert loss["passed"] is False
    assert loss["headroom"] == pytest.approx(WORST_LOSS * 0.99 - WORST_LOSS, rel=1e-9)
    assert loss["detail"] == "worst: moves: all -10%"
    vega_total = next(c for c in data["checks"] if c["name"] == "max_vega")
    assert vega_total["underlying"] == "total"
    assert vega_total["value"] == pytest.approx(call_vega(), rel=1e-9)  # gross: |net vega|


def test_command_line_arguments_win_over_the_config(project, cli, write):
    project(BREACHING)
    project(PASSING, "other_limits.yaml")
    assert cli("check", "--limits", "other_limits.yaml").exit_code == 0
    write("flat.csv", "instrument,quantity\nETH_USDC-PERPETUAL,-1\n")
    result = cli("check", "flat.csv", "--format", "json")  # the config's breaching limits
    assert result.exit_code == 0, result.stdout  # ... hold for a 1 ETH book
    delta_btc = next(c for c in json.loads(result.stdout)["checks"] if c.get("underlying") == "BTC")
    assert delta_btc["value"] == 0.0
    assert "holds no BTC" in result.stderr


def test_junit_file_parses_and_counts_breaches(project, cli, tmp_path):
    project(BREACHING)
    result = cli("check", "--junit", "reports/junit.xml", "--format", "json")
    assert result.exit_code == 2  # the reports folder does not exist
    assert "--junit reports/junit.xml: cannot write" in result.stderr
    (tmp_path / "reports").mkdir()
    result = cli("check", "--junit", "reports/junit.xml", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    root = ET.parse(tmp_path / "reports" / "junit.xml").getroot()
    cases = root.findall(".//testcase")
    failures = root.findall(".//testcase/failure")
    assert len(cases) == len(data["checks"]) == 4
    assert len(failures) == data["breaches"] == 2
    assert root.get("failures") == "2"
    assert root.find("testsuite").get("tests") == "4"
    failed = sorted(c.get("name") for c in cases if c.find("failure") is not None)
    assert failed == ["max_delta[BTC]", "max_loss"]
    assert "limit: at most 1.4 BTC" in root.find(".//testcase[@name='max_delta[BTC]']/failure").get(
        "message"
    )


def test_junit_of_a_passing_check_has_no_failures(project, cli, tmp_path):
    project(PASSING)
    assert cli("check", "--junit", "junit.xml").exit_code == 0
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert root.findall(".//failure") == []
    assert len(root.findall(".//testcase")) == 5


def test_markdown_summary_is_appended_to_github_step_summary(project, cli, tmp_path, monkeypatch):
    project(BREACHING)
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert cli("check").exit_code == 1
    assert cli("check").exit_code == 1
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# earlier step\n")
    assert text.count("## pmargin check: ❌ FAIL: 2 of 4 limits breached") == 2
    assert "| ❌ FAIL | max_delta[BTC] |" in text
    assert "| ✅ PASS | max_delta[ETH] |" in text


def test_format_markdown_prints_the_summary(project, cli):
    project(PASSING)
    result = cli("check", "--format", "markdown")
    assert result.exit_code == 0
    assert result.stdout.startswith("## pmargin check: ✅ PASS: all 5 limits hold")
    assert "| result | check | value | limit | headroom | unit | note |" in result.stdout


def test_format_csv_has_one_row_per_check(project, cli):
    project(PASSING)
    result = cli("check", "--format", "csv")
    assert result.stdout.startswith("# pmargin ") and "# summary: passed=true" in result.stdout
    lines = csv_body(result.stdout).read().strip().splitlines()
    assert lines[0] == "name,account,underlying,value,limit,headroom,passed,unit,detail"
    assert len(lines) == 1 + 5


def test_check_json_equals_the_library_result(project, cli, market_path, tmp_path):
    from pmargin import load_market, load_portfolio
    from pmargin.io.limits_file import load_limits
    from pmargin.io.model_file import load_model
    from pmargin.io.scenario_file import load_scenarios
    from pmargin.limits import check_limits
    from pmargin.margin import DEFAULT_MODEL
    from pmargin.report.check import check_dict

    project(BREACHING)
    cli_data = without_run(json.loads(cli("check", "--format", "json").stdout))
    limits = load_limits("limits.yaml")
    limits = limits.with_scenarios([load_scenarios("moves.yaml")])  # from pmargin.yaml
    model = load_model(limits.model or DEFAULT_MODEL)
    library = check_dict(
        check_limits(load_portfolio("book.csv"), load_market(market_path), limits, model)
    )
    assert cli_data == library


def test_per_account_checks(tmp_path, monkeypatch, write, market_path, cli):
    monkeypatch.chdir(tmp_path)
    write(
        "accounts.csv",
        "account,instrument,quantity\nalpha,BTC_USDC-PERPETUAL,2\nbeta,ETH_USDC-PERPETUAL,-10\n",
    )
    write("moves.yaml", SCENARIOS)
    write(
        "limits.yaml",
        "scenarios: [moves.yaml]\n"
        "limits: {max_loss: 18000, max_delta: {BTC: 1, ETH: 20, total: 100000}}\n",
    )
    result = cli("check", "accounts.csv", "--limits", "limits.yaml", "--format", "json")
    assert result.exit_code == 1
    checks = json.loads(result.stdout)["checks"]
    values = {(c["account"], c["name"], c.get("underlying")): c for c in checks}
    assert len(checks) == 2 * 4
    # alpha: 2 BTC; worst of -20,000 (all -10%) and +10,000
    assert values[("alpha", "max_loss", None)]["value"] == pytest.approx(20_000)
    assert values[("alpha", "max_loss", None)]["passed"] is False
    assert values[("alpha", "max_delta", "BTC")]["value"] == pytest.approx(2.0)
    assert values[("alpha", "max_delta", "ETH")]["value"] == 0.0
    assert values[("alpha", "max_delta", "total")]["value"] == pytest.approx(200_000)
    # beta: short 10 ETH loses 8,000 when ETH rises 20%
    assert values[("beta", "max_loss", None)]["value"] == pytest.approx(8_000)
    assert values[("beta", "max_delta", "ETH")]["value"] == pytest.approx(-10.0)
    assert values[("beta", "max_delta", "total")]["value"] == pytest.approx(40_000)
    assert values[("beta", "max_delta", "total")]["passed"] is True
    table = cli("check", "accounts.csv", "--limits", "limits.yaml")
    assert "alpha" in table.stdout and "beta" in table.stdout


def test_margin_and_equity_limits_against_compute(tmp_path, monkeypatch, write, market_path, cli):
    monkeypatch.chdir(tmp_path)
    write(
        "book.yaml",
        """\
        account: desk
        collateral: {USD: 60000, BTC: 1}
        positions:
          - {instrument: BTC_USDC-27DEC24-100000-C, quantity: -2}
        """,
    )
    write(
        "limits.yaml",
        "limits: {max_margin: 1000000, max_margin_to_equity: 0.5, min_excess: 100000}\n",
    )
    compute = json.loads(
        cli("compute", "book.yaml", "--market", market_path, "--format", "json").stdout
    )
    result = cli("check", "book.yaml", "--limits", "limits.yaml", "--format", "json")
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    margin, equity = compute["portfolio_margin"], compute["equity"]
    call = black_call(SPOT["BTC"], 100_000, T, VOL)
    assert equity == pytest.approx(60_000 + SPOT["BTC"] - 2 * call, rel=1e-9)  # hand check
    assert checks["max_margin"]["value"] == pytest.approx(margin)
    assert checks["max_margin_to_equity"]["value"] == pytest.approx(margin / equity)
    assert checks["min_excess"]["value"] == pytest.approx(equity - margin)
    assert checks["min_excess"]["headroom"] == pytest.approx(equity - margin - 100_000)
    assert checks["max_margin"]["account"] == "desk"
    assert result.exit_code == 0  # excess ≈ 132,600 ≥ 100,000; margin/equity ≈ 0.11 ≤ 0.5
    write("tight.yaml", f"limits: {{min_excess: {equity - margin + 1}}}\n")
    tight = cli("check", "book.yaml", "--limits", "tight.yaml", "--format", "json")
    assert tight.exit_code == 1
    assert json.loads(tight.stdout)["checks"][0]["headroom"] == pytest.approx(-1.0)


def test_margin_to_equity_with_no_positive_equity_is_a_breach(
    tmp_path, monkeypatch, write, market_path, cli
):
    monkeypatch.chdir(tmp_path)
    write(
        "book.yaml",
        """\
        collateral: {USD: 0}
        positions:
          - {instrument: BTC_USDC-27DEC24-100000-C, quantity: -1}
        """,
    )
    write("limits.yaml", "limits: {max_margin_to_equity: 10}\n")
    result = cli("check", "book.yaml", "--market", market_path, "--limits", "limits.yaml")
    assert result.exit_code == 1
    row = table_rows(result.stdout)[0]
    assert row[:3] == ["FAIL", "(none)", "max_margin_to_equity"] or row[:2] == [
        "FAIL",
        "max_margin_to_equity",
    ]
    assert "USD ≤ 0" in result.stdout
    data = json.loads(
        cli("check", "book.yaml", "--limits", "limits.yaml", "--format", "json").stdout
    )
    assert data["checks"][0]["value"] is None
    assert data["checks"][0]["headroom"] is None
    assert data["checks"][0]["passed"] is False


@pytest.mark.parametrize(("order", "expected"), [(2, 3.0), (-3, -2.0), (-1, 1.0)])
def test_greek_limits_take_the_worse_of_with_and_without_open_orders(
    tmp_path, monkeypatch, write, market_path, cli, order, expected
):
    monkeypatch.chdir(tmp_path)
    write(
        "book.yaml",
        f"""\
        positions:
          - {{instrument: BTC_USDC-PERPETUAL, quantity: 1}}
        orders:
          - {{instrument: BTC_USDC-PERPETUAL, quantity: {order}, price: 99000}}
        """,
    )
    write("limits.yaml", "limits: {max_delta: {BTC: 2.5, total: 250000}}\n")
    result = cli("check", "book.yaml", "--limits", "limits.yaml", "--format", "json")
    delta, total = json.loads(result.stdout)["checks"]
    assert delta["value"] == pytest.approx(expected)
    assert total["value"] == pytest.approx(abs(expected) * SPOT["BTC"])
    assert result.exit_code == (1 if abs(expected) > 2.5 else 0)
