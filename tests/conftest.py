"""Shared fixtures: a small market snapshot and a CLI runner, all written to tmp_path."""

from __future__ import annotations

import io
import os
import textwrap
from pathlib import Path

import pytest
from hypothesis import settings
from typer.testing import CliRunner

from pmargin import compute_margin, load_market, load_portfolio
from pmargin.cli import app

#: the bundled sample portfolios and their market (import with `from conftest import SAMPLES`)
SAMPLES = Path(__file__).resolve().parents[1] / "sample_portfolios"

# CI runs the property tests with a fixed seed (reproducible runs); locally they explore freely
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

MARKET_YAML = """\
as_of: 2024-11-25T08:00:00Z
rate: 0.0
underlyings:
  BTC: {spot: 100000, vol: 0.5}
  ETH: {spot: 4000, vol: 0.6}
correlations:
  BTC: {ETH: 0.8}
"""


@pytest.fixture(autouse=True)
def _default_width(monkeypatch):
    """Output to a file or pipe is 160 columns unless COLUMNS says otherwise: tests that check
    another width set it themselves."""
    monkeypatch.delenv("COLUMNS", raising=False)


@pytest.fixture
def write(tmp_path: Path):
    """write("name.csv", text) -> path of a dedented file in tmp_path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def market_path(write) -> Path:
    return write("market.yaml", MARKET_YAML)


def margin_csv(write, market_path: Path, rows: str, model="deribit", **kwargs):
    """The MarginResult of a portfolio CSV (its text ``rows``) written with the ``write``
    fixture, on the market at ``market_path``; ``model`` is a name, a YAML path or a model."""
    portfolio = load_portfolio(write("book.csv", rows))
    return compute_margin(portfolio, load_market(market_path), str(model), **kwargs)


@pytest.fixture
def cli():
    """cli(*args) -> click Result with .exit_code, .stdout, .stderr."""
    runner = CliRunner()

    def _run(*args: str):
        return runner.invoke(app, [str(a) for a in args])

    return _run


def csv_body(text: str) -> io.StringIO:
    """A CSV output without its leading ``#`` lines (the run and the summary)."""
    lines = text.splitlines(keepends=True)
    return io.StringIO("".join(line for line in lines if not line.startswith("#")))


def without_run(data: dict) -> dict:
    """A JSON output without its ``run`` block, once the block names what produced it."""
    run = data.pop("run")
    assert set(run) == {"pmargin", "as_of", "market", "model"}
    return data
