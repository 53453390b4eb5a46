"""The Dask engine gives the local engine's numbers (to 1e-9 relative) on a two-worker cluster.

Skipped where Dask is not installed (``pip install 'pmargin[dask]'``; CI installs it).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from pmargin import compute_margin, load_market, load_portfolio
from pmargin.io.model_file import bundled_models

SYMBOLS = (
    "BTC_USDC-27DEC24-100000-C",
    "BTC-27DEC24-90000-P",
    "BTC_USDC-PERPETUAL",
    "BTC-PERPETUAL",
    "ETH_USDC-27DEC24-4000-P",
    "ETH_USDC-PERPETUAL",
    "ETH-27DEC24",
)


@pytest.fixture(scope="module")
def engine():
    pytest.importorskip("distributed")
    from pmargin.dask_engine import DaskEngine

    with DaskEngine(workers=2) as running:
        yield running


@pytest.fixture
def book(write, market_path):
    """120 positions in 40 accounts, each holding BTC and ETH."""
    rng = np.random.default_rng(7)
    rows = ["account,instrument,quantity"]
    for i in range(120):
        symbol = SYMBOLS[i % len(SYMBOLS)]
        quantity = round(float(rng.normal(0, 3)), 2) or 1.0
        if "PERPETUAL" in symbol and not symbol.startswith(("BTC_", "ETH_")):
            quantity *= 1000  # inverse perpetuals: contracts of 10 USD (BTC) or 1 USD (ETH)
        rows.append(f"acct-{i % 40:02d},{symbol},{quantity}")
    return write("book.csv", "\n".join(rows) + "\n")


@pytest.mark.parametrize("model", bundled_models())
def test_dask_engine_equals_the_local_engine(engine, book, market_path, model):
    portfolio, market = load_portfolio(book), load_market(market_path)
    local = compute_margin(portfolio, market, model)
    remote = compute_margin(portfolio, market, model, engine=engine)
    assert engine.worker_count == 2
    numeric = local.accounts.select_dtypes("number").columns
    np.testing.assert_allclose(
        remote.accounts[numeric].to_numpy(), local.accounts[numeric].to_numpy(), rtol=1e-9
    )
    assert remote.accounts["account"].equals(local.accounts["account"])
    assert remote.accounts["worst_scenario.name"].equals(local.accounts["worst_scenario.name"])
    assert remote.portfolio_margin == pytest.approx(local.portfolio_margin, rel=1e-9)


def test_engine_dask_on_the_command_line(book, cli):
    pytest.importorskip("distributed")
    local = json.loads(cli("compute", book, "--by-account", "--format", "json").stdout)
    result = cli("compute", book, "--by-account", "--engine", "dask", "--format", "json")
    assert result.exit_code == 0, result.stderr
    remote = json.loads(result.stdout)
    assert remote["portfolio_margin"] == pytest.approx(local["portfolio_margin"], rel=1e-9)
    assert [a["account"] for a in remote["accounts"]] == [a["account"] for a in local["accounts"]]


def test_scheduler_needs_the_dask_engine(book, cli):
    result = cli("compute", book, "--scheduler", "tcp://127.0.0.1:8786")
    assert result.exit_code == 2
    assert "--scheduler: is for the Dask engine. Add `--engine dask`" in result.stderr


def test_the_local_engine_does_not_import_dask(book):
    code = textwrap.dedent(
        f"""
        import sys
        from pmargin.cli import app
        try:
            app(["compute", {str(book)!r}, "--by-account", "--format", "json"])
        except SystemExit:
            pass
        loaded = [m for m in sys.modules if m.split(".")[0] in ("dask", "distributed")]
        assert not loaded, loaded
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert '"account_count": 40' in result.stdout
