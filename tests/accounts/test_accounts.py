"""Accounts are the unit: each account is margined on its own and never offsets another.

The references are independent of the engine: a linear 1-coin perpetual under the deribit model
needs the largest counted loss of its moves, 16% of spot (the ±16% grid and the extended moves
weighted 0.16/|move| all give 0.16 × spot), plus Deribit's roll shock of 1% of its delta; and an
account of a multi-account file must get exactly what its own file gets when run alone.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import SAMPLES

from pmargin import compute_margin, load_market, load_portfolio
from pmargin.io.model_file import bundled_models, load_model

SPOT = 95_000.0  # BTC in sample_portfolios/market.yaml

ALICE = """\
account,instrument,quantity
alice,BTC_USDC-27DEC24-100000-C,-2
alice,BTC_USDC-PERPETUAL,1
alice,ETH_USDC-27DEC24-4000-P,5
alice,ETH-PERPETUAL,-3000
"""
BOB = """\
account,instrument,quantity
bob,BTC-27DEC24-90000-P,3
bob,ETH_USDC-PERPETUAL,-10
bob,BTC_USDC,0.5
bob,BTC_USDC-PERPETUAL,-0.25
"""
CAROL = """\
account: carol
collateral: {USD: 50000, BTC: 0.5}
positions:
  - {instrument: BTC_USDC-PERPETUAL, quantity: -1}
  - {instrument: ETH_USDC-27DEC24-4400-C, quantity: -4}
orders:
  - {instrument: BTC_USDC-PERPETUAL, quantity: 3, price: 99000}
