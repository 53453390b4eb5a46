"""Liquidation parameters in the model YAMLs, the fees they give, and the book after as a file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pmargin import load_market, load_model, load_portfolio
from pmargin.book import bind
from pmargin.errors import InputError
from pmargin.io.model_file import bundled_models, model_file
from pmargin.io.portfolio_writer import write_portfolio
from pmargin.liquidation_book import AccountBook
from pmargin.margin.liquidation_parameters import LiquidationParameters


@pytest.mark.parametrize("name", bundled_models())
def test_every_bundled_model_states_its_liquidation_parameters(name):
    text = model_file(name).read_text()
    assert "\nliquidation:" in text and "source:" in text.split("\nliquidation:")[1]
    parameters = load_model(name).liquidation
    assert parameters.fee_rate("future", "BTC") == 0.0075
    assert parameters.fee_rate("future", "ETH") == 0.009
    assert parameters.fee_rate("future", "SOL") == 0.0075
    assert parameters.fee_rate("option", "BTC") == 0.0019
    assert parameters.option_fee_cap == 0.125
    assert parameters.lot("BTC", 95000) == 1.0 and parameters.lot("SOL", 250) == 400.0
    assert parameters.buffer == 0.0


def test_models_show_lists_the_liquidation_parameters(cli):
    data = json.loads(cli("models", "show", "deribit", "--format", "json").stdout)
    assert data["parameters"]["liquidation"]["option_fee_cap"] == 0.125


def _model_with(write, block: str) -> str:
    text = model_file("tims").read_text().split("\nliquidation:")[0]
    return str(write("my_model.yaml", text + "\nliquidation:\n" + block))


def test_a_bad_liquidation_block_names_the_key_and_the_fix(write):
    path = _model_with(write, "  fee_rat: {future: 0.01}\n  buffer: -1\n  lot: {BTC: 0}\n")
    with pytest.raises(InputError) as error:
        load_model(path)
    text = str(error.value)
    assert "liquidation.fee_rat" in text and "Did you mean `fee_rate`?" in text
    assert "liquidation.buffer" in text and "liquidation.lot.BTC" in text


def test_a_users_block_overrides_the_defaults(write):
    path = _model_with(write, "  fee_rate: {future: 0.001, option: {ETH: 0.003}}\n  buffer: 0.1\n")
    parameters = load_model(path).liquidation
    assert parameters.fee_rate("future", "BTC") == 0.001
    assert parameters.fee_rate("option", "ETH") == 0.003
    assert parameters.fee_rate("option", "BTC") == 0.0  # no default given for options
    assert parameters.buffer == 0.1 and parameters.lot_coins == {"BTC": 1.0, "ETH": 25.0}


FEES = """\
account: desk
collateral: {USD: 100000}
positions:
  - {instrument: BTC-PERPETUAL, quantity: -50000}
  - {instrument: ETH_USDC-PERPETUAL, quantity: 10}
  - {instrument: BTC-27DEC24-100000-C, quantity: -2}
  - {instrument: BTC-27DEC24-300000-C, quantity: 3}
"""


def test_fees_are_rates_of_notional_and_options_are_capped_by_value(write, market_path):
    book = bind(load_portfolio(write("fees.yaml", FEES)), load_market(market_path))
    account = AccountBook(book, load_model("deribit"), LiquidationParameters())
    symbols = list(book.instruments.symbols)
    index = np.array([symbols.index(s) for s in symbols])
    fees = dict(zip(symbols, account.fees(index, np.full(len(index), 1.0))))
    assert fees["BTC-PERPETUAL"] == pytest.approx(0.0075 * 10)  # face 10 USD
    assert fees["ETH_USDC-PERPETUAL"] == pytest.approx(0.009 * 4000)  # 1 ETH at 4,000, 0.9%
    assert fees["BTC-27DEC24-100000-C"] == pytest.approx(0.0019 * 100000)
    far = symbols.index("BTC-27DEC24-300000-C")  # worth a few dollars: 12.5% of its value
    value = book.instruments.option_prices()[far]
    assert 0 < value < 1000
    assert fees["BTC-27DEC24-300000-C"] == pytest.approx(0.125 * value)
    # selling is charged as buying
    assert account.fees(index[:1], np.array([-3.0]))[0] == pytest.approx(3 * fees[symbols[0]])
    # a step is one BTC, in whole contracts (100,000 USD of 10 USD contracts)
    assert account.lot[symbols.index("BTC-PERPETUAL")] == 10000
    assert account.lot[symbols.index("ETH_USDC-PERPETUAL")] == 25


def test_a_negative_usd_balance_is_a_debit_and_a_negative_coin_is_an_error(write):
    portfolio = load_portfolio(write("debit.yaml", "collateral: {USD: -5000, BTC: 1}\n"))
    assert portfolio.collateral[""] == {"USD": -5000.0, "BTC": 1.0}
    with pytest.raises(InputError, match=r"collateral\.BTC"):
        load_portfolio(write("short.yaml", "collateral: {USD: 5000, BTC: -1}\n"))


def test_written_portfolio_reads_back_the_same(write, market_path, tmp_path):
    order = "orders:\n  - {instrument: BTC-PERPETUAL, quantity: 10, price: 99000}\n"
    original = load_portfolio(write("fees.yaml", FEES + order))
    path = tmp_path / "copy.yaml"
    assert write_portfolio(path, original, market=str(market_path)) == []
    copy = load_portfolio(path)
    assert copy.collateral == original.collateral
    assert copy.market_path is not None
    columns = ["instrument", "quantity", "multiplier", "settlement", "strike", "is_order"]
    assert copy.positions[columns].equals(original.positions[columns])
    assert copy.positions["expiry"].equals(original.positions["expiry"])
    assert copy.positions["entry_price"].equals(original.positions["entry_price"])
    assert not list(tmp_path.glob(".copy.yaml.*"))  # no temporary file left behind


def test_writing_to_a_missing_folder_is_an_input_error(tmp_path, write):
    portfolio = load_portfolio(write("fees.yaml", FEES))
    with pytest.raises(InputError, match="cannot write"):
        write_portfolio(tmp_path / "nowhere" / "after.yaml", portfolio)
