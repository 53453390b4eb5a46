"""``pmargin.yaml``: found in the current folder or by ``--config``; paths relative to it; the
command line wins."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from pmargin.errors import InputError
from pmargin.io.project_config import (
    ProjectConfig,
    find_config,
    load_config,
    project_config,
)
from pmargin.io.validate import validate_file

BOOK = "instrument,quantity\nBTC_USDC-PERPETUAL,2\n"
OTHER_MARKET = """\
as_of: 2024-11-25T08:00:00Z
underlyings:
  BTC: {spot: 50000, vol: 0.5}
"""


@pytest.fixture
def project(tmp_path, monkeypatch, market_path):
    """tmp_path/proj with a book, a 50,000 BTC market and a pmargin.yaml; cwd = tmp_path."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "book.csv").write_text(BOOK)
    (folder / "half.yaml").write_text(OTHER_MARKET)
    (folder / "pmargin.yaml").write_text("portfolio: book.csv\nmarket: half.yaml\n")
    return folder


def greeks_delta_usd(stdout: str) -> float:
    return json.loads(stdout)["underlyings"][0]["delta_usd"]


def test_no_config_means_no_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert find_config() is None
    assert project_config() == ProjectConfig()
    assert project_config().model_or_default(None) == "deribit"
    assert list(project_config().scenarios) == []


def test_paths_resolve_against_the_config_folder(project, tmp_path):
    config = load_config(project / "pmargin.yaml")
    assert config.portfolio == project / "book.csv"
    assert config.market == project / "half.yaml"
    assert config.limits is None