"""
FILES = {"alice.csv": ALICE, "bob.csv": BOB, "carol.yaml": CAROL}


def compute_json(cli, *args) -> dict:
    result = cli("compute", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def assert_same(left, right, where: str = "") -> None:
    """Equal JSON values: same keys everywhere, numbers within 1e-9 relative (1e-9 absolute)."""
    if isinstance(left, dict):
        assert isinstance(right, dict) and set(left) == set(right), where
        for key in left:
            assert_same(left[key], right[key], f"{where}.{key}")
    elif isinstance(left, list):
        assert isinstance(right, list) and len(left) == len(right), where
        for i, (a, b) in enumerate(zip(left, right)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(left, float) or isinstance(right, float):
        assert math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-9), (where, left, right)
    else:
        assert left == right, (where, left, right)


@pytest.fixture
def folder(tmp_path, market_path):
    """A folder of three account files (CSV, CSV, YAML with collateral and an order)."""
    accounts = tmp_path / "accounts"
    accounts.mkdir()
    for name, text in FILES.items():
        (accounts / name).write_text(text, encoding="utf-8")
    (accounts / "market.yaml").write_text(market_path.read_text(), encoding="utf-8")
    return accounts


def test_two_accounts_that_would_offset_each_other_do_not(cli, write):
    # A long 1 BTC in the linear perpetual; B short the same (Deribit nets within a currency)
    rows = "account,instrument,quantity\nA,BTC_USDC-PERPETUAL,1\nB,BTC_USDC-PERPETUAL,-1\n"
    book = write("book.csv", rows)
    (book.parent / "market.yaml").write_text((SAMPLES / "market.yaml").read_text())
    data = compute_json(cli, book, "--by-account")
    each = (0.16 + 0.01) * SPOT  # 16,150: worst loss of 1 coin, long or short, + roll shock
    assert data["portfolio_margin"] == pytest.approx(2 * each, rel=1e-12)  # 32,300, not 0
    assert [a["portfolio_margin"] for a in data["accounts"]] == pytest.approx([each, each])
    assert data["offset"] == pytest.approx(0.0, abs=1e-6)  # nothing nets across accounts
    one_book = write(
        "one.csv", "instrument,quantity\nBTC_USDC-PERPETUAL,1\nBTC_USDC-PERPETUAL,-1\n"
    )
    (one_book.parent / "market.yaml").write_text((SAMPLES / "market.yaml").read_text())
    assert compute_json(cli, one_book)["portfolio_margin"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("model", bundled_models())
def test_each_account_of_a_folder_gets_what_its_file_gets_alone(cli, folder, model):
    together = compute_json(cli, folder, "--model", model, "--by-account", "--positions")
    assert together["account_count"] == 3
    entries = {a["account"]: a for a in together["accounts"]}
    totals = dict.fromkeys(("portfolio_margin", "maintenance_margin", "isolated_margin"), 0.0)
    for name in FILES:
        alone = compute_json(cli, folder / name, "--model", model, "--by-account", "--positions")
        account = alone["accounts"][0]["account"]
        assert_same(entries[account], alone["accounts"][0], account)
        mine = [p for p in together["positions"] if p["account"] == account]
        assert_same(mine, alone["positions"], f"{account} positions")
        for key in totals:
            totals[key] += alone[key]
            assert alone[key] == pytest.approx(alone["accounts"][0][key], rel=1e-12)
    for key, total in totals.items():
        assert together[key] == pytest.approx(total, rel=1e-12), key
    carol = entries["carol"]  # the one account with collateral: the totals are its figures
    assert together["equity"] == pytest.approx(carol["equity"], rel=1e-12)
    assert together["excess"] == pytest.approx(carol["excess"], rel=1e-12)
    assert together["status"] == carol["status"]


@pytest.mark.parametrize("model", bundled_models())
def test_one_file_with_an_account_column_equals_its_accounts_alone(cli, write, market_path, model):
    combined = write("all.csv", ALICE + "".join(BOB.splitlines(keepends=True)[1:]))
    together = compute_json(cli, combined, "--model", model, "--by-account")
    entries = {a["account"]: a for a in together["accounts"]}
    for name, text in (("alice", ALICE), ("bob", BOB)):
        alone = compute_json(cli, write(f"{name}.csv", text), "--model", model, "--by-account")
        assert_same(entries[name], alone["accounts"][0], name)
    netted_book = write("netted.csv", combined.read_text().replace("bob,", "alice,"))
    netted = compute_json(cli, netted_book, "--model", model)
    assert together["portfolio_margin"] >= netted["portfolio_margin"] - 1e-9


def test_an_account_column_with_empty_cells_is_an_error_naming_the_lines(cli, write, market_path):
    rows = "account,instrument,quantity\nA,BTC_USDC,1\n,BTC_USDC,2\nB,BTC_USDC,1\n,BTC_USDC,3\n"
    result = cli("compute", write("book.csv", rows))
    assert result.exit_code == 2
    assert "book.csv:3: column `account`: missing" in result.stderr
    assert "book.csv:5: column `account`: missing" in result.stderr
    assert "book.csv:2" not in result.stderr and "book.csv:4" not in result.stderr


def test_a_file_without_an_account_column_is_one_account_named_null(cli, write, market_path):
    rows = "instrument,quantity\nBTC_USDC-PERPETUAL,1\n"
    data = compute_json(cli, write("book.csv", rows), "--by-account")
    assert [a["account"] for a in data["accounts"]] == [None]
    data = compute_json(cli, write("book.csv", rows))
    assert data["positions"][0]["account"] is None
    assert data["worst_scenario"]["account"] is None


def test_files_of_a_folder_are_named_by_the_file_unless_they_say_otherwise(
    cli, tmp_path, market_path
):
    folder = tmp_path / "desk"
    folder.mkdir()
    (folder / "erin.csv").write_text("instrument,quantity\nBTC_USDC-PERPETUAL,1\n")
    (folder / "named.yaml").write_text("account: frank\ncollateral: {USD: 1000}\n")
    (folder / "limits.yaml").write_text("limits: {max_margin: 1}\n")  # not a portfolio
    (folder / "market.yaml").write_text(market_path.read_text())
    data = compute_json(cli, folder, "--by-account")
    entries = {a["account"]: a for a in data["accounts"]}
    assert set(entries) == {"erin", "frank"}
    assert entries["frank"]["portfolio_margin"] == 0.0  # cash only: no risk, equity 1,000
    assert entries["frank"]["equity"] == 1000.0 and entries["frank"]["status"] == "ok"
    assert entries["erin"]["equity"] is None  # states no collateral


def test_accounts_are_sorted_by_initial_margin_and_top_keeps_the_largest(cli, write, market_path):
    rows = "account,instrument,quantity\n" + "".join(
        f"acct-{i},BTC_USDC-PERPETUAL,{q}\n" for i, q in enumerate([1, -5, 3, 2, -4])
    )
    data = compute_json(cli, write("book.csv", rows), "--by-account", "--top", "3")
    assert [a["account"] for a in data["accounts"]] == ["acct-1", "acct-4", "acct-2"]
    assert data["account_count"] == 5
    assert data["portfolio_margin"] == pytest.approx(15 * 0.17 * 100_000)  # all 5 accounts
    table = cli("compute", write("book.csv", rows), "--by-account", "--top", "3").stdout
    assert "the 3 with the largest initial margin of 5" in table


def test_chunks_of_accounts_give_the_whole_result(write, market_path, monkeypatch):
    import pmargin.accounts

    rows = "account,instrument,quantity\n" + "".join(
        f"a{i % 7},{symbol},{(i % 5) - 2}\n"
        for i, symbol in enumerate(
            ["BTC_USDC-27DEC24-100000-C", "ETH_USDC-PERPETUAL", "BTC-PERPETUAL"] * 7
        )
    )
    portfolio, market = load_portfolio(write("book.csv", rows)), load_market(market_path)
    for model in bundled_models():
        whole = compute_margin(portfolio, market, model).accounts
        monkeypatch.setattr(pmargin.accounts, "CHUNK_CELLS", 50)  # a few accounts per chunk
        chunked = compute_margin(portfolio, market, model).accounts
        monkeypatch.undo()
        numeric = whole.select_dtypes("number").columns
        np.testing.assert_allclose(
            chunked[numeric].to_numpy(), whole[numeric].to_numpy(), rtol=1e-12, atol=1e-9
        )
        assert chunked["worst_scenario.name"].equals(whole["worst_scenario.name"])


def test_stress_and_greeks_by_account_equal_each_account_alone(cli, folder):
    together = json.loads(
        cli("stress", folder, "--scenario", "crash", "--by-account", "--format", "json").stdout
    )
    greeks = json.loads(cli("greeks", folder, "--by-account", "--format", "json").stdout)
    entries = {a["account"]: a for a in together["accounts"]}
    greek_entries = {a["account"]: a for a in greeks["accounts"]}
    for name in FILES:
        alone = json.loads(
            cli("stress", folder / name, "--scenario", "crash", "--format", "json").stdout
        )
        account = name.split(".")[0]
        assert entries[account]["worst"]["pnl"] == pytest.approx(alone["worst"]["pnl"], rel=1e-9)
        assert entries[account]["worst"]["name"] == alone["worst"]["name"]
        alone_greeks = json.loads(cli("greeks", folder / name, "--format", "json").stdout)
        for underlying in alone_greeks["underlyings"]:
            mine = greek_entries[account]["underlyings"][underlying["underlying"]]
            assert mine["delta"] == pytest.approx(underlying["delta"], rel=1e-9, abs=1e-12)
            assert mine["vega"] == pytest.approx(underlying["vega"], rel=1e-9, abs=1e-9)
    # the portfolio's own P&L is the sum of the accounts' (P&L adds up; margin does not net)
    worst = together["worst"]
    scenario = next(s for s in together["scenarios"] if s["name"] == worst["name"])
    assert scenario["pnl"] == pytest.approx(worst["pnl"])


@pytest.mark.parametrize("model", bundled_models())
def test_open_orders_take_the_worse_of_filled_and_not_per_account(folder, model):
    from pmargin.book import bind
    from pmargin.io.model_file import load_model
    from pmargin.portfolio_margin import margin_for_book, requirement_with_orders

    # dave's order would close his BTC short: not filled is the worse case
    (folder / "dave.yaml").write_text(
        "account: dave\n"
        "positions:\n"
        "  - {instrument: BTC_USDC-PERPETUAL, quantity: -1}\n"
        "  - {instrument: ETH_USDC-27DEC24-4000-P, quantity: -2}\n"
        "orders:\n"
        "  - {instrument: BTC_USDC-PERPETUAL, quantity: 1, price: 99000}\n"
    )
    margin_model = load_model(model)
    market = load_market(folder / "market.yaml")
    # deribit margins orders its own way: the positions' margin plus the larger rise when the
    # buys or the sells fill, so filled is never below not filled
    own_way = model == "deribit"
    for name, unfilled_is_worse in (("carol", False), ("dave", not own_way)):
        alone = bind(load_portfolio(folder / f"{name}.yaml"), market)
        whole = requirement_with_orders(margin_model, alone)  # one account, two passes
        filled = margin_model.requirement(alone).initial
        assert (whole.initial > filled) is unfilled_is_worse, name
        assert margin_for_book(alone, margin_model).portfolio_margin == pytest.approx(
            whole.initial, rel=1e-12
        )
    together = margin_for_book(bind(load_portfolio(folder), market), margin_model)
    for name in ("carol", "dave"):
        alone = bind(load_portfolio(folder / f"{name}.yaml"), market)
        expected = requirement_with_orders(margin_model, alone).initial
        assert together.account(name).portfolio_margin == pytest.approx(expected, rel=1e-12)


def test_isolated_margin_beside_the_accounts_returns_or_raises_in_the_caller():
    """Isolated margin runs on a thread of its own while the accounts are margined: its value
    comes back, and an error it raises is raised where the result is asked for, not lost."""
    from pmargin.account_engine import Beside

    assert Beside(sum, [1.5, 2.5]).result() == 4.0

    def fails():
        raise ZeroDivisionError("in the thread")

    pending = Beside(fails)
    with pytest.raises(ZeroDivisionError, match="in the thread"):
        pending.result()


def test_a_model_whose_isolated_margin_fails_fails_the_run(write, market_path, monkeypatch):
    from pmargin.margin.deribit import DeribitModel

    def broken(self, book, scenarios):
        raise RuntimeError("isolated margin failed")

    monkeypatch.setattr(DeribitModel, "isolated_margin", broken)
    portfolio = load_portfolio(
        write("book.csv", "account,instrument,quantity\na,BTC-PERPETUAL,1\n")
    )
    model = load_model("deribit")
    with pytest.raises(RuntimeError, match="isolated margin failed"):
        compute_margin(portfolio, load_market(market_path), model)
