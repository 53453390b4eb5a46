"""Bad limits files and configs: exit 2 with one message that names the file and the key."""

from __future__ import annotations

import pytest

from pmargin.errors import InputError
from pmargin.io.limits_file import load_limits
from pmargin.limits import GreekLimit

BOOK = "instrument,quantity\nBTC_USDC-PERPETUAL,2\n"


@pytest.mark.parametrize(
    ("files", "args", "expected"),
    [
        (
            {"limits.yaml": "limits: {max_margn: 1}\n"},
            ["--limits", "limits.yaml"],
            "limits.yaml: limits.max_margn: unknown limit `max_margn`. Did you mean `max_margin`?",
        ),
        (
            {"limits.yaml": "limits: {maxdelta: {BTC: 1}}\n"},
            ["--limits", "limits.yaml"],
            "Did you mean `max_delta`?",
        ),
        (
            {"limits.yaml": "limits: {max_margin: lots}\n"},
            ["--limits", "limits.yaml"],
            "limits.yaml: limits.max_margin: expected a number, found 'lots'",
        ),
        (
            {"limits.yaml": "limits: {max_loss: -5}\nscenarios: [crash]\n"},
            ["--limits", "limits.yaml"],
            "limits.yaml: limits.max_loss: must be ≥ 0, found -5",
        ),
        (
            {"limits.yaml": "limits: {max_delta: {BTC: -1}}\n"},
            ["--limits", "limits.yaml"],
            "limits.yaml: limits.max_delta.BTC: must be ≥ 0, found -1",
        ),
        (
            {"limits.yaml": "limits: {max_vega: .inf}\n"},
            ["--limits", "limits.yaml"],
            "limits.yaml: limits.max_vega: inf is not a finite number",
        ),
        (
            {},
            ["--limits", "missing.yaml"],
            "missing.yaml: limits file not found",
        ),
        (
            {"limits.yaml": "scenarios: [crsh]\nlimits: {max_loss: 1}\n"},
            ["--limits", "limits.yaml"],
            "limits.yaml: scenarios[0]: unknown scenario set 'crsh'",
        ),
        (
            {"limits.yaml": "scenarios: [crsh]\nlimits: {max_loss: 1}\n"},
            ["--limits", "limits.yaml"],
            "Did you mean `crash`?",
        ),
        (
            {"limits.yaml": "limits: {max_loss: 1}\n"},
            ["--limits", "limits.yaml"],
            "limits.yaml: limits.max_loss: needs scenario sets",
        ),
        (
            {"limits.yaml": "limits: {min_excess: 0}\n"},
            ["--limits", "limits.yaml"],
            "limits.yaml: limits.min_excess: needs equity, and the portfolio states no collateral",
        ),
        (
            {"limits.yaml": "model: derbit\nlimits: {max_margin: 1}\n"},
            ["--limits", "limits.yaml"],
            "limits.yaml: model: unknown model 'derbit'. Did you mean `deribit`?",
        ),
        (
            {"limits.yaml": "limit: {max_margin: 1}\n"},
            ["--limits", "limits.yaml"],
            "limits.yaml: limit: unknown key `limit`. Did you mean `limits`?",
        ),
        (
            {"limits.yaml": "limits: {}\n"},
            ["--limits", "limits.yaml"],
            "limits.yaml: limits: missing or empty",
        ),
        (
            {"limits.yaml": "limits: [\n"},
            ["--limits", "limits.yaml"],
            "limits.yaml:2: malformed YAML",
        ),
        (
            {"pmargin.yaml": "portfolio: book.csv\nlimits: [\n"},
            [],
            "pmargin.yaml:3: malformed YAML",
        ),
        (
            {"pmargin.yaml": "portfolio: book.csv\nlimit: limits.yaml\n"},
            [],
            "pmargin.yaml: limit: unknown key `limit`. Did you mean `limits`?",
        ),
        (
            {"pmargin.yaml": "portfolio: book.csv\nlimits: nope.yaml\n"},
            [],
            "pmargin.yaml: limits: limits file nope.yaml not found",
        ),
        (
            {"pmargin.yaml": "portfolio: [book.csv]\n"},
            ["--limits", "x.yaml"],
            "pmargin.yaml: portfolio: expected a file name, found ['book.csv']",
        ),
        (
            {"pmargin.yaml": "- portfolio\n"},
            [],
            "pmargin.yaml: expected a mapping of portfolio, market, model, scenarios, limits",
        ),
        (
            {"pmargin.yaml": "portfolio: book.csv\n"},
            [],
            "--limits: no limits file given",
        ),
        (
            {"pmargin.yaml": "portfolio: book.csv\nlimits: pmargin.yaml\n"},
            [],
            "pmargin.yaml: limits: expected a mapping of limit names to numbers, found the file",
        ),
    ],
)
def test_bad_input_exits_2(tmp_path, monkeypatch, market_path, cli, files, args, expected):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "book.csv").write_text(BOOK)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    portfolio = [] if "pmargin.yaml" in files else ["book.csv"]
    result = cli("check", *portfolio, *args)
    assert result.exit_code == 2, result.stdout
    assert expected in " ".join(result.stderr.split()), result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_explicit_config_that_does_not_exist(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    result = cli("--config", "nope.yaml", "check")
    assert result.exit_code == 2
    assert "--config nope.yaml: config file not found" in result.stderr


def test_all_problems_of_a_limits_file_are_reported_together(write):
    path = write(
        "limits.yaml",
        "scenarios: [nosuchset]\nlimits: {max_margn: 1, max_delta: {BTC: x, ETH: -1}}\n",
    )
    with pytest.raises(InputError) as info:
        load_limits(path)
    wheres = [p.where for p in info.value.problems]
    assert wheres == [
        f"{path}: scenarios[0]",
        f"{path}: limits.max_margn",
        f"{path}: limits.max_delta.BTC",
        f"{path}: limits.max_delta.ETH",
    ]


def test_limit_on_an_underlying_the_portfolio_lacks_is_a_warning(
    tmp_path, monkeypatch, market_path, cli
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "book.csv").write_text(BOOK)
    (tmp_path / "limits.yaml").write_text("limits: {max_delta: {BTC: 5, ETH: 1}}\n")
    result = cli("check", "book.csv", "--limits", "limits.yaml")
    assert result.exit_code == 0
    assert "warning: limits.yaml: limits.max_delta.ETH: the portfolio holds no ETH" in " ".join(
        result.stderr.split()
    )


def test_greek_limit_forms(write):
    limits = load_limits(
        write(
            "limits.yaml",
            "limits:\n  max_delta: {btc: 25, ETH: 300, Total: 1000000}\n  max_vega: 20000\n",
        )
    )
    assert limits.max_delta == GreekLimit({"BTC": 25.0, "ETH": 300.0}, 1_000_000.0)
    assert limits.max_vega == GreekLimit({}, 20_000.0)
    assert limits.max_gamma is None
    assert limits.names == ["max_delta", "max_vega"]


def test_scenarios_resolve_beside_the_limits_file_then_bundled(tmp_path, write):
    folder = tmp_path / "ci"
    folder.mkdir()
    (folder / "mine.yaml").write_text("name: mine\nscenarios: [{name: down, spot: -0.5}]\n")
    path = folder / "limits.yaml"
    path.write_text("scenarios: [mine.yaml, crash]\nlimits: {max_loss: 1}\n")
    limits = load_limits(path)
    assert [s.name for s in limits.scenario_sets] == ["mine", "crash"]


def test_scenario_set_warnings_reach_stderr(tmp_path, monkeypatch, market_path, cli):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "book.csv").write_text(BOOK + "ETH_USDC-PERPETUAL,-10\n")
    (tmp_path / "btc_only.yaml").write_text(
        "name: btc_only\nscenarios:\n  - {name: down, shocks: {BTC: {spot: -0.1}}}\n"
    )
    (tmp_path / "limits.yaml").write_text("scenarios: [btc_only.yaml]\nlimits: {max_loss: 1e9}\n")
    result = cli("check", "book.csv", "--limits", "limits.yaml")
    assert result.exit_code == 0
    assert "does not shock ETH, which the portfolio holds" in " ".join(result.stderr.split())