def test_config_in_the_current_folder_fills_portfolio_and_market(project, monkeypatch, cli):
    monkeypatch.chdir(project)
    result = cli("greeks", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert greeks_delta_usd(result.stdout) == pytest.approx(2 * 50_000)


def test_explicit_config_from_another_folder(project, cli):
    result = cli("--config", "proj/pmargin.yaml", "greeks", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert greeks_delta_usd(result.stdout) == pytest.approx(2 * 50_000)


def test_command_line_wins(project, monkeypatch, cli, market_path):
    monkeypatch.chdir(project)
    (project / "three.csv").write_text("instrument,quantity\nBTC_USDC-PERPETUAL,3\n")
    by_arg = cli("greeks", "three.csv", "--format", "json")
    assert greeks_delta_usd(by_arg.stdout) == pytest.approx(3 * 50_000)  # config market kept
    by_both = cli("greeks", "three.csv", "--market", market_path, "--format", "json")
    assert greeks_delta_usd(by_both.stdout) == pytest.approx(3 * 100_000)


def test_portfolio_yaml_market_key_beats_the_config_market(project, monkeypatch, cli, write):
    monkeypatch.chdir(project)
    (project / "own.yaml").write_text(
        "market: ../market.yaml\npositions:\n  - {instrument: BTC_USDC-PERPETUAL, quantity: 1}\n"
    )
    result = cli("greeks", "own.yaml", "--format", "json")
    assert greeks_delta_usd(result.stdout) == pytest.approx(100_000)


def _model_copy(folder: Path, name: str) -> Path:
    text = (resources.files("pmargin") / "models" / "deribit.yaml").read_text(encoding="utf-8")
    lines = [f"name: {name}" if line.startswith("name:") else line for line in text.splitlines()]
    path = folder / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_model_default_from_config_and_command_line_wins(project, monkeypatch, cli):
    monkeypatch.chdir(project)
    _model_copy(project, "house")
    (project / "pmargin.yaml").write_text("portfolio: book.csv\nmodel: house.yaml\n")
    assert json.loads(cli("compute", "--format", "json").stdout)["model"] == "house"
    result = cli("compute", "--model", "deribit", "--format", "json")
    assert json.loads(result.stdout)["model"] == "deribit"


def test_check_model_order_limits_file_over_config(project, monkeypatch, cli):
    monkeypatch.chdir(project)
    _model_copy(project, "house")
    _model_copy(project, "strict")
    (project / "limits.yaml").write_text("model: strict.yaml\nlimits: {max_margin: 1e9}\n")
    (project / "pmargin.yaml").write_text(
        "portfolio: book.csv\nmodel: house.yaml\nlimits: limits.yaml\n"
    )
    assert json.loads(cli("check", "--format", "json").stdout)["model"] == "strict"
    result = cli("check", "--model", "deribit", "--format", "json")
    assert json.loads(result.stdout)["model"] == "deribit"
    (project / "limits.yaml").write_text("limits: {max_margin: 1e9}\n")
    assert json.loads(cli("check", "--format", "json").stdout)["model"] == "house"


def test_default_scenarios_are_bundled_names_or_resolved_paths(project):
    (project / "mine.yaml").write_text("name: mine\nscenarios: [{name: down, spot: -0.5}]\n")
    (project / "pmargin.yaml").write_text("scenarios: [crash, mine.yaml]\n")
    assert list(project_config(project / "pmargin.yaml").scenarios) == [
        "crash",
        str(project / "mine.yaml"),
    ]
    (project / "pmargin.yaml").write_text("scenarios: crash.yaml\n")  # bundled, as --scenario
    assert list(project_config(project / "pmargin.yaml").scenarios) == ["crash.yaml"]


def test_config_scenarios_feed_max_loss_when_the_limits_file_lists_none(project, monkeypatch, cli):
    monkeypatch.chdir(project)
    (project / "limits.yaml").write_text("limits: {max_loss: 1e9}\n")
    (project / "pmargin.yaml").write_text(
        "portfolio: book.csv\nmarket: half.yaml\nscenarios: [crash]\nlimits: limits.yaml\n"
    )
    data = json.loads(cli("check", "--format", "json").stdout)
    assert data["scenario_sets"] == ["crash"]
    # 2 BTC at 50,000; the crash set's worst is -50%: a loss of 50,000
    assert data["checks"][0]["value"] == pytest.approx(50_000)


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("portfolo: book.csv\n", "pmargin.yaml: portfolo", "Did you mean `portfolio`?"),
        ("market: nope.yaml\n", "pmargin.yaml: market", "market file nope.yaml not found"),
        ("model: derbit\n", "pmargin.yaml: model", "Did you mean `deribit`?"),
        ("model: nope.yaml\n", "pmargin.yaml: model", "model file nope.yaml not found"),
        ("scenarios: {a: 1}\n", "pmargin.yaml: scenarios", "expected a list of scenario sets"),
        ("scenarios: [vol_spik]\n", "pmargin.yaml: scenarios[0]", "Did you mean `vol_spike`?"),
        ("limits: 5\n", "pmargin.yaml: limits", "expected a file name, found 5"),
    ],
)
def test_malformed_config_names_file_and_key(tmp_path, monkeypatch, text, where, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pmargin.yaml").write_text(text)
    with pytest.raises(InputError) as info:
        project_config()
    [problem] = info.value.problems
    assert problem.where == where
    assert message in str(problem)


def test_malformed_config_breaks_commands_with_exit_2(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "book.csv").write_text(BOOK)
    (tmp_path / "pmargin.yaml").write_text("portfolio: book.csv\nmodle: deribit\n")
    result = cli("compute")
    assert result.exit_code == 2
    assert "pmargin.yaml: modle: unknown key `modle`. Did you mean `model`?" in result.stderr


def test_no_portfolio_anywhere_mentions_the_config(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    result = cli("greeks")
    assert result.exit_code == 2
    assert "set `portfolio:` in pmargin.yaml" in " ".join(result.stderr.split())


def test_validate_recognises_config_and_limits_files(project):
    (project / "limits.yaml").write_text("scenarios: [crash]\nlimits: {max_margin: 1}\n")
    assert validate_file(project / "pmargin.yaml") == "project config"
    assert validate_file(project / "limits.yaml") == "limits file"
