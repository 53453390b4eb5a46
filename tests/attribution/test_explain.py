"""Euler allocation of the margin: contributions add up to it, agree with finite differences of
the margin itself, and a hedge contributes negatively.

Market (tests/conftest.py): BTC 100,000 vol 50%, ETH 4,000 vol 60%, correlation 0.8, rate 0.
"""

from dataclasses import replace

import numpy as np
import pytest
from conftest import SAMPLES

from pmargin import InputError, compute_margin, load_market, load_portfolio
from pmargin.attribution import explain_margin
from pmargin.book import bind
from pmargin.io.model_file import bundled_models, load_model
from pmargin.portfolio_margin import requirement_with_orders

#: every bundled model that allocates its margin (a model without `allocation` is refused)
MODELS = [name for name in bundled_models() if hasattr(load_model(name), "allocation")]
MIXED = """\
id,instrument,quantity
short-call,BTC_USDC-27DEC24-110000-C,-4
long-put,BTC_USDC-27DEC24-90000-P,3
future,BTC_USDC-28MAR25,-1.5
eth-put,ETH_USDC-27DEC24-3500-P,-40
eth-perp,ETH_USDC-PERPETUAL,25
short-again,BTC_USDC-27DEC24-110000-C,-1
long-leg,BTC_USDC-27DEC24-110000-C,0.5
"""


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize(
    "sample", ["hedged_btc_options.csv", "multi_asset.yaml", "naked_short_options.csv"]
)
def test_contributions_add_up_to_the_margin_on_the_samples(name, sample):
    portfolio = load_portfolio(SAMPLES / sample)
    market = load_market(SAMPLES / "market.yaml")
    model = load_model(name)
    result = explain_margin(portfolio, market, model)
    margin = compute_margin(portfolio, market, model).portfolio_margin
    assert result.portfolio_margin == pytest.approx(margin, rel=1e-12)
    assert result.positions["contribution"].sum() == pytest.approx(margin, rel=1e-9, abs=1e-9)
    benefit = result.positions["isolated_margin"] - result.positions["contribution"]
    np.testing.assert_allclose(result.positions["diversification_benefit"], benefit)
    assert list(result.positions["contribution"]) == sorted(
        result.positions["contribution"], reverse=True
    )


def margin_of(book, model, rows, scale):
    """Margin with the position rows ``rows`` scaled by ``scale``."""
    quantity = book.quantity.copy()
    quantity[rows] *= scale
    return requirement_with_orders(model, replace(book, quantity=quantity)).initial


def homogeneous(model):
    """``model``, or where it is not positively homogeneous the same model without what makes
    it so: standard's futures rate grows with size (its allocation splits each instrument's
    margin pro rata, which is Euler's only at a constant rate)."""
    if model.method != "standard":
        return model
    flat = {k: replace(rates, size_increment=0.0) for k, rates in model.futures.items()}
    return replace(model, futures=flat)


@pytest.mark.parametrize("name", MODELS)
def test_each_contribution_is_quantity_times_the_margin_derivative(write, market_path, name):
    # Euler: contribution = d margin / d(scale of the row) at scale 1, by central differences.
    # span's inter-commodity credit is allocated by delta, not by its derivative: no ETH there
    rows = MIXED if name != "span" else "\n".join(r for r in MIXED.splitlines() if "ETH" not in r)
    portfolio = load_portfolio(write("mixed.csv", rows))
    market = load_market(market_path)
    model = homogeneous(load_model(name))
    result = explain_margin(portfolio, market, model)
    book = bind(portfolio, market)
    contribution = result.positions.set_index("id")["contribution"]
    h = 1e-6
    for row, position in enumerate(book.positions["id"]):
        derivative = (
            margin_of(book, model, [row], 1 + h) - margin_of(book, model, [row], 1 - h)
        ) / (2 * h)
        assert contribution[position] == pytest.approx(derivative, rel=1e-5, abs=1e-3), position


@pytest.mark.parametrize("name", ["deribit", "derive", "span", "tims", "var"])
def test_a_hedge_has_a_negative_contribution(write, market_path, name):
    # long BTC with a protective put: the put pays in the crash that sets the margin
    portfolio = load_portfolio(
        write(
            "hedged.csv",
            "id,instrument,quantity\nlong,BTC_USDC-PERPETUAL,10\nput,BTC_USDC-27DEC24-95000-P,10\n",
        )
    )
    result = explain_margin(portfolio, load_market(market_path), load_model(name))
    by_id = result.positions.set_index("id")
    assert by_id.loc["put", "contribution"] < 0
    assert by_id.loc["long", "contribution"] > result.portfolio_margin
    assert by_id.loc["put", "diversification_benefit"] > by_id.loc["put", "isolated_margin"]


