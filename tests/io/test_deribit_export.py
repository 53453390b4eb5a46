"""Deribit API exports as inputs: positions, balances and book summaries.

The payloads under tests/data/deribit follow the shapes of Deribit's public API documentation
(private/get_positions, private/get_account_summary, public/get_book_summary_by_currency);
equivalent.csv and equivalent_market.yaml state the same book and market in pmargin's own formats.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pmargin import InputError, compute_margin, load_market, load_portfolio

DATA = Path(__file__).resolve().parents[1] / "data" / "deribit"
MODELS = ("deribit", "span", "tims", "standard")


@pytest.fixture(scope="module")
def deribit_market():
    return load_market(DATA / "book_summary.json")


@pytest.fixture(scope="module")
def yaml_market():
    return load_market(DATA / "equivalent_market.yaml")


@pytest.mark.parametrize("model", MODELS)
def test_deribit_payloads_give_the_margin_of_the_equivalent_csv(model, deribit_market, yaml_market):
    from_export = compute_margin(load_portfolio(DATA / "positions.json"), deribit_market, model)
    from_csv = compute_margin(load_portfolio(DATA / "equivalent.csv"), yaml_market, model)
    for key in ("portfolio_margin", "maintenance_margin", "isolated_margin"):
        assert getattr(from_export, key) == pytest.approx(getattr(from_csv, key), rel=1e-12)
    values = from_export.positions.set_index("id")["value"]
    expected = from_csv.positions.set_index("id")["value"]
    pd.testing.assert_series_equal(values.sort_index(), expected.sort_index(), rtol=1e-12)


def test_usd_sizes_become_contracts():
    positions = load_portfolio(DATA / "positions.json").positions.set_index("instrument")
    quantity = positions["quantity"]
    assert quantity["BTC-PERPETUAL"] == -25_000  # -250,000 USD of 10 USD contracts
    assert quantity["BTC-27DEC24"] == 10_000
    assert quantity["ETH-PERPETUAL"] == 60_000  # ETH contracts are 1 USD
    assert quantity["BTC-27DEC24-100000-C"] == -10  # options: size in coins = contracts
    assert "BTC-27DEC24-90000-P" not in quantity  # direction zero: a flat position
    assert positions.loc["BTC-27DEC24-100000-C", "mark_price"] == 0.0345  # coin, as quoted
    assert positions.loc["BTC-27DEC24-100000-C", "entry_price"] == 0.04
    assert np.isnan(positions.loc["BTC-PERPETUAL", "entry_price"])  # P&L is in the balance


def test_the_market_is_built_from_the_book_summary(deribit_market, yaml_market):
    btc = deribit_market.underlyings["BTC"]
    assert deribit_market.as_of == yaml_market.as_of
    assert btc.spot == 95_000  # the index (estimated_delivery_price), not a mark
    assert {str(k)[:10]: v for k, v in btc.forwards.items()} == {
        "2024-12-27": 95_800,  # the options' underlying_price, not the future's mark 95,810
        "2025-03-28": 97_900,
    }
    expiry = np.array(["2024-12-27T08", "2024-12-27T08", "2025-03-28T08"], dtype="datetime64[s]")
    strikes = np.array([95_000, 97_500, 100_000])
    np.testing.assert_allclose(
        deribit_market.vols("BTC", expiry, strikes),
        yaml_market.vols("BTC", expiry, strikes),
        rtol=1e-12,
    )
    assert deribit_market.vols("BTC", expiry[:1], strikes[:1])[0] == pytest.approx(0.551)
    assert deribit_market.marks["BTC-27DEC24-100000-C"] == 0.0345
    assert len(btc.smile.expiries) == 2  # the 22NOV24 option expired before as_of


def test_the_account_summary_reproduces_deribits_documented_margin_balance(write):
    """Deribit's own get_account_summary example (API documentation): balance 302.60065765,
    futures session UPL 0.05921555 and RPL -0.03258105 give margin_balance 302.62729214, and
    equity 302.61869214 = margin_balance + options_value (-0.0086)."""
    summary = {
        "currency": "BTC",
        "balance": 302.60065765,
        "futures_session_upl": 0.05921555,
        "futures_session_rpl": -0.03258105,
        "options_session_upl": -0.0065,
        "session_upl": 0.05271555,
        "options_value": -0.0086,
        "margin_balance": 302.62729214,
        "equity": 302.61869214,
    }
    path = write("summary.json", json.dumps({"jsonrpc": "2.0", "id": 1, "result": summary}))
    collateral = load_portfolio(path).collateral[""]["BTC"]
    # Deribit rounds each figure to 8 decimals: a sum of three may be 1e-8 apart
    assert collateral == pytest.approx(summary["margin_balance"], abs=2e-8)
    assert collateral + summary["options_value"] == pytest.approx(summary["equity"], abs=2e-8)


def test_equity_of_a_full_export_is_deribits_equity_at_the_index(deribit_market):
    responses = json.loads((DATA / "account_export.json").read_text())
    summaries = {r["result"]["currency"]: r["result"] for r in responses[1:]}
    result = compute_margin(load_portfolio(DATA / "account_export.json"), deribit_market)
    expected = (
        summaries["BTC"]["equity"] * 95_000
        + summaries["ETH"]["equity"] * 3_400
        + summaries["USDC"]["equity"]
    )
    assert result.equity == pytest.approx(expected, rel=1e-12)


def test_a_full_export_margins_like_the_same_yaml_book(write, deribit_market):
    rows = pd.read_csv(DATA / "equivalent.csv", comment="#", dtype=str).fillna("")
    lines = [
        "  - {" + ", ".join(f"{k}: {v}" for k, v in row.items() if v) + "}"
        for row in rows.to_dict("records")
    ]
    book = write(
        "book.yaml",
        "collateral: {BTC: 12.5160526, ETH: 150, USDC: 25000}\npositions:\n" + "\n".join(lines),
    )
    from_export = compute_margin(load_portfolio(DATA / "account_export.json"), deribit_market)
    from_yaml = compute_margin(load_portfolio(book), deribit_market)
    assert from_export.portfolio_margin == pytest.approx(from_yaml.portfolio_margin, rel=1e-12)
    assert from_export.equity == pytest.approx(from_yaml.equity, rel=1e-12)


def _positions(write, *records) -> Path:
    return write("positions.json", json.dumps({"jsonrpc": "2.0", "result": list(records)}))


def test_a_positive_size_with_direction_sell_is_short(write):
    path = _positions(
        write, {"instrument_name": "ETH-PERPETUAL", "direction": "sell", "size": 3000}
    )
    assert load_portfolio(path).positions["quantity"].tolist() == [-3000]


def test_size_currency_alone_is_turned_into_usd_at_the_mark(write):
    path = _positions(
        write,
        {"instrument_name": "BTC-PERPETUAL", "size_currency": 2.0, "mark_price": 95000.0},
        {"instrument_name": "BTC_USDC-PERPETUAL", "size_currency": 1.5, "direction": "buy"},
    )
    assert load_portfolio(path).positions["quantity"].tolist() == [19_000, 1.5]


def test_bad_records_are_reported_together(write):
    path = _positions(
        write,
        {"instrument_name": "BTC-PERPETUAL", "direction": "buy", "size": -100},
        {"instrument_name": "BTC-PERPETUAL", "size": 1000, "size_currency": 5, "mark_price": 1e5},
        {"instrument_name": "BTC-FS-27DEC24_PERP", "kind": "future_combo", "size": 10},
        {"instrument_name": "ETH-PERPETUAL"},
    )
    with pytest.raises(InputError) as caught:
        load_portfolio(path)
    text = str(caught.value)
    assert "4 problems" in text
    assert "result[0]: `size`: negative size -100 with direction buy" in text
    assert "`size` 1000 and `size_currency` 5 disagree (size / mark_price is 0.01)" in text
    assert "future combo is not margined as one instrument" in text
    assert "result[3] (ETH-PERPETUAL): no `size` and no `size_currency`" in text


def test_an_api_error_or_a_market_export_as_portfolio_says_what_to_do(write):
    error = write("e.json", '{"jsonrpc": "2.0", "error": {"code": 13009, "message": "unauth"}}')
    with pytest.raises(InputError, match=r"Deribit API error \(13009: unauth\), not data"):
        load_portfolio(error)
    with pytest.raises(InputError, match="This is a market export: pass it with `--market`"):
        load_portfolio(DATA / "book_summary.json")
    with pytest.raises(InputError, match="This is a portfolio export: pass it as the PORTFOLIO"):
        load_market(DATA / "positions.json")


def test_a_size_column_explains_the_usd_convention(write):
    path = write("export.csv", "instrument_name,size,average_price\nBTC-PERPETUAL,-250000,96000\n")
    with pytest.raises(InputError) as caught:
        load_portfolio(path)
    text = str(caught.value)
    assert "sized in USD" in text and "-25000 contracts of 10 USD" in text
    assert "--from deribit" in text
    assert "Did you mean `quantity`" not in text


def test_from_deribit_reads_a_csv_with_deribits_columns(write):
    path = write("export.csv", "instrument_name,size,average_price\nBTC-PERPETUAL,-250000,96000\n")
    positions = load_portfolio(path, "deribit").positions
    assert positions["quantity"].tolist() == [-25_000]
    assert positions["source"].tolist() == [f"{path}:2"]


def test_the_cli_recognises_exports_by_content(cli, tmp_path):
    positions = tmp_path / "positions.export"  # no telling suffix: recognised by its content
    positions.write_text((DATA / "positions.json").read_text())
    result = cli("compute", positions, "--market", DATA / "book_summary.json", "--format", "json")
    assert result.exit_code == 0, result.stderr
    expected = cli(
        "compute",
        DATA / "equivalent.csv",
        "--market",
        DATA / "equivalent_market.yaml",
        "--format",
        "json",
    )
    margin = json.loads(result.stdout)["portfolio_margin"]
    assert margin == pytest.approx(json.loads(expected.stdout)["portfolio_margin"], rel=1e-12)
