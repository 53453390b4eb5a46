"""`pmargin liquidate`: SPEC §8 JSON, the library's own result, formats, the book after."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import csv_body, without_run

from pmargin import __version__, compute_margin, liquidate, load_market, load_portfolio
from pmargin.errors import InputError
from pmargin.portfolio import Portfolio
from pmargin.report.liquidation import liquidation_dict

SAMPLES = Path(__file__).resolve().parents[2] / "sample_portfolios"
BOOK = SAMPLES / "short_puts_btc.yaml"
CRASH = SAMPLES / "market_btc_down_25.yaml"

# SPEC §8, key for key
TOP_KEYS = {"model", "target", "run", "accounts"}
ACCOUNT_KEYS = {
    "account",
    "before",
    "steps",
    "after",
    "restored",
    "deposit_to_restore",
    "positions_after",
    "liquidation_prices",
}
STATE_KEYS = {"equity", "initial_margin", "maintenance_margin", "status"}
STEP_KEYS = {
    "step",
    "action",
    "instrument",
    "quantity",
    "price",
    "fee",
    "equity_after",
    "initial_margin_after",
    "maintenance_margin_after",
}
PRICE_KEYS = {"down", "up", "distance_down", "distance_up"}
# what pmargin adds (README: "pmargin liquidate")
ADDED_TOP_KEYS = {"buffer", "mode"}
ADDED_ACCOUNT_KEYS = {"full_close_out", "deficit", "fees", "collateral_after", "note"}


def _json(cli, *args) -> dict:
    result = cli("liquidate", *map(str, args), "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("mode", ["risk-reducing", "proportional"])
def test_json_keys_are_spec_8(cli, mode):
    data = _json(cli, BOOK, "--market", CRASH, "--mode", mode)
    assert set(data) == TOP_KEYS | ADDED_TOP_KEYS
    assert set(data["run"]) == {"pmargin", "as_of", "market", "model"}
    (account,) = data["accounts"]
    assert set(account) == ACCOUNT_KEYS | ADDED_ACCOUNT_KEYS
    assert set(account["before"]) == set(account["after"]) == STATE_KEYS
    assert account["steps"] and all(set(step) == STEP_KEYS for step in account["steps"])
    assert all(s["action"] in ("cancel_orders", "close", "hedge") for s in account["steps"])
    assert [s["step"] for s in account["steps"]] == list(range(1, len(account["steps"]) + 1))
    assert all({"instrument", "quantity"} <= set(p) for p in account["positions_after"])
    assert set(account["liquidation_prices"]["BTC"]) == PRICE_KEYS
    assert data["model"] == "deribit" and data["target"] == "maintenance"
    assert account["before"]["status"] == "liquidation" and account["restored"] is True


def test_json_is_the_library_result(cli):
    printed = _json(cli, BOOK, "--market", CRASH, "--buffer", "0.1", "--target", "initial")
    library = liquidate(load_portfolio(BOOK), load_market(CRASH), target="initial", buffer=0.1)
    assert without_run(printed) == json.loads(json.dumps(liquidation_dict(library)))


def test_a_close_of_a_short_is_a_positive_trade(cli):
    data = _json(cli, BOOK, "--market", CRASH, "--model", "standard")
    closes = [s for s in data["accounts"][0]["steps"] if s["action"] == "close"]
    assert closes and all(s["quantity"] > 0 for s in closes if "-P" in s["instrument"])


def test_positions_after_file_is_a_portfolio_compute_restores(cli, tmp_path):
    after = tmp_path / "after.yaml"
    data = _json(cli, BOOK, "--market", CRASH, "--positions-after", after)
    account = data["accounts"][0]
    document = yaml.safe_load(after.read_text())
    assert Path(document["market"]).resolve() == CRASH.resolve()
    assert document["collateral"] == account["collateral_after"]
    computed = cli("compute", after, "--format", "json")
    assert computed.exit_code == 0, computed.stderr
    restored = json.loads(computed.stdout)
    assert restored["equity"] >= restored["maintenance_margin"]
    assert restored["status"] != "liquidation"
    assert restored["equity"] == pytest.approx(account["after"]["equity"], rel=1e-12)
    quantities = {p["instrument"]: p["quantity"] for p in restored["positions"]}
    for position in account["positions_after"]:
        assert quantities[position["instrument"]] == pytest.approx(position["quantity"])


def test_positions_after_as_csv_warns_what_a_csv_cannot_hold(cli, tmp_path):
    after = tmp_path / "after.csv"
    result = cli("liquidate", BOOK, "--market", CRASH, "--positions-after", after)
    assert result.exit_code == 0, result.stderr
    assert "left out collateral" in result.stderr
    rows = list(csv.DictReader(io.StringIO(after.read_text())))
    assert {r["instrument"] for r in rows} >= {"BTC-PERPETUAL", "BTC-27DEC24-85000-P"}
    portfolio = load_portfolio(after)
    assert compute_margin(portfolio, load_market(CRASH)).equity is None


def test_csv_rows_are_the_steps(cli):
    result = cli("liquidate", BOOK, "--market", CRASH, "--format", "csv")
    rows = list(csv.DictReader(csv_body(result.stdout)))
    assert rows and set(rows[0]) == {"account"} | STEP_KEYS
    assert all(r["account"] == "put-seller" for r in rows)


def test_table_and_markdown_tell_the_plan(cli):
    table = cli("liquidate", BOOK, "--market", CRASH)
    assert table.exit_code == 0
    status = next(line for line in table.stdout.splitlines() if line.strip().startswith("status"))
    assert status.split()[1] == "liquidation"  # the status before, in words
    for text in ("Restored by", "BTC-PERPETUAL", "Liquidation prices"):
        assert text in table.stdout
    markdown = cli("liquidate", BOOK, "--market", CRASH, "--format", "markdown").stdout
    assert markdown.startswith("## pmargin liquidate") and "| step | action |" in markdown


def test_a_book_without_collateral_is_exit_2_with_the_fix(cli):
    result = cli("liquidate", SAMPLES / "hedged_btc_options.csv")
    assert result.exit_code == 2
    assert "no collateral" in result.stderr and "collateral:" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--mode", "fire-sale"), "fire-sale"),
        (("--target", "variation"), "variation"),
        (("--buffer", "-0.1"), "--buffer"),
    ],
)
def test_bad_options_are_exit_2(cli, args, message):
    result = cli("liquidate", BOOK, *args)
    assert result.exit_code == 2 and message in result.stderr


def test_every_account_is_planned_on_its_own():
    """Accounts never net: each is margined and liquidated alone (here the library, as a
    YAML portfolio holds one account)."""
    one = load_portfolio(BOOK)
    positions = one.positions.copy()
    twin = positions.assign(account="twin", id=positions["id"] + "-twin")
    both = Portfolio(
        pd.concat([positions, twin], ignore_index=True),
        {"put-seller": {"BTC": 4.0}, "twin": {"BTC": 40.0}},
        "two accounts",
    )
    result = liquidate(both, load_market(CRASH))
    by_name = {a.account: a for a in result.accounts}
    assert by_name["twin"].steps == [] and by_name["put-seller"].steps
    alone = liquidate(one, load_market(CRASH)).accounts[0]
    assert [s.quantity for s in by_name["put-seller"].steps] == [s.quantity for s in alone.steps]


def test_the_library_checks_its_arguments():
    portfolio, market = load_portfolio(BOOK), load_market(CRASH)
    with pytest.raises(InputError) as error:
        liquidate(portfolio, market, mode="fire-sale", target="variation", buffer=float("nan"))
    assert [p.where for p in error.value.problems] == ["target", "mode", "buffer"]


@pytest.mark.parametrize(
    ("target", "left_out", "kept"),
    [
        ("maintenance", "price, fee, initial margin", "maintenance margin"),
        ("initial", "price, fee, maintenance margin", "initial margin"),
    ],
)
def test_a_narrow_plan_leaves_out_price_fee_then_the_margin_not_restored(
    cli, monkeypatch, target, left_out, kept
):
    monkeypatch.setenv("COLUMNS", "80")
    narrow = cli("liquidate", BOOK, "--market", CRASH, "--target", target).stdout
    assert f"Left out to fit 80 columns: {left_out}." in " ".join(narrow.split())
    header = next(line for line in narrow.splitlines() if "instrument" in line)
    assert kept in header and "trade" in header and "equity" in header and "price" not in header
    wide = cli("liquidate", BOOK, "--market", CRASH, "--target", target, "--wide").stdout
    assert "Left out" not in wide
    header = next(line for line in wide.splitlines() if "instrument" in line)
    assert all(name in header for name in ("price", "fee", "initial margin", "maintenance"))


def test_every_format_says_what_produced_it_and_the_csv_sums_the_plan(cli):
    line = f"pmargin {__version__} · model deribit · market {CRASH} as of 2024-11-25T08:00:00Z"
    data = _json(cli, BOOK, "--market", CRASH)
    assert data["run"] == {
        "pmargin": __version__,
        "as_of": "2024-11-25T08:00:00Z",
        "market": str(CRASH),
        "model": "deribit",
    }
    text = cli("liquidate", BOOK, "--market", CRASH, "--format", "csv").stdout
    assert text.startswith(f"# {line}\n# summary: model=deribit, target=maintenance, ")
    summary = dict(
        field.split("=", 1)
        for field in text.splitlines()[1].removeprefix("# summary: ").split(", ")
    )
    (account,) = data["accounts"]
    steps = list(csv.DictReader(csv_body(text)))
    assert (summary["accounts"], summary["liquidated"], summary["restored"]) == ("1", "1", "1")
    assert int(summary["steps"]) == len(steps) == len(account["steps"])
    assert float(summary["fees"]) == pytest.approx(sum(float(s["fee"]) for s in steps), abs=0.01)
    assert float(summary["deposit_to_restore"]) == pytest.approx(
        account["deposit_to_restore"], abs=0.01
    )
    markdown = cli("liquidate", BOOK, "--market", CRASH, "--format", "markdown").stdout
    assert markdown.rstrip().endswith(f"_{line}_")
    assert "| status | liquidation | margin call |" in markdown
    table = " ".join(cli("liquidate", BOOK, "--market", CRASH).stdout.split())
    assert line in table
