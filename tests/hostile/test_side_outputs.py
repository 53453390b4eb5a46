"""Files written beside the result (``--junit``, ``--plot``) are written like ``--output``: never
over an input, even when the run fails, and atomically (a failed write leaves the old file)."""

from __future__ import annotations

import os

import pytest
from hostile_cases import BOOK, MARKET


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    (tmp_path / "market.yaml").write_text(MARKET)
    (tmp_path / "book.csv").write_text(BOOK)
    return tmp_path


def test_a_junit_naming_the_portfolio_is_not_written_even_on_bad_input(cli, folder):
    (folder / "limits.yaml").write_text("limits: {max_margin: 1, max_margin: 2}\n")
    result = cli("check", "book.csv", "--limits", "limits.yaml", "--junit", "book.csv")
    assert result.exit_code == 2
    assert "--junit book.csv: is an input of this run" in result.stderr
    assert (folder / "book.csv").read_text() == BOOK


def test_a_junit_naming_the_config_limits_is_never_written(cli, folder):
    (folder / "limits.yaml").write_text("limits: {max_margin: 1000000}\n")
    (folder / "pmargin.yaml").write_text("limits: limits.yaml\n")
    result = cli("check", "book.csv", "--junit", "limits.yaml")
    assert result.exit_code == 2
    assert "--junit limits.yaml: is an input of this run" in result.stderr
    assert (folder / "limits.yaml").read_text() == "limits: {max_margin: 1000000}\n"


def test_a_failed_chart_write_leaves_the_old_chart_and_no_temporary_file(cli, folder, monkeypatch):
    pytest.importorskip("matplotlib")
    (folder / "chart.png").write_bytes(b"old chart")

    def refuse(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    result = cli("compute", "book.csv", "--plot", "chart.png", "--format", "json")
    assert result.exit_code == 2
    assert "--plot chart.png: cannot write the chart: No space left on device" in result.stderr
    assert (folder / "chart.png").read_bytes() == b"old chart"
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
