"""The published models margin many accounts at once exactly as they margin each book alone.

deribit's reference is its own single-book path, ``pme/simulate`` (:meth:`DeribitModel.simulate`:
the configurations of one book's position rows — positions, with every buy, with every sell —
aggregated row by row), which reproduces Deribit's documented responses
(tests/margin/test_deribit_examples.py); the accounts path nets each account's contracts first and
aggregates every account's configurations as holders of one call. derive's reference is the
initial margin of each position alone (PMRM_2 is positively homogeneous in one position), and
the same book split into accounts.
"""

from __future__ import annotations

import numpy as np
import pytest

from pmargin import compute_margin, load_market, load_portfolio
from pmargin.book import bind
from pmargin.io.model_file import load_model

#: accounts that exercise deribit's currencies, coin balances, orders on both sides, net-zero rows
ACCOUNTS = {
    "a": """\
positions:
  - {instrument: BTC_USDC-27DEC24-100000-C, quantity: -2}
  - {instrument: BTC-PERPETUAL, quantity: 20000}
  - {instrument: ETH_USDC-PERPETUAL, quantity: -10}
orders:
  - {instrument: ETH_USDC-PERPETUAL, quantity: 4, price: 3400}
  - {instrument: ETH_USDC-PERPETUAL, quantity: -3, price: 3500}
""",
    "b": """\
collateral: {USD: 10000, BTC: 0.2}
positions:
  - {instrument: BTC_USDC, quantity: -0.5}
  - {instrument: ETH-27DEC24-3000-P, quantity: -40}
  - {instrument: BTC-27DEC24-90000-P, quantity: 3}
""",
    "c": """\
positions:
  - {instrument: BTC_USDC-PERPETUAL, quantity: 1}
  - {instrument: BTC_USDC-PERPETUAL, quantity: -1}
orders:
  - {instrument: ETH_USDC-27DEC24-4000-P, quantity: 5, price: 300}
""",
    "d": "positions:\n  - {instrument: BTC_USDC, quantity: 2}\n",
    "e": """\
positions:
  - {instrument: ETH-PERPETUAL, quantity: -5000}
  - {instrument: ETH-27DEC24-4000-C, quantity: -10}
  - {instrument: ETH-27DEC24-4000-P, quantity: 10}
orders:
  - {instrument: ETH-PERPETUAL, quantity: 3000, price: 3300}
""",
}


@pytest.fixture
def book(tmp_path, market_path):
    folder = tmp_path / "accounts"
    folder.mkdir()
    for name, text in ACCOUNTS.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return bind(load_portfolio(folder), load_market(market_path))


def test_deribit_accounts_equal_pme_simulate_of_each_book(book):
    model = load_model("deribit")
    result = compute_margin(book.portfolio, book.market, model)
    for name in "abcde":
        alone = bind(book.portfolio.for_account(name), book.market)
        currencies = model.simulate(alone)  # the reference: Deribit's per-book method
        row = result.account(name)
        usd = {c: m.index_price for c, m in currencies.items()}
        initial = sum(m.initial_margin * usd[c] for c, m in currencies.items())
        maintenance = sum(m.maintenance_margin * usd[c] for c, m in currencies.items())
        assert row.portfolio_margin == pytest.approx(initial, rel=1e-12, abs=1e-9), name
        assert row.maintenance_margin == pytest.approx(maintenance, rel=1e-12, abs=1e-9), name
        assert row.by_underlying == pytest.approx(
            {c: m.initial_margin * usd[c] for c, m in currencies.items()}, rel=1e-12, abs=1e-9
        )
        for part in ("roll_shock", "delta_shock", "risk_matrix", "extended"):
            expected = sum(getattr(m, part) * usd[c] for c, m in currencies.items())
            assert row.components[part] == pytest.approx(expected, rel=1e-12, abs=1e-9)
        expected_orders = sum(m.open_orders_margin * usd[c] for c, m in currencies.items())
        assert row.components["open_orders"] == pytest.approx(expected_orders, abs=1e-9)
        worst = max(currencies.values(), key=lambda m: m.worst_case * m.index_price, default=None)
        if worst is None or worst.worst_case == 0:
            assert row.worst_scenario is None, name
        else:
            assert row.worst_scenario["name"] == worst.worst_scenario, name
            assert row.worst_scenario["pnl"] == pytest.approx(
                -worst.worst_case * usd[worst.currency]
            )
    assert result.account("d").portfolio_margin == 0.0  # long coin: equity, no risk
    assert result.account("a").components["open_orders"] > 0  # the sell fills into more risk
    assert result.portfolio_margin == pytest.approx(
        sum(result.account(n).portfolio_margin for n in "abcde"), rel=1e-12
    )


def test_derive_isolated_margin_is_each_position_alone(book, write):
    model = load_model("derive")
    result = compute_margin(book.portfolio, book.market, model)
    positions = result.positions
    for row in np.flatnonzero(~positions["is_collateral"].to_numpy()):
        symbol, quantity = positions["instrument"].iloc[row], positions["quantity"].iloc[row]
        line = f"instrument,quantity\n{symbol},{quantity}\n"
        alone = bind(load_portfolio(write("one.csv", line)), book.market)
        expected = model.requirement(alone).initial
        assert positions["isolated_margin"].iloc[row] == pytest.approx(expected, rel=1e-9)


def test_derive_accounts_do_not_offset_and_one_book_does(book):
    model = load_model("derive")
    result = compute_margin(book.portfolio, book.market, model)
    whole = model.requirement(bind(book.portfolio, book.market))  # every account as one book
    accounts = [result.account(n) for n in "abcde"]
    assert result.portfolio_margin == pytest.approx(sum(a.portfolio_margin for a in accounts))
    assert result.portfolio_margin > whole.initial  # the accounts' offsets are not taken
    assert np.isfinite(result.accounts.select_dtypes("number").to_numpy(float)).any()
