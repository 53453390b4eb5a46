"""deribit for many candidate books at once, and its allocation, on a book where the published
method is not homogeneous: a delta shock above its threshold, the extended table with its
dampener setting a currency's worst case, ETH's offset of gains (capped in a variant), a net
short coin balance, buy and sell orders on one instrument, and all three settlement currencies.

Market (tests/conftest.py): BTC 100,000 vol 50%, ETH 4,000 vol 60%, correlation 0.8, rate 0.
"""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from pmargin import load_market, load_portfolio
from pmargin.attribution import explain_margin
from pmargin.book import bind
from pmargin.io.model_file import load_model
from pmargin.margin.batch import OpenOrders, QuantityBatch, candidate_margins
from pmargin.portfolio_margin import requirement_with_orders

MODELS = Path(__file__).resolve().parents[2] / "pmargin" / "models"
BOOK = """\
collateral: {USD: 3000000, BTC: 10, ETH: 50}
positions:
  - {id: btc-perp, instrument: BTC-PERPETUAL, quantity: 30000000}
  - {id: btc-call, instrument: BTC-27DEC24-100000-C, quantity: -40}
  - {id: btc-put, instrument: BTC-28MAR25-90000-P, quantity: 25}
  - {id: btc-future, instrument: BTC-28MAR25, quantity: -800000}
  - {id: eth-call, instrument: ETH-27DEC24-4000-C, quantity: -3000}
  - {id: eth-perp, instrument: ETH-PERPETUAL, quantity: 9000000}
  - {id: usdc-call, instrument: BTC_USDC-27DEC24-110000-C, quantity: -400}
  - {id: usdc-perp, instrument: ETH_USDC-PERPETUAL, quantity: 900}
  - {id: btc-short, underlying: BTC, kind: spot, quantity: -14}
  - {id: eth-long, underlying: ETH, kind: spot, quantity: 30}
orders:
  - {id: buy-perp, instrument: ETH_USDC-PERPETUAL, quantity: 2500, price: 3900}
  - {id: sell-calls, instrument: BTC-27DEC24-100000-C, quantity: -30, price: 0.05}
  - {id: buy-calls, instrument: BTC-27DEC24-100000-C, quantity: 20, price: 0.04}
"""


@pytest.fixture(params=["published", "capped offset"])
def model(request, tmp_path):
    if request.param == "published":
        return load_model("deribit")
    text = (MODELS / "deribit.yaml").read_text(encoding="utf-8")
    assert "max_offsetable_pnl: 20000000" in text  # ETH's cap, far above this book's gains
    path = tmp_path / "capped.yaml"
    path.write_text(text.replace("max_offsetable_pnl: 20000000", "max_offsetable_pnl: 1000"))
    return load_model(str(path))


@pytest.fixture
def book(write, market_path):
    return bind(load_portfolio(write("book.yaml", BOOK)), load_market(market_path))


def test_the_book_is_where_the_method_is_not_homogeneous(book, model):
    margins = model.simulate(book)
    assert margins["BTC"].delta_shock > 0
    assert margins["USDC"].extended > margins["USDC"].risk_matrix  # dampened extended table
    assert not margins["BTC"].size_independent and not margins["USDC"].size_independent
    assert margins["BTC"].open_orders_margin > 0 and margins["USDC"].open_orders_margin > 0
    capped = model.settings.currency("ETH").max_offsetable_pnl == 1000
    assert margins["ETH"].size_independent is not capped  # the cap binds on ETH's gains


def with_rows(book, instruments, quantities):
    """``book`` with position rows of ``quantities`` contracts of ``instruments`` appended."""
    rows = book.positions.iloc[[0] * len(instruments)]
    return replace(
        book,
        positions=pd.concat([book.positions, rows], ignore_index=True),
        instrument=np.concatenate([book.instrument, instruments]),
        quantity=np.concatenate([book.quantity, quantities]),
        is_order=np.concatenate([book.is_order, np.zeros(len(instruments), bool)]),
        is_collateral=np.concatenate([book.is_collateral, np.zeros(len(instruments), bool)]),
    )


def test_candidates_equal_the_requirement_of_each_book(book, model):
    rng = np.random.default_rng(11)
    size, count = len(book.instruments), 40
    row = np.repeat(np.arange(count), 2)
    column = rng.integers(size, size=2 * count)
    scale = np.abs(book.net_quantity[column]) + 1.0
    change = rng.normal(0, 1.5, 2 * count) * scale  # some flip a position or a coin balance
    batch = QuantityBatch(
        book.net_quantity[None, :],
        np.zeros(count, np.int64),
        sparse.csr_array((change, (row, column)), shape=(count, size)),
    )
    orders = OpenOrders.of(book, np.zeros(len(book.quantity), np.int64), 1)
    got = candidate_margins(model, book, batch, orders)
    for c in range(count):
        mine = row == c
        expected = requirement_with_orders(model, with_rows(book, column[mine], change[mine]))
        assert got.initial[c] == pytest.approx(expected.initial, rel=1e-10)
        assert got.maintenance[c] == pytest.approx(expected.maintenance, rel=1e-10)


def test_the_allocation_adds_up_per_currency(write, market_path, model):
    portfolio = load_portfolio(write("book.yaml", BOOK))
    market = load_market(market_path)
    result = explain_margin(portfolio, market, model)
    book = bind(portfolio, market)
    requirement = requirement_with_orders(model, book)
    assert result.positions["contribution"].sum() == pytest.approx(requirement.initial, rel=1e-12)
    by_id = result.positions.set_index("id")["contribution"]
    for currency, ids in {
        "BTC": ["btc-perp", "btc-call", "btc-put", "btc-future", "sell-calls", "buy-calls"],
        "ETH": ["eth-call", "eth-perp"],
        "USDC": [
            *("usdc-call", "usdc-perp", "buy-perp", "btc-short", "eth-long"),
            *("collateral:BTC", "collateral:ETH"),
        ],
    }.items():
        expected = requirement.by_underlying[currency]
        assert by_id[ids].sum() == pytest.approx(expected, rel=1e-12), currency
    # BTC margins highest with every buy order filled: the sell orders are outside it
    assert "with every buy order filled" in result.basis["BTC"]
    assert by_id["sell-calls"] == 0 and by_id["buy-calls"] != 0
    # long coin balances have no risk in their own coin; the short BTC balance does
    assert by_id["eth-long"] == 0 and by_id["collateral:ETH"] == 0
    assert by_id["btc-short"] > 0
    assert set(result.basis) == {"BTC", "ETH", "USDC"}


def test_one_instrument_on_two_rows_splits_by_quantity_above_the_delta_threshold(
    write, market_path
):
    # 300 BTC of net delta (30M USD face at 100,000) is above the 20M USD threshold: the delta
    # shock is not proportional to size, yet one instrument's rows share it by quantity
    portfolio = load_portfolio(
        write(
            "perp.csv",
            "id,instrument,quantity\nbig,BTC-PERPETUAL,35000000\nback,BTC-PERPETUAL,-5000000\n",
        )
    )
    model = load_model("deribit")
    market = load_market(market_path)
    assert model.simulate(bind(portfolio, market))["BTC"].delta_shock > 0
    result = explain_margin(portfolio, market, model)
    by_id = result.positions.set_index("id")["contribution"]
    assert by_id["big"] == pytest.approx(result.portfolio_margin * 35 / 30, rel=1e-12)
    assert by_id["back"] == pytest.approx(-result.portfolio_margin * 5 / 30, rel=1e-12)
