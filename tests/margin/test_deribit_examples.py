"""The deribit model against Deribit's own ``private/pme/simulate`` responses.

``deribit_examples/pme_simulate_btc_doc_2024-06-17.json`` is the example of Deribit's API
documentation (docs.deribit.com, private/pme/simulate), copied verbatim: BTC-PERPETUAL
0.314538364 BTC (≈ 2,073 contracts) and BTC-28JUN24 −0.001187534 BTC (≈ −8 contracts) at index
65,666.19. Its inputs are the positions (in coin), the index, the marks of the futures, the
timestamp and every model parameter; from them the model recovers every figure the response
gives but the open-orders and MMP margins (the example lists no orders or quotes): both
instruments' 35-entry risk vectors, the aggregated vector, the worst case and its bucket, the roll
shock, the delta shock, the risk-matrix margin 0.06284313098 BTC and maintenance
0.050274504784 BTC = 0.8 × it.

``pme_simulate_eth_live_2026-02-15.json`` is a live response captured by a third party (not an
official document): short ETH-PERPETUAL at index 1,949.34, with ETH's parameters (price range
18%, pnl_offset 0.6, roll floor 0.5%). It is the source of the bundled ETH parameters.
"""

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from pmargin import compute_margin, load_market, load_portfolio
from pmargin.book import bind
from pmargin.instruments import INVERSE_FACE_USD
from pmargin.io.model_file import load_model

EXAMPLES = Path(__file__).parent / "deribit_examples"
BTC_DOC = "pme_simulate_btc_doc_2024-06-17.json"
ETH_LIVE = "pme_simulate_eth_live_2026-02-15.json"
CASES = [(BTC_DOC, "btc"), (ETH_LIVE, "eth")]
#: float round-off of the engine's USD P&L divided back into coin
REL = 1e-13


def response(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))["response"]["result"]


def example_book(write, name: str, currency: str):
    """The response's positions and market as a pmargin book.

    Positions are in coin; an inverse future of n contracts of face N at forward F is n·N/F coin,
    so the book holds coin × F / N contracts. The market's forwards are the futures' marks (a
    perpetual's forward is the index in pmargin).
    """
    result = response(name)
    general = result["model_params"]["general"]
    as_of = datetime.fromtimestamp(general["timestamp"] / 1000, tz=timezone.utc)
    coin = currency.upper()
    index = result["index_price"][f"{currency}_usd"]
    forwards, rows = {}, ["instrument,quantity"]
    for symbol, size in result["portfolio"]["position"].items():
        forward = index
        if not symbol.endswith("PERPETUAL"):
            expiry = datetime.strptime(symbol.split("-")[1], "%d%b%y").date().isoformat()
            forward = forwards[expiry] = result["ticker"][symbol]["mark_price"]
        rows.append(f"{symbol},{size * forward / INVERSE_FACE_USD[coin]!r}")
    market = write(
        "market.yaml",
        f"as_of: {as_of.isoformat()}\nrate: 0\nunderlyings:\n"
        f"  {coin}: {{spot: {index!r}, vol: 0.5, forwards: {json.dumps(forwards)}}}\n",
    )
    portfolio = write("book.csv", "\n".join(rows) + "\n")
    return load_portfolio(portfolio), load_market(market)


@pytest.fixture(params=CASES, ids=["btc_documented", "eth_live_capture"])
def case(request, write):
    name, currency = request.param
    portfolio, market = example_book(write, name, currency)
    book = bind(portfolio, market)
    return response(name), currency, book


def vector(entry: dict) -> np.ndarray:
    return np.array(entry["standard"] + entry["extended"], dtype=float)


def test_every_initial_risk_vector_entry(case):
    result, _, book = case
    vectors = load_model("deribit").initial_risk_vectors(book)
    assert set(vectors) == set(result["initial_risk_vectors"])
    for symbol, entry in result["initial_risk_vectors"].items():
        np.testing.assert_allclose(vectors[symbol], vector(entry), rtol=REL, atol=1e-18)


def test_pre_aggregated_and_aggregated_vectors(case):
    result, currency, book = case
    margin = load_model("deribit").simulate(book)[currency.upper()]
    for key, entry in result["aggregated_risk_vectors"].items():
        np.testing.assert_allclose(margin.aggregated[key], vector(entry), rtol=REL, atol=1e-18)
    for key, entry in result.get("pre_aggregated_risk_vectors", {}).items():
        np.testing.assert_allclose(margin.pre_aggregated[key], vector(entry), rtol=REL, atol=1e-18)


