"""`pmargin market estimate`: JSON as SPEC §11, the snapshot it writes (and that it drives
`compute`), filling a base snapshot, and exit 2 naming file and line for bad closes."""

import json
import os
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from conftest import csv_body, without_run

from pmargin import compute_margin, load_market, load_portfolio
from pmargin.estimate import estimate
from pmargin.io import market_writer
from pmargin.io.price_history import load_price_history
from pmargin.market import Market, UnderlyingMarket

HEADER = "date,BTC,ETH\n"
ROOT = Path(__file__).resolve().parents[2]


def closes_csv(count: int = 90, seed: int = 4) -> str:
    """``count`` daily rows from 2024-01-01 (line 2 on) of correlated BTC/ETH closes."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((2, count - 1))
    btc = 40000 * np.exp(np.concatenate([[0], np.cumsum(0.03 * z[0])]))
    eth = 2500 * np.exp(np.concatenate([[0], np.cumsum(0.04 * (0.8 * z[0] + 0.6 * z[1]))]))
    days = np.datetime64("2024-01-01") + np.arange(count)
    rows = (f"{day},{float(b)!r},{float(e)!r}\n" for day, b, e in zip(days, btc, eth))
    return HEADER + "".join(rows)


@pytest.fixture
def closes(write):
    return write("closes.csv", closes_csv())


def test_json_is_the_spec_object_and_the_library_estimate(cli, closes):
    result = cli("market", "estimate", closes, "--method", "ewma", "--format", "json")
    assert result.exit_code == 0, result.output
    data = without_run(json.loads(result.stdout))
    assert list(data) == ["as_of", "method", "window", "vol", "correlations"]
    library = estimate(load_price_history(closes), method="ewma")
    assert data == {
        "as_of": "2024-03-30T08:00:00Z",
        "method": "ewma",
        "window": 89,
        "vol": {"BTC": library.vols[0], "ETH": library.vols[1]},
        "correlations": {"BTC": {"ETH": library.correlation[0, 1]}},
    }


def test_table_markdown_and_csv(cli, closes):
    table = cli("market", "estimate", closes)
    assert table.exit_code == 0
    assert "Correlation" in table.stdout and "BTC" in table.stdout and "%" in table.stdout
    markdown = cli("market", "estimate", closes, "--format", "markdown").stdout
    assert markdown.startswith("# Vols and correlations: sample of 89 daily log returns")
    rows = csv_body(cli("market", "estimate", closes, "--format", "csv").stdout).read().splitlines()
    assert rows[0] == "underlying,vol,spot,returns,BTC,ETH"
    assert rows[1].startswith("BTC,") and rows[1].endswith(",89,1.0," + rows[2].split(",")[4])


def test_the_snapshot_loads_back_and_drives_compute(cli, write, closes, tmp_path):
    output = tmp_path / "estimated.yaml"
    result = cli("market", "estimate", closes, "--output", output, "--format", "json")
    assert result.exit_code == 0, result.output
    assert f"wrote the market snapshot {output}" in result.stderr
    text = output.read_text()
    assert text.startswith("# Market snapshot written by `pmargin market estimate`.\n")
    assert "# vol and correlations: sample of 89 daily log returns, 2024-01-01 → 2024-03-30" in text
    loaded = load_market(output)
    data = json.loads(result.stdout)
    history = load_price_history(closes)
    assert loaded.as_of == datetime(2024, 3, 30, 8, tzinfo=timezone.utc)
    assert loaded.rate == 0.0
    assert {u: m.spot for u, m in loaded.underlyings.items()} == {
        "BTC": history.closes["BTC"][-1],
        "ETH": history.closes["ETH"][-1],
    }
    assert {u: m.vol for u, m in loaded.underlyings.items()} == data["vol"]
    assert loaded.correlation("ETH", "BTC") == data["correlations"]["BTC"]["ETH"]

    book = write("book.csv", "instrument,quantity\nBTC_USDC-PERPETUAL,2\nETH_USDC-PERPETUAL,-10\n")
    by_hand = Market(
        as_of=datetime(2024, 3, 30, 8, tzinfo=timezone.utc),
        rate=0.0,
        underlyings={
            u: UnderlyingMarket(spot=history.closes[u][-1], vol=data["vol"][u])
            for u in ("BTC", "ETH")
        },
        correlations={("BTC", "ETH"): loaded.correlation("BTC", "ETH")}
        | {("ETH", "BTC"): loaded.correlation("BTC", "ETH")},
    )
    for model in ("var", "deribit"):
        computed = cli("compute", book, "--market", output, "--model", model, "--format", "json")
        assert computed.exit_code == 0, computed.output
        expected = compute_margin(load_portfolio(book), by_hand, model)
        margin = json.loads(computed.stdout)["portfolio_margin"]
        assert margin == expected.portfolio_margin and margin > 0


def test_a_base_snapshot_keeps_its_data_and_gets_correlations_and_missing_vols(
    cli, write, closes, tmp_path
):
    base = write(
        "base.yaml",
        """\
        as_of: 2024-11-25T08:00:00Z
        rate: 0.04
        underlyings:
          BTC:
            spot: 95000
            vol: 0.55
            forwards: {2024-12-27: 95800}
            smile:
              2024-12-27: {80000: 0.62, 95000: 0.55, 110000: 0.57}
          ETH: {spot: 3400, carry: 0.01}
          SOL: {spot: 240, vol: 0.8}
        correlations:
          BTC: {ETH: 0.1, SOL: 0.75}
          ETH: {SOL: 0.78}
        """,
    )
    output = tmp_path / "filled.yaml"
    result = cli("market", "estimate", closes, "--market", base, "-o", output, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    before, after = load_market(base), load_market(output)
    assert after.as_of == before.as_of and after.rate == 0.04
    btc, eth = after.underlyings["BTC"], after.underlyings["ETH"]
    kept = before.underlyings["BTC"]  # spot, vol, forwards and smile as they were
    assert (btc.spot, btc.vol, btc.forwards) == (kept.spot, kept.vol, kept.forwards)
    assert_same_smile(btc.smile, kept.smile)
    assert (eth.spot, eth.carry, eth.vol) == (3400, 0.01, data["vol"]["ETH"])  # vol filled in
    assert after.underlyings["SOL"] == before.underlyings["SOL"]
    assert after.correlation("BTC", "ETH") == data["correlations"]["BTC"]["ETH"]
    assert after.correlation("SOL", "BTC") == 0.75 and after.correlation("ETH", "SOL") == 0.78
    assert "base: " in output.read_text()


def test_the_written_snapshot_round_trips_a_whole_market(tmp_path):
    market = load_market(ROOT / "sample_portfolios" / "market.yaml")
    path = tmp_path / "copy.yaml"
    market_writer.write_market(path, market, "a copy")
    again = load_market(path)
    assert again.as_of == market.as_of and again.rate == market.rate
    assert again.correlations == market.correlations
    for code, data in market.underlyings.items():
        copy = again.underlyings[code]
        assert (copy.spot, copy.vol, copy.carry) == (data.spot, data.vol, data.carry)
        assert copy.forwards == data.forwards
        assert_same_smile(copy.smile, data.smile)


def assert_same_smile(first, second) -> None:
    assert (first is None) == (second is None)
    if first is not None:
        np.testing.assert_array_equal(first.expiries, second.expiries)
        for a, b in zip(first.vols + first.strikes, second.vols + second.strikes, strict=True):
            np.testing.assert_array_equal(a, b)


def test_a_failed_write_leaves_the_old_snapshot_and_no_temporary_file(
    cli, closes, tmp_path, monkeypatch
):
    output = tmp_path / "market.yaml"
    output.write_text("old\n")

    def refuse(source, target):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    result = cli("market", "estimate", closes, "--output", output)
    assert result.exit_code == 2
    assert f"{output}: cannot write the market snapshot: Permission denied" in result.stderr
    assert output.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["closes.csv", "market.yaml"]


def test_an_output_folder_that_does_not_exist_is_bad_input(cli, closes, tmp_path):
    result = cli("market", "estimate", closes, "--output", tmp_path / "no" / "m.yaml")
    assert result.exit_code == 2
    assert "cannot write the market snapshot" in result.stderr


def with_line(text: str, line: int, replacement: str) -> str:
    lines = text.splitlines(keepends=True)
    lines[line - 1] = replacement
    return "".join(lines)


def test_a_date_that_does_not_parse_names_file_and_line(cli, write):
    text = closes_csv()
    bad = write(
        "closes.csv",
        with_line(text, 7, "2024-01-06x," + text.splitlines()[6].split(",", 1)[1] + "\n"),
    )
    result = cli("market", "estimate", bad)
    assert result.exit_code == 2
    assert f"{bad}:7: column `date`: '2024-01-06x' is not a date" in result.stderr


def test_a_gap_in_a_column_names_file_and_line(cli, write):
    text = closes_csv()
    day, btc, _ = text.splitlines()[11].split(",")
    gappy = write("closes.csv", with_line(text, 12, f"{day},{btc},\n"))
    result = cli("market", "estimate", gappy)
    assert result.exit_code == 2
    assert f"{gappy}:12: column `ETH`: no close (empty cell) between two closes: a gap" in (
        result.stderr
    )
    # a window that starts after the gap is fine
    assert cli("market", "estimate", gappy, "--start", "2024-01-12").exit_code == 0


def test_a_missing_calendar_day_names_file_and_line(cli, write):
    lines = closes_csv().splitlines(keepends=True)
    skipped = write("closes.csv", "".join(lines[:20] + lines[21:]))  # 2024-01-20 is missing
    result = cli("market", "estimate", skipped)
    assert result.exit_code == 2
    assert f"{skipped}:21: date: 2024-01-21 comes 2 days after 2024-01-19 (line 20)" in (
        result.stderr
    )


@pytest.mark.parametrize(
    ("rows", "options", "where", "count"),
    [
        (20, [], "2-21", 19),
        (90, ["--window", "12"], "79-91", 12),
        (90, ["--end", "2024-01-25"], "2-26", 24),
    ],
)
def test_a_window_of_fewer_than_30_returns_names_file_and_lines(
    cli, write, rows, options, where, count
):
    short = write("closes.csv", closes_csv(rows))
    result = cli("market", "estimate", short, *options)
    assert result.exit_code == 2
    assert f"{short}:{where}: the window holds {count} daily returns" in result.stderr
    assert "the estimators need at least 30" in result.stderr


def test_a_window_longer_than_the_file_is_bad_input(cli, closes):
    result = cli("market", "estimate", closes, "--window", "500")
    assert result.exit_code == 2
    assert f"{closes}:2-91: a window of 500 returns needs 501 daily closes; there are 90" in (
        result.stderr
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--lambda", "0.9"], "--lambda: only applies to --method ewma"),
        (["--method", "ewma", "--lambda", "1.2"], "--lambda: must be between 0 and 1"),
        (["--date-column", "day"], "no `day` column (columns: date, BTC, ETH)"),
    ],
)
def test_bad_options_are_bad_input(cli, closes, options, message):
    result = cli("market", "estimate", closes, *options)
    assert result.exit_code == 2 and message in result.stderr


def test_market_estimate_has_help(cli):
    for command in (["market"], ["market", "estimate"]):
        result = cli(*command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.stdout
    assert "--lambda" in cli("market", "estimate", "--help").stdout
    assert "market" in cli("--help").stdout


def test_the_shipped_estimated_sample_snapshot_is_what_the_command_writes(
    cli, tmp_path, monkeypatch
):
    monkeypatch.chdir(ROOT)
    output = tmp_path / "market_estimated.yaml"
    result = cli(
        "market",
        "estimate",
        "scenarios/btc_eth_daily_close.csv",
        "--market",
        "sample_portfolios/market.yaml",
        "--output",
        output,
    )
    assert result.exit_code == 0, result.output
    shipped = ROOT / "sample_portfolios" / "market_estimated.yaml"
    assert output.read_text() == shipped.read_text()
    assert load_market(shipped).correlation("BTC", "ETH") == pytest.approx(0.7897, abs=1e-4)


def test_the_help_states_the_library_default_decay(cli):
    from pmargin.commands.market import DECAY_HELP
    from pmargin.estimate import DEFAULT_DECAY

    assert f"(default {DEFAULT_DECAY})" in DECAY_HELP
    assert "0.94" in " ".join(cli("market", "estimate", "--help").stdout.split())
