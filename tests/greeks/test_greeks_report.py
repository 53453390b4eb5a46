"""``pmargin greeks``: net greeks per underlying and expiry equal the sum of the position greeks
and agree with finite differences of the engine's portfolio value."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import csv_body, without_run

from pmargin import load_market, load_portfolio
from pmargin.book import bind
from pmargin.engine import value
from pmargin.greeks import book_greeks, portfolio_greeks
from pmargin.io.scenario_file import load_scenarios
from pmargin.report.greeks import greeks_dict

# inverse and linear options, inverse perpetual and future, linear perpetual, coin collateral
BOOK = """\
collateral: {USD: 10000, BTC: 1.5}
positions:
  - {id: btc-call, instrument: BTC-27DEC24-100000-C, quantity: -3}
  - {id: btc-put, instrument: BTC_USDC-28MAR25-90000-P, quantity: 4}
  - {id: btc-perp, instrument: BTC-PERPETUAL, quantity: 20000}
  - {id: btc-fut, instrument: BTC-27DEC24, quantity: -5000}
  - {id: eth-call, instrument: ETH_USDC-27DEC24-4000-C, quantity: 10}
  - {id: eth-perp, instrument: ETH_USDC-PERPETUAL, quantity: -7}
orders:
  - {id: btc-order, instrument: BTC_USDC-PERPETUAL, quantity: 3, price: 99000}