def test_span_short_option_minimum_goes_to_the_short_options(write, market_path):
    # a far out-of-the-money short put loses little in the scan; the minimum (1% of spot per
    # coin, span.yaml) binds and is charged per short contract
    portfolio = load_portfolio(
        write("otm.csv", "id,instrument,quantity\nfar,BTC_USDC-27DEC24-20000-P,-3\n")
    )
    market = load_market(market_path)
    result = explain_margin(portfolio, market, load_model("span"))
    assert result.portfolio_margin == pytest.approx(3 * 0.01 * 100000, rel=1e-12)
    assert result.positions["contribution"].iloc[0] == pytest.approx(3000.0, rel=1e-12)
    assert result.basis == {"BTC": "short option minimum"}


def test_span_credit_is_split_by_composite_delta(write, market_path):
    # long BTC, short ETH in the 1:22 ratio: a 50% inter-commodity credit on both legs
    portfolio = load_portfolio(
        write(
            "spread.csv",
            "id,instrument,quantity\nbtc,BTC_USDC-PERPETUAL,1\neth-a,ETH_USDC-PERPETUAL,-11\n"
            "eth-b,ETH_USDC-PERPETUAL,-11\n",
        )
    )
    market = load_market(market_path)
    model = load_model("span")
    result = explain_margin(portfolio, market, model)
    components = compute_margin(portfolio, market, model).components
    assert components["inter_commodity_credit"] > 0
    by_id = result.positions.set_index("id")["contribution"]
    assert by_id["eth-a"] == pytest.approx(by_id["eth-b"], rel=1e-12)
    assert by_id.sum() == pytest.approx(result.portfolio_margin, rel=1e-12)
    btc_scan = 0.16 * 100000  # the worst scenario loss of 1 BTC
    assert by_id["btc"] == pytest.approx(btc_scan * (1 - 0.5), rel=1e-12)


def test_accounts_are_allocated_on_their_own(write, market_path):
    portfolio = load_portfolio(
        write(
            "accounts.csv",
            "account,id,instrument,quantity\na,a-long,BTC_USDC-PERPETUAL,1\n"
            "b,b-short,BTC_USDC-PERPETUAL,-1\nb,b-call,BTC_USDC-27DEC24-100000-C,1\n",
        )
    )
    market = load_market(market_path)
    model = load_model("deribit")
    result = explain_margin(portfolio, market, model)
    per_account = compute_margin(portfolio, market, model).account_results()
    assert [a.account for a in result.accounts] == ["a", "b"]
    for explained, computed in zip(result.accounts, per_account):
        assert explained.portfolio_margin == pytest.approx(computed.portfolio_margin, rel=1e-12)
        total = explained.positions["contribution"].sum()
        assert total == pytest.approx(computed.portfolio_margin, rel=1e-9)
    # no netting: a's long and b's short do not offset
    assert result.portfolio_margin == pytest.approx(
        sum(a.portfolio_margin for a in per_account), rel=1e-12
    )


def test_open_orders_get_nothing_when_the_book_margins_higher_without_them(write, market_path):
    portfolio = load_portfolio(
        write(
            "orders.yaml",
            """\
            positions:
              - {id: short, instrument: BTC_USDC-PERPETUAL, quantity: -2}
            orders:
              - {id: order, instrument: BTC_USDC-PERPETUAL, quantity: 2, price: 100000}
            """,
        )
    )
    result = explain_margin(portfolio, load_market(market_path), load_model("deribit"))
    by_id = result.positions.set_index("id")["contribution"]
    assert by_id["order"] == 0
    assert by_id["short"] == pytest.approx(result.portfolio_margin, rel=1e-12)


def test_every_model_of_the_five_methods_allocates_and_others_are_refused(write, market_path):
    assert {"deribit", "span", "tims", "var", "standard"} <= set(MODELS)

    class OnlyRequirement:
        name, method = "mine", "mine"

        def requirement(self, book):
            return load_model("deribit").requirement(book)

    portfolio = load_portfolio(write("b.csv", "instrument,quantity\nBTC_USDC-PERPETUAL,1\n"))
    with pytest.raises(InputError, match="the mine method has no margin attribution"):
        explain_margin(portfolio, load_market(market_path), OnlyRequirement())


def test_standard_splits_a_size_dependent_futures_margin_by_quantity(write, market_path):
    # BTC futures: IM = n·(2% + n·0.005%)·S on the instrument's net n coins (4): not
    # proportional to size, so split by the rows' quantities rather than by derivatives
    portfolio = load_portfolio(
        write(
            "perp.csv",
            "id,instrument,quantity\nbig,BTC_USDC-PERPETUAL,3\nsmall,BTC_USDC-PERPETUAL,1\n",
        )
    )
    result = explain_margin(portfolio, load_market(market_path), load_model("standard"))
    margin = 4 * (0.02 + 4 * 0.00005) * 100000
    assert result.portfolio_margin == pytest.approx(margin, rel=1e-12)
    by_id = result.positions.set_index("id")["contribution"]
    assert by_id["big"] == pytest.approx(0.75 * margin, rel=1e-12)
    assert by_id["small"] == pytest.approx(0.25 * margin, rel=1e-12)
