"""Command-line conventions: -h, --config after the command, config found from a subfolder,
readable help and errors, NO_COLOR, completion, grammar and number formats, and ``check``
telling CI about bad input."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
import typer.main
from conftest import SAMPLES

from pmargin import render
from pmargin.cli import app
from pmargin.io.project_config import find_config
from pmargin.report import limits_headline, percent, plural, status_words


def every_command_path() -> list[list[str]]:
    """The argument path of every command and group of the app (``[]`` is the app itself)."""
    paths: list[list[str]] = [[]]
    root = typer.main.get_command(app)
    context = typer.Context(root)
    for name in root.list_commands(context):
        command = root.get_command(context, name)
        paths.append([name])
        if hasattr(command, "list_commands"):
            paths += [[name, sub] for sub in command.list_commands(typer.Context(command))]
    return paths


@pytest.mark.parametrize("path", every_command_path(), ids=lambda p: " ".join(p) or "pmargin")
def test_help_is_readable_at_80_columns(cli, monkeypatch, path):
    monkeypatch.setenv("COLUMNS", "80")
    short, long = cli(*path, "-h"), cli(*path, "--help")
    assert short.exit_code == 0 and short.stdout == long.stdout
    text = short.stdout
    for internal in ("<path>", "<str>", "<int>", "<float>", "<list[", "{files}", "{name}", "<%Y"):
        assert internal not in text
    assert "..." not in text.split("Commands:")[-1] or "Commands:" not in text  # whole summaries


def test_config_and_from_are_accepted_after_the_command(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = SAMPLES / "pmargin.yaml"
    after = cli("check", "--config", config, "--format", "json")
    before = cli("--config", config, "check", "--format", "json")
    assert after.exit_code == before.exit_code == 0, after.stderr  # the sample limits hold
    assert json.loads(after.stdout) == json.loads(before.stdout)
    export = tmp_path / "export.csv"
    export.write_text("instrument_name,size\nBTC-PERPETUAL,-250000\n")
    result = cli("compute", export, "--from", "deribit", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["positions"][0]["quantity"] == -25_000


def test_the_config_is_found_from_a_subfolder_up_to_the_repository_root(tmp_path, monkeypatch):
    (tmp_path / "pmargin.yaml").write_text("model: span\n")  # above the repository: not used
    repo = tmp_path / "repo"
    deep = repo / "books" / "desk-1"
    deep.mkdir(parents=True)
    (repo / ".git").mkdir()
    monkeypatch.chdir(deep)
    assert find_config() is None
    (repo / "pmargin.yaml").write_text("model: tims\n")
    assert find_config() == (deep / ".." / ".." / "pmargin.yaml").relative_to(deep)
    (deep / "pmargin.yaml").write_text("model: var\n")
    assert str(find_config()) == "pmargin.yaml"


def test_bad_option_values_are_told_in_plain_words(cli):
    book = SAMPLES / "hedged_btc_options.csv"
    assert cli("compute", book, "--format", "JSON").exit_code == 0  # any case
    bad = cli("compute", book, "--format", "xml")
    assert bad.exit_code == 2
    assert "Invalid value for '--format': xml is not one of table, json, csv, markdown" in (
        bad.stderr
    )
    top = cli("stress", book, "-s", "crash", "--top", "x")
    assert "Invalid value for '--top': expected a whole number" in top.stderr
    assert "Value error" not in bad.stderr + top.stderr
    assert "Input should be" not in top.stderr


def test_no_color_only_when_set_to_something(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "")
    assert not render.no_color()
    monkeypatch.setenv("NO_COLOR", "1")
    assert render.no_color() and render.stdout_console().no_color


def test_shell_completion_is_offered(cli):
    assert "--install-completion" in cli("--help").stdout


def test_grammar_and_number_formats():
    assert plural(1, "open order") == "1 open order"
    assert plural(3, "open order") == "3 open orders"
    assert limits_headline(True, 0, 1) == "the 1 limit holds"
    assert limits_headline(True, 0, 6) == "all 6 limits hold"
    assert limits_headline(False, 1, 1) == "the 1 limit is breached"
    assert limits_headline(False, 2, 6) == "2 of 6 limits breached"
    assert status_words("margin_call") == "margin call"
    assert [percent(x) for x in (-0.3446, 0.125, -0.16, 0.0004, -1e-17, 1 / 3)] == [
        "-34.5%",
        "+12.5%",
        "-16%",
        "+0.04%",
        "0%",
        "+33.3%",
    ]
    assert render.usd(-0.3, signed=True) == "0" and render.usd(-1234.6) == "-1,235"
    assert render.number(-1e-17) == "0"


def test_a_margin_call_is_shown_in_words(cli, write, market_path):
    book = write(
        "book.yaml",
        f"""\
        market: {market_path}
        collateral: {{USD: 1000}}
        positions:
          - {{instrument: BTC-27DEC24-100000-C, quantity: -5}}
        """,
    )
    result = cli("compute", book)
    assert result.exit_code == 0, result.stderr
    assert "liquidation" in result.stdout or "margin call" in result.stdout
    assert "MARGIN_CALL" not in result.stdout and "LIQUIDATION" not in result.stdout


def test_check_tells_ci_about_bad_input(cli, write, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    limits = write("limits.yaml", "limits: {max_margni: 5}\n")
    junit = tmp_path / "junit.xml"
    result = cli("check", SAMPLES / "hedged_btc_options.csv", "--limits", limits, "--junit", junit)
    assert result.exit_code == 2
    error = "unknown limit `max_margni`. Did you mean `max_margin`?"
    assert error in result.stderr
    root = ET.parse(junit).getroot()
    assert (root.get("tests"), root.get("failures")) == ("1", "1")
    (failure,) = root.iter("failure")
    assert error in failure.get("message")
    assert "ERROR: the limits could not be checked" in summary.read_text()
    assert error in summary.read_text()