def test_worst_case_roll_shock_and_delta_shock(case):
    result, currency, book = case
    margin = load_model("deribit").simulate(book)[currency.upper()]
    details = result["margins"][currency]["initial_margin_details"]["risk_matrix_margin_details"]
    assert margin.worst_case == pytest.approx(details["worst_case"], rel=REL)
    assert margin.worst_case_bucket == details["worst_case_bucket"]
    assert margin.roll_shock == pytest.approx(details["roll_shock"], rel=REL)
    assert margin.delta_shock == details["delta_shock"] == 0


def test_risk_matrix_margin_and_maintenance(case):
    result, currency, book = case
    margin = load_model("deribit").simulate(book)[currency.upper()]
    expected = result["margins"][currency]
    risk_matrix_margin = expected["initial_margin_details"]["risk_matrix_margin"]
    assert margin.risk_matrix_margin == pytest.approx(risk_matrix_margin, rel=REL)
    assert margin.maintenance_margin == pytest.approx(expected["maintenance_margin"], rel=REL)
    assert expected["maintenance_margin"] == pytest.approx(0.8 * risk_matrix_margin, rel=1e-15)
    # initial = risk-matrix margin + open orders + MMP quotes (neither is in the example's book)
    details = expected["initial_margin_details"]
    parts = margin.risk_matrix_margin + details["open_orders_margin"] + details["mmp_margin"]
    assert round(parts, 9) == pytest.approx(expected["initial_margin"], abs=1e-12)
    assert margin.open_orders_margin == 0 and margin.initial_margin == margin.risk_matrix_margin


def test_documented_btc_figures_in_full():
    # the figures the documentation prints, written out
    result = response(BTC_DOC)
    details = result["margins"]["btc"]["initial_margin_details"]
    assert details["risk_matrix_margin"] == 0.06284313098
    assert result["margins"]["btc"]["maintenance_margin"] == 0.050274504784
    assert details["risk_matrix_margin_details"]["roll_shock"] == 0.00315725898
    # 1% of each position's coin size: the 10.9-day future's 7.5% × T is below the 1% floor
    roll = 0.01 * (0.314538364 + 0.001187534)
    assert roll == pytest.approx(0.00315725898, rel=1e-15)


def test_compute_reports_the_documented_margin_in_usd(write):
    portfolio, market = example_book(write, BTC_DOC, "btc")
    result = compute_margin(portfolio, market, "deribit")
    index = 65666.19
    assert result.portfolio_margin == pytest.approx(0.06284313098 * index, rel=REL)
    assert result.maintenance_margin == pytest.approx(0.050274504784 * index, rel=REL)
    assert result.by_underlying == pytest.approx({"BTC": 0.06284313098 * index}, rel=REL)
    components = result.components
    assert components["roll_shock"] == pytest.approx(0.00315725898 * index, rel=REL)
    assert components["worst_case"] == pytest.approx(0.05968587238095239 * index, rel=REL)
    assert components["risk_matrix"] == components["worst_case"] and components["extended"] == 0
    assert result.worst_scenario["name"] == "BTC -16%, vol same"
    # the same book in whole contracts (2,073 and −8 at pmargin's forwards) is within 0.5%
    whole = write("whole.csv", "instrument,quantity\nBTC-PERPETUAL,2073\nBTC-28JUN24,-8\n")
    rounded = compute_margin(load_portfolio(whole), market, "deribit")
    assert rounded.portfolio_margin / index == pytest.approx(0.06284313098, rel=5e-3)


@pytest.mark.parametrize("name, currency", CASES)
def test_bundled_parameters_are_the_responses(name, currency):
    parameters = response(name)["model_params"]
    bundled = load_model("deribit").parameters
    coin = currency.upper()
    pair = {k: v for k, v in bundled["currency_pairs"][coin].items() if k not in ("source", "date")}
    assert pair == parameters["currency_pair"][f"{currency}_usd"]
    own = parameters["currency"][currency]
    block = bundled["settlement_currencies"][coin]
    assert {k: own[k] for k in block if k not in ("source", "date")} == {
        k: v for k, v in block.items() if k not in ("source", "date")
    }
    general = parameters["general"]
    for key in ("mm_factor", "buckets_count", "vol_scenarios_count"):
        assert bundled["general"][key] == general[key]


def test_bundled_usdc_block_is_the_documented_usd_block():
    documented = response(BTC_DOC)["model_params"]["currency"]["usd"]
    block = load_model("deribit").parameters["settlement_currencies"]["USDC"]
    assert {k: v for k, v in block.items() if k not in ("source", "date")} == {
        k: documented[k] for k in block if k not in ("source", "date")
    }