"""
SPOT = {"BTC": 100_000.0, "ETH": 4_000.0}
EXPIRY = {
    "btc-call": "2024-12-27T08:00:00Z",
    "btc-fut": "2024-12-27T08:00:00Z",
    "btc-put": "2025-03-28T08:00:00Z",
    "eth-call": "2024-12-27T08:00:00Z",
}


@pytest.fixture
def book_path(write, market_path):
    return write("book.yaml", BOOK)


@pytest.fixture
def book(book_path, market_path):
    return bind(load_portfolio(book_path), load_market(market_path))


def _pnl(book, write, shocks: dict, days: float = 0.0) -> float:
    """Book P&L (USD, orders as filled) under one scenario of per-underlying shocks."""
    lines = [f"name: fd\ndays: {days}\nscenarios:\n  - name: s\n    shocks:"]
    lines += [
        f"      {u}: {{{', '.join(f'{k}: {v!r}' for k, v in s.items())}}}"
        for u, s in shocks.items()
    ]
    path = write("fd.yaml", "\n".join(lines) + "\n")
    scenario_set = load_scenarios(path)
    shocked = scenario_set.shocks(book.instruments.underlyings, book.market)
    return float(value(book, shocked).pnl[0])


@pytest.mark.parametrize("underlying", ["BTC", "ETH"])
def test_delta_and_gamma_agree_with_finite_differences(book, write, underlying):
    h = 1e-4
    up = _pnl(book, write, {underlying: {"spot": h}})
    down = _pnl(book, write, {underlying: {"spot": -h}})
    step = h * SPOT[underlying]
    greeks = book_greeks(book, include_orders=True).underlying(underlying)
    assert greeks["delta"] == pytest.approx((up - down) / (2 * step), rel=1e-6)
    assert greeks["gamma"] == pytest.approx((up + down) / step**2, rel=1e-3)
    assert greeks["delta_usd"] == pytest.approx(greeks["delta"] * SPOT[underlying], rel=1e-12)
    assert greeks["gamma_usd"] == pytest.approx(
        greeks["gamma"] * SPOT[underlying] ** 2 / 100, rel=1e-12
    )


@pytest.mark.parametrize("underlying", ["BTC", "ETH"])
def test_vega_agrees_with_finite_differences(book, write, underlying):
    h = 1e-4
    up = _pnl(book, write, {underlying: {"vol_shift": h}})
    down = _pnl(book, write, {underlying: {"vol_shift": -h}})
    vega = book_greeks(book).underlying(underlying)["vega"]
    assert vega == pytest.approx((up - down) / (2 * h), rel=1e-6)


def test_theta_agrees_with_a_small_time_step(book, write):
    days = 1e-3
    pnl = _pnl(book, write, {"BTC": {"spot": 0.0}}, days=days)
    theta = book_greeks(book).total()["theta"]  # USD per day, both underlyings
    assert theta == pytest.approx(pnl / days, rel=1e-3)


def test_linear_perpetuals_and_collateral_by_hand(book):
    greeks = book_greeks(book)
    undated = greeks.by_expiry[greeks.by_expiry["expiry"].isna()].set_index("underlying")
    # BTC: 1.5 collateral + inverse perpetual of face 10 USD: 20,000 × 10 / 100,000 = 2 BTC
    assert undated.loc["BTC", "delta"] == pytest.approx(1.5 + 2.0, rel=1e-12)
    assert undated.loc["ETH", "delta"] == pytest.approx(-7.0, rel=1e-12)
    assert undated.loc["ETH", "gamma"] == 0.0
    # an inverse future of face 5,000 × 10 USD has delta N / F = 50,000 / 100,000 (F = S here)
    dec = greeks.by_expiry[
        (greeks.by_expiry["underlying"] == "BTC")
        & (greeks.by_expiry["expiry"] == np.datetime64("2024-12-27T08:00:00"))
    ]
    t = 32 / 365
    d1 = 0.5 * 0.5 * math.sqrt(t)
    call_delta = 0.5 * (1 + math.erf(d1 / math.sqrt(2)))
    call_value = 100_000 * (call_delta - 0.5 * (1 + math.erf((d1 - 0.5 * math.sqrt(t)) / 2**0.5)))
    inverse_call_delta = call_delta - call_value / 100_000  # Black delta − V/S
    assert float(dec["delta"].iloc[0]) == pytest.approx(-0.5 - 3 * inverse_call_delta, rel=1e-9)


def test_orders_are_excluded_unless_asked(book):
    without = book_greeks(book).underlying("BTC")["delta"]
    with_orders = book_greeks(book, include_orders=True).underlying("BTC")["delta"]
    assert with_orders - without == pytest.approx(3.0, rel=1e-12)
    assert book_greeks(book).open_orders == 1


def test_greeks_equal_the_sum_of_position_greeks(book_path, market_path, cli):
    compute = json.loads(cli("compute", book_path, "--format", "json").stdout)
    result = cli("greeks", book_path, "--with-orders", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    for u in data["underlyings"]:
        rows = [p for p in compute["positions"] if p["underlying"] == u["underlying"]]
        for greek in ("delta", "gamma", "vega", "theta"):
            assert u[greek] == pytest.approx(sum(p[greek] for p in rows), rel=1e-12, abs=1e-12)
        for e in u["expiries"]:
            in_group = [p for p in rows if EXPIRY.get(p["id"]) == e["expiry"]]
            assert in_group
            for greek in ("delta", "gamma", "vega", "theta"):
                expected = sum(p[greek] for p in in_group)
                assert e[greek] == pytest.approx(expected, rel=1e-12, abs=1e-12)
    total = data["total"]
    assert total["vega"] == pytest.approx(sum(p["vega"] for p in compute["positions"]))
    assert total["delta_usd"] == pytest.approx(
        sum(u["delta"] * SPOT[u["underlying"]] for u in data["underlyings"])
    )


def test_cli_json_is_the_library_result(book_path, market_path, cli):
    result = cli("greeks", book_path, "--format", "json")
    library = greeks_dict(portfolio_greeks(load_portfolio(book_path), load_market(market_path)))
    assert without_run(json.loads(result.stdout)) == library
    assert library["open_orders_excluded"] == 1
    assert [e["expiry"] for e in library["underlyings"][0]["expiries"]] == [
        "2024-12-27T08:00:00Z",
        "2025-03-28T08:00:00Z",
        None,
    ]


def test_table_markdown_and_csv(book_path, cli):
    table = cli("greeks", book_path)
    assert table.exit_code == 0
    assert "2025-03-28" in table.stdout and "undated" in table.stdout
    assert "1 open order excluded" in " ".join(table.stdout.split())
    markdown = cli("greeks", book_path, "--format", "markdown").stdout
    assert markdown.startswith("## pmargin greeks (as of 2024-11-25T08:00:00Z)")
    assert "| **total (net)** |" in markdown
    rows = csv_body(cli("greeks", book_path, "--format", "csv").stdout).read().strip().splitlines()
    assert rows[0].split(",")[:3] == ["underlying", "spot", "expiry"]
    assert len(rows) == 1 + 3 + 2  # BTC: Dec, Mar, undated; ETH: Dec, undated


def test_bad_input_exits_2(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    result = cli("greeks", "missing.csv")
    assert result.exit_code == 2
    assert "missing.csv: portfolio file not found" in result.stderr
