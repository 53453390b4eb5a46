"""The var model's `montecarlo.estimate`: Monte Carlo draws with the vols and correlations of
the price file the historical variant replays."""

import re

import numpy as np
import pytest

from pmargin import InputError, MarketDataError, compute_margin, load_market, load_portfolio
from pmargin.estimate import estimate, fill_market
from pmargin.io.model_file import load_model
from pmargin.io.price_history import load_price_history

BOOK = "instrument,quantity\nBTC_USDC-PERPETUAL,1\nETH_USDC-PERPETUAL,-20\n"


def closes_csv(count: int = 200) -> str:
    rng = np.random.default_rng(8)
    z = rng.standard_normal((2, count - 1))
    btc = 30000 * np.exp(np.concatenate([[0], np.cumsum(0.035 * z[0])]))
    eth = 2000 * np.exp(np.concatenate([[0], np.cumsum(0.05 * (0.9 * z[0] + 0.44 * z[1]))]))
    days = np.datetime64("2022-01-01") + np.arange(count)
    rows = (f"{d},{float(b)!r},{float(e)!r}\n" for d, b, e in zip(days, btc, eth))
    return "date,BTC,ETH\n" + "".join(rows)


def var_model(write, estimate_block: str = "{method: ewma, lambda: 0.97}", scenarios="montecarlo"):
    return write(
        "var_history.yaml",
        f"""\
        name: var_history
        method: var
        scenarios: {scenarios}
        horizon_days: 2
        montecarlo: {{paths: 5000, seed: 3, distribution: normal, estimate: {estimate_block}}}
        historical: {{prices: closes.csv}}
        """,
    )


def test_monte_carlo_draws_with_the_estimate_of_the_replayed_file(write, market_path):
    closes = write("closes.csv", closes_csv())
    model = load_model(var_model(write))
    history_estimate = estimate(load_price_history(closes), method="ewma", decay=0.97)
    assert model.scenario_set.estimate.vols.tolist() == history_estimate.vols.tolist()

    # the same margin as a plain Monte Carlo var model on a market holding the estimate
    book, market = load_portfolio(write("book.csv", BOOK)), load_market(market_path)
    plain = write(
        "plain.yaml",
        "name: plain\nmethod: var\nhorizon_days: 2\n"
        "montecarlo: {paths: 5000, seed: 3, distribution: normal}\n",
    )
    estimated_market = fill_market(history_estimate)  # vols and ρ from the file
    filled = type(market)(
        market.as_of,
        market.rate,
        {
            u: type(data)(data.spot, vol=estimated_market.underlyings[u].vol)
            for u, data in market.underlyings.items()
        },
        estimated_market.correlations,
    )
    from_history = compute_margin(book, market, model)
    by_hand = compute_margin(book, filled, str(plain))
    assert from_history.portfolio_margin == by_hand.portfolio_margin > 0
    # and not the market's own vols and correlation (0.5, 0.6, 0.8 in the test market)
    assert compute_margin(book, market, str(plain)).portfolio_margin != pytest.approx(
        from_history.portfolio_margin, rel=1e-3
    )


def test_a_historical_model_may_keep_the_estimate_block(write, market_path):
    write("closes.csv", closes_csv())
    model = load_model(var_model(write, scenarios="historical"))
    assert model.kind == "historical"


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("{method: garch}", "montecarlo.estimate.method: unknown 'garch'"),
        ("{method: sample, lambda: 0.9}", "montecarlo.estimate.lambda: only applies to"),
        ("{method: ewma, lambda: 1.5}", "montecarlo.estimate.lambda: must be below 1"),
        ("{window: 10}", "montecarlo.estimate.window: must be a whole number ≥ 30"),
        ("{windw: 100}", "montecarlo.estimate.windw: unknown key `windw`"),
        ("ewma", "montecarlo.estimate: expected a mapping"),
        ("null", "montecarlo.estimate: expected a mapping"),
    ],
)
def test_bad_estimate_options_are_named(write, block, message):
    write("closes.csv", closes_csv())
    with pytest.raises(InputError, match=re.escape(message)):
        load_model(var_model(write, block))


def test_a_gap_in_the_replayed_file_names_its_line(write):
    text = closes_csv().splitlines(keepends=True)
    text[40] = text[40].rsplit(",", 1)[0] + ",\n"  # line 41: no ETH close
    closes = write("closes.csv", "".join(text))
    with pytest.raises(InputError) as caught:
        load_model(var_model(write))
    assert f"{closes}:41: column `ETH`: no close (empty cell) between two closes" in str(
        caught.value
    )


def test_a_coin_the_file_lacks_is_named(write, market_path):
    write("closes.csv", closes_csv())
    model = load_model(var_model(write))
    book = load_portfolio(write("book.csv", "instrument,quantity\nSOL_USDC-PERPETUAL,1\n"))
    market = load_market(
        write("m.yaml", "as_of: 2024-11-25\nunderlyings: {SOL: {spot: 240, vol: 0.8}}\n")
    )
    with pytest.raises(MarketDataError, match=re.escape("closes.csv: no closes for SOL")):
        compute_margin(book, market, model)
