"""The deribit model on hand-checkable books: Deribit's published rules, by hand.

Market (tests/conftest.py): as of 2024-11-25 08:00 UTC, BTC 100,000 (vol 50%), ETH 4,000 (vol
60%), rate 0, so every forward equals spot. Bundled parameters: BTC price range 16%, ETH 18%,
others 25%; roll shock floor 1% (BTC, USDC) and 0.5% (ETH) of the net delta per expiry.
Deribit's own documented example is in test_deribit_examples.py.
"""

import numpy as np
import pytest
import yaml
from conftest import SAMPLES
from conftest import margin_csv as margin
from hypothesis import given, settings
from hypothesis import strategies as st

from pmargin import compute_margin, load_market, load_portfolio
from pmargin.book import bind
from pmargin.errors import InputError
from pmargin.io.model_file import load_model, model_file

SPOT, ETH_SPOT = 100000.0, 4000.0
DEC, MAR = 32 / 365, 123 / 365  # years from as_of to 2024-12-27 and 2025-03-28, 08:00 UTC
BTC_GRID = np.linspace(-0.16, 0.16, 9)
EXTENDED = np.array([-0.66, -0.33, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0])


def simulate(write, market_path, rows: str):
    book = bind(load_portfolio(write("book.csv", rows)), load_market(market_path))
    return load_model("deribit").simulate(book)


@pytest.mark.parametrize("quantity", [1, -1, 2.5])
def test_linear_perpetual_costs_its_price_range_plus_roll_shock(write, market_path, quantity):
    # worst grid move 16% (the extended moves count the same 16% and fall within the dampener),
    # plus the roll shock: 1% of the net delta of the perpetual "expiry"
    result = margin(write, market_path, f"instrument,quantity\nBTC_USDC-PERPETUAL,{quantity}\n")
    assert result.portfolio_margin == pytest.approx((0.16 + 0.01) * SPOT * abs(quantity))
    assert result.maintenance_margin == pytest.approx(0.8 * result.portfolio_margin)
    assert result.isolated_margin == pytest.approx(result.portfolio_margin)
    assert result.components["roll_shock"] == pytest.approx(0.01 * SPOT * abs(quantity))
    assert result.components["risk_matrix"] == pytest.approx(0.16 * SPOT * abs(quantity))


def test_linear_eth_perpetual_uses_eths_price_range(write, market_path):
    eth = margin(write, market_path, "instrument,quantity\nETH_USDC-PERPETUAL,25\n")
    btc = margin(write, market_path, "instrument,quantity\nBTC_USDC-PERPETUAL,1\n")
    notional = 25 * ETH_SPOT  # = BTC's 100,000
    assert eth.portfolio_margin == pytest.approx((0.18 + 0.01) * notional)
    assert btc.portfolio_margin == pytest.approx((0.16 + 0.01) * notional)
    assert eth.worst_scenario["name"] == "USDC-settled: ETH -18%, vol same"


def test_hedged_perpetuals_net_to_zero(write, market_path):
    rows = "instrument,quantity\nBTC_USDC-PERPETUAL,1\nBTC_USDC-PERPETUAL,-1\n"
    result = margin(write, market_path, rows)
    assert result.portfolio_margin == pytest.approx(0.0, abs=1e-9)
    assert result.isolated_margin == pytest.approx(2 * 0.17 * SPOT)
    assert result.offset == pytest.approx(result.isolated_margin)


def test_linear_underlyings_share_the_usdc_scenarios(write, market_path):
    # one settlement currency, one set of scenarios: bucket 1 moves BTC −16% and ETH −18%;
    # gains do not offset (USDC pnl_offset 0), so the worst is the larger loss, not the sum
    rows = "instrument,quantity\nBTC_USDC-PERPETUAL,1\nETH_USDC-PERPETUAL,-25\n"
    result = margin(write, market_path, rows)
    roll = 0.01 * (SPOT + 25 * ETH_SPOT)
    expected = max(0.16 * SPOT, 0.18 * 25 * ETH_SPOT) + roll
    assert result.by_underlying == pytest.approx({"USDC": expected})
    assert result.portfolio_margin == pytest.approx(expected)


def test_settlement_currencies_are_margined_separately_and_summed(write, market_path):
    # 10,000 BTC-PERPETUAL of 10 USD = 1 BTC long; 100,000 ETH-PERPETUAL of 1 USD = 25 ETH short.
    # In coin an inverse future of n coins makes n·m/(1 + m): the long loses most at −16%, the
    # short at +18%; each currency's margin is in its coin, converted at its index
    rows = "instrument,quantity\nBTC-PERPETUAL,10000\nETH-PERPETUAL,-100000\n"
    result = margin(write, market_path, rows)
    btc = (0.16 / 0.84 + 0.01) * SPOT
    eth = 25 * (0.18 / 1.18 + 0.005) * ETH_SPOT
    assert result.by_underlying == pytest.approx({"BTC": btc, "ETH": eth})
    assert result.portfolio_margin == pytest.approx(btc + eth)


@pytest.mark.parametrize(
    "book",
    [
        "instrument,quantity\nBTC_USDC,1\nBTC-PERPETUAL,-10000\n",
        "collateral: {BTC: 1}\npositions:\n  - {instrument: BTC-PERPETUAL, quantity: -10000}\n",
    ],
    ids=["spot", "collateral"],
)
def test_spot_against_an_inverse_perpetual_costs_the_perpetuals_coin_risk(write, market_path, book):
    # the BTC held is the BTC account's equity: no risk in BTC, so no hedge in BTC either. The
    # short perpetual of 1 BTC loses 0.16/1.16 BTC at +16%, plus the 1% roll shock
    path = write("book.csv" if book.startswith("instrument") else "book.yaml", book)
    result = compute_margin(load_portfolio(path), load_market(market_path), "deribit")
    assert result.portfolio_margin == pytest.approx((0.16 / 1.16 + 0.01) * SPOT)


def test_futures_calendar_costs_its_roll_shock(write, market_path):
    # at rate 0 both forwards are 100,000: 1 BTC long Dec against 1 BTC short Mar has no price
    # risk, but deltas net within an expiry only: 1 × max(1%, 7.5% × T) per leg
    rows = "instrument,quantity\nBTC-27DEC24,10000\nBTC-28MAR25,-10000\n"
    result = margin(write, market_path, rows)
    roll = (max(0.01, 0.075 * DEC) + max(0.01, 0.075 * MAR)) * SPOT
    assert result.components["worst_case"] == pytest.approx(0.0, abs=1e-6)
    assert result.portfolio_margin == pytest.approx(roll)
    assert result.portfolio_margin > 3000


def test_coin_balance_is_not_a_hedge_of_usdc_options_but_a_perpetual_is(write, market_path):
    call = "BTC_USDC-28MAR25-110000-C,-1\n"
    alone = margin(write, market_path, "instrument,quantity\n" + call)
    with_spot = margin(write, market_path, "instrument,quantity\nBTC_USDC,1\n" + call)
    covered = margin(write, market_path, "instrument,quantity\nBTC_USDC-PERPETUAL,1\n" + call)
    assert with_spot.portfolio_margin == pytest.approx(alone.portfolio_margin)
    assert 0 < covered.portfolio_margin < covered.isolated_margin


def test_a_short_coin_balance_is_margined_as_a_usdc_short(write, market_path):
    result = margin(write, market_path, "instrument,quantity\nBTC_USDC,-1\n")
    assert result.portfolio_margin == pytest.approx(0.16 * SPOT)  # spot rolls nothing
    path = write(
        "book.yaml", "collateral: {BTC: 3}\npositions:\n  - {instrument: BTC_USDC, quantity: -1}\n"
    )
    net_long = compute_margin(load_portfolio(path), load_market(market_path), "deribit")
    assert net_long.portfolio_margin == 0


def test_long_option_worst_case_never_exceeds_its_premium(write, market_path):
    # a long option can lose at most its value (the roll shock is a charge on its delta on top)
    result = margin(write, market_path, "instrument,quantity\nBTC_USDC-28MAR25-110000-C,1\n")
    premium = result.positions["value"].iloc[0]
    assert 0 < result.components["worst_case"] <= premium + 1e-9
    assert result.components["roll_shock"] > 0


def _black(ql, right: str, strike: float, forward: float, vol: float, time: float) -> float:
    kind = ql.Option.Call if right == "C" else ql.Option.Put
    return ql.blackFormula(kind, strike, forward, vol * time**0.5, 1.0)


@pytest.mark.parametrize(
    ("symbol", "vol", "days", "power"),
    [
        ("BTC-28MAR25-110000-C", 0.5, 123, 0.13),  # long-term power; vol up 0.5·(1 + 0.5·s)
        ("BTC-06DEC24-90000-P", 0.2, 11, 0.30),  # short-term power; vol up floored at 50%
    ],
)
def test_inverse_option_vector_is_black76_on_the_shocked_forward_in_coin(
    write, symbol, vol, days, power
):
    # forwards above spot, so that a coin value over the forward (Deribit: USD price = coin ×
    # the option's underlying) differs from one over spot
    ql = pytest.importorskip("QuantLib")
    forward = 103000.0
    market = write(
        "m.yaml",
        "as_of: 2024-11-25T08:00:00Z\nrate: 0\nunderlyings:\n"
        f"  BTC: {{spot: 100000, vol: {vol}, "
        f"forwards: {{2025-03-28: {forward}, 2024-12-06: {forward}}}}}\n",
    )
    book = bind(
        load_portfolio(write("b.csv", f"instrument,quantity\n{symbol},1\n")), load_market(market)
    )
    vector = load_model("deribit").initial_risk_vectors(book)[symbol]
    strike, right, time = float(symbol.split("-")[2]), symbol[-1], days / 365
    scale = (30 / days) ** power
    vols = [max(vol * (1 + 0.5 * scale), 0.5), vol, vol * (1 - 0.25 * scale)]
    base = _black(ql, right, strike, forward, vol, time) / forward  # coin value = USD / forward

    def coin_pnl(move, shocked_vol):
        shocked = forward * (1 + move)
        return _black(ql, right, strike, shocked, shocked_vol, time) / shocked - base

    grid = [coin_pnl(m, v) for m in BTC_GRID for v in vols]
    fraction = 0.16 / np.abs(EXTENDED) * (1 + EXTENDED) / (1 + np.sign(EXTENDED) * 0.16)
    extended = [coin_pnl(m, vols[0]) * f for m, f in zip(EXTENDED, fraction)]
    np.testing.assert_allclose(vector, grid + extended, rtol=1e-9, atol=1e-13)


def test_inverse_put_call_parity_in_coin(write, market_path):
    # in coin, call − put = (F − K)/F whatever the vol: its P&L is K/F − K/F' in every scenario
    rows = "instrument,quantity\nBTC-28MAR25-110000-C,1\nBTC-28MAR25-110000-P,1\n"
    book = bind(load_portfolio(write("b.csv", rows)), load_market(market_path))
    vectors = load_model("deribit").initial_risk_vectors(book)
    difference = vectors["BTC-28MAR25-110000-C"] - vectors["BTC-28MAR25-110000-P"]
    k = 110000 / SPOT
    grid = np.repeat(k - k / (1 + BTC_GRID), 3)
    np.testing.assert_allclose(difference[:27], grid, rtol=1e-9, atol=1e-12)


def test_extended_losses_count_a_fraction_less_the_dampener(write, market_path):
    ql = pytest.importorskip("QuantLib")
    # 1,000 short calls struck at 300,000 (USDC): far from the ±16% grid, large in the tail
    quantity, strike = 1000, 300000.0
    rows = f"instrument,quantity\nBTC_USDC-27DEC24-300000-C,-{quantity}\n"
    result = simulate(write, market_path, rows)["USDC"]
    vol_up = 0.5 * (1 + 0.5 * (30 / 32) ** 0.13)
    base = _black(ql, "C", strike, SPOT, 0.5, DEC)
    losses = np.array(
        [
            -quantity * (_black(ql, "C", strike, SPOT * (1 + m), vol_up, DEC) - base)
            for m in EXTENDED
        ]
    )
    counted = losses * 0.16 / np.abs(EXTENDED)
    dampener = (np.maximum(np.abs(EXTENDED) / 0.16, 1) - 1) * 25000
    expected = np.sign(counted) * np.maximum(np.abs(counted) - dampener, 0)
    expected = np.minimum(expected, 0)  # USDC gains count at pnl_offset 0
    np.testing.assert_allclose(result.aggregated["btc_usdc"][27:], expected, rtol=1e-9)
    assert result.extended == pytest.approx(-expected.min(), rel=1e-9)
    assert result.extended > result.risk_matrix  # the tail, not the grid, sets the margin
    assert result.worst_case_bucket["source"] == "extended"
    assert result.worst_case_bucket["side"] == "right"


@pytest.mark.parametrize(("coins", "shock"), [(200, 0.0), (300, 300 * 0.00005 * 100)])
def test_delta_shock_above_the_threshold(write, market_path, coins, shock):
    # threshold 20,000,000 USD = 200 BTC; above it D · min(10%, 0.005% × (D − 200)) BTC
    result = margin(write, market_path, f"instrument,quantity\nBTC_USDC-PERPETUAL,{coins}\n")
    assert result.components["delta_shock"] == pytest.approx(shock * SPOT)
    assert result.portfolio_margin == pytest.approx(coins * 0.17 * SPOT + shock * SPOT)


def test_open_orders_count_in_initial_margin_only(write, market_path):
    path = write(
        "book.yaml",
        """\
        collateral: {USD: 100000}
        positions:
          - {instrument: BTC_USDC-PERPETUAL, quantity: 1}
        orders:
          - {instrument: BTC_USDC-PERPETUAL, quantity: 2, price: 99000}
          - {instrument: BTC_USDC-PERPETUAL, quantity: -0.5, price: 101000}
        """,
    )
    result = compute_margin(load_portfolio(path), load_market(market_path))
    # the worse of every buy filled (3 BTC) and every sell filled (0.5 BTC): buys
    assert result.portfolio_margin == pytest.approx(3 * 0.17 * SPOT)
    assert result.components["open_orders"] == pytest.approx(2 * 0.17 * SPOT)
    assert result.maintenance_margin == pytest.approx(0.8 * 0.17 * SPOT)  # positions only
    assert result.equity == pytest.approx(100000.0)  # unfilled orders carry no value
    hedging = write(
        "hedge.yaml",
        """\
        positions:
          - {instrument: BTC_USDC-PERPETUAL, quantity: 1}
        orders:
          - {instrument: BTC_USDC-PERPETUAL, quantity: -1, price: 101000}
        """,
    )
    # a reducing order does not lower the margin
    result = compute_margin(load_portfolio(hedging), load_market(market_path))
    assert result.portfolio_margin == pytest.approx(0.17 * SPOT)
    assert result.components["open_orders"] == 0


def test_status_from_equity(write, market_path):
    def status(cash):
        path = write(
            "a.yaml",
            f"collateral: {{USD: {cash}}}\npositions:\n"
            "  - {instrument: BTC_USDC-PERPETUAL, quantity: 1}\n",
        )
        return compute_margin(load_portfolio(path), load_market(market_path)).status

    assert status(20000) == "ok"
    assert status(14000) == "margin_call"  # below IM 17,000, above MM 13,600
    assert status(13000) == "liquidation"


def test_scenarios_follow_each_pairs_parameters():
    model = load_model("deribit")
    spot, vol = model.scenario_moves(("BTC", "ETH", "SOL"))
    assert spot.shape == vol.shape == (3, 27 + 8)
    np.testing.assert_allclose(spot[0, :27:3], BTC_GRID)
    np.testing.assert_allclose(spot[1, :27:3], np.linspace(-0.18, 0.18, 9))
    np.testing.assert_allclose(spot[2, :27:3], np.linspace(-0.25, 0.25, 9))  # `default`
    assert vol[0, :3].tolist() == [0.5, 0.0, -0.25]
    assert vol[1, :3].tolist() == [0.4, 0.0, -0.25]
    np.testing.assert_allclose(spot[:, 27:], np.tile(EXTENDED, (3, 1)))
    assert vol[1, 27:].tolist() == [0.4] * 8  # extended moves with vol up
    assert model.settings.pair("BTC").vol_term().floor == 0.5


def test_dampener_is_an_allowance_per_position(write, market_path):
    # each of two rows alone loses less in the tail than its dampener; together more: so the
    # rows' isolated margins add to less than the book's (Deribit's fixed allowance)
    rows = "instrument,quantity\n" + "BTC_USDC-27DEC24-300000-C,-60\n" * 2
    result = margin(write, market_path, rows)
    assert result.components["extended"] > result.components["risk_matrix"]
    assert result.isolated_margin < result.portfolio_margin


@pytest.fixture(scope="module")
def sample():
    return load_portfolio(SAMPLES / "multi_asset.yaml"), load_market(SAMPLES / "market.yaml")


@settings(max_examples=15, deadline=None)
@given(k=st.floats(0.05, 7.0))
def test_margin_is_homogeneous_inside_the_thresholds(sample, k):
    # the multi-asset sample stays inside every size threshold up to 7 ×
    portfolio, market = sample
    model = load_model("deribit")
    assert all(
        m.size_independent for m in model.simulate(bind(portfolio.scaled(k), market)).values()
    )
    base = compute_margin(portfolio, market)
    scaled = compute_margin(portfolio.scaled(k), market)
    assert scaled.portfolio_margin == pytest.approx(k * base.portfolio_margin, rel=1e-9, abs=1e-3)
    assert scaled.isolated_margin == pytest.approx(k * base.isolated_margin, rel=1e-9, abs=1e-3)
    assert scaled.equity == pytest.approx(k * base.equity, rel=1e-9)


@pytest.mark.parametrize(
    "path", ["hedged_btc_options.csv", "multi_asset.yaml", "naked_short_options.csv"]
)
def test_isolated_is_at_least_portfolio_margin(path):
    result = compute_margin(load_portfolio(SAMPLES / path), load_market(SAMPLES / "market.yaml"))
    assert result.portfolio_margin >= 0
    assert result.isolated_margin >= result.portfolio_margin - 1e-6
    assert np.isfinite(result.positions[["value", "delta", "gamma", "vega", "theta"]]).all().all()


def test_hedged_sample_saves_part_of_its_isolated_margin():
    # its 10 BTC are the BTC account's equity (no margin, no hedge in BTC); the options and
    # the perpetual still offset within BTC
    result = compute_margin(
        load_portfolio(SAMPLES / "hedged_btc_options.csv"),
        load_market(SAMPLES / "market.yaml"),
    )
    assert result.portfolio_margin < 0.7 * result.isolated_margin


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (lambda d: d["currency_pairs"].pop("default"), "currency_pairs", "missing `default`"),
        (
            lambda d: d["currency_pairs"]["BTC"].update(price_range=1.2),
            "currency_pairs.BTC.price_range",
            "must be below 1",
        ),
        (
            lambda d: d["settlement_currencies"]["ETH"].update(pnl_ofset=0.5),
            "settlement_currencies.ETH.pnl_ofset",
            "Did you mean `pnl_offset`?",
        ),
        (
            lambda d: d["general"].update(vol_scenarios_count=5),
            "general.vol_scenarios_count",
            "must be 3",
        ),
        (
            lambda d: d["settlement_currencies"]["USDC"].pop("extended_dampener"),
            "settlement_currencies.USDC.extended_dampener",
            "missing",
        ),
    ],
)
def test_a_bad_model_file_names_the_key(write, change, where, message):
    document = yaml.safe_load(model_file("deribit").read_text(encoding="utf-8"))
    change(document)
    path = write("bad.yaml", yaml.safe_dump(document))
    with pytest.raises(InputError) as error:
        load_model(path)
    assert f"{path}: {where}" in str(error.value) and message in str(error.value)


def test_a_currency_only_open_orders_use(write, market_path):
    path = write(
        "book.yaml",
        """\
        positions:
          - {instrument: BTC-PERPETUAL, quantity: 10000}
        orders:
          - {instrument: ETH_USDC-PERPETUAL, quantity: -25, price: 4000}
        """,
    )
    margins = load_model("deribit").simulate(bind(load_portfolio(path), load_market(market_path)))
    usdc = margins["USDC"]
    assert usdc.risk_matrix_margin == 0 and usdc.maintenance_margin == 0
    assert usdc.open_orders_margin == pytest.approx((0.18 + 0.01) * 25 * ETH_SPOT)
    assert margins["BTC"].open_orders_margin == 0


def test_accounts_holding_pairs_in_any_order(write, market_path):
    # account a's linear BTC comes first in the instrument table, so account b's pairs (inverse
    # BTC, then linear ETH) sort unlike its currencies (USDC, then BTC)
    rows = (
        "instrument,quantity,account\n"
        "BTC_USDC-PERPETUAL,1,a\nBTC-PERPETUAL,10000,b\nETH_USDC-PERPETUAL,-25,b\n"
    )
    b = margin(write, market_path, rows).account("b")
    btc = (0.16 / 0.84 + 0.01) * SPOT
    eth = (0.18 + 0.01) * 25 * ETH_SPOT
    assert b.by_underlying == pytest.approx({"BTC": btc, "USDC": eth})
    assert b.portfolio_margin == pytest.approx(btc + eth)
    assert b.positions["isolated_margin"].tolist() == pytest.approx([btc, eth])


def test_isolated_margin_on_the_grid_extremes_equals_the_whole_grid(write, market_path):
    """Isolated margin cuts each instrument's grid to its lowest and highest P&L; each position
    alone must cost exactly what the whole 27-scenario grid charges it (every kind, both signs,
    sizes past the delta-shock threshold and the offset cap)."""
    from pmargin.margin.deribit_risk import holder_margins

    symbols = [
        "BTC-PERPETUAL",
        "BTC_USDC-PERPETUAL",
        "ETH-27DEC24",
        "BTC-27DEC24-100000-C",
        "BTC-27DEC24-80000-P",
        "ETH_USDC-28MAR25-5000-C",
        "ETH-28MAR25-3000-P",
        "BTC_USDC-27DEC24-120000-P",
    ]
    sizes = [1e-3, 0.7, 25.0, 4000.0, 2e6]
    rows = "instrument,quantity\n" + "".join(
        f"{s},{sign * q}\n" for s in symbols for q in sizes for sign in (1, -1)
    )
    rows += "BTC_USDC,-3\nETH_USDC,2\n"  # coins: short is margined, long is equity
    model = load_model("deribit")
    book = bind(load_portfolio(write("book.csv", rows)), load_market(market_path))
    arrays = model.scenario_pnl(book.instruments, book.market)
    holder = np.arange(len(book.quantity))
    whole = holder_margins(arrays, model.settings, holder, book.instrument, book.quantity)
    expected = np.bincount(whole.holder, whole.risk_matrix_margin * whole.index_price, len(holder))
    assert (whole.delta_shock > 0).any()  # the sizes reach the nonlinear parts
    assert not whole.size_independent.all()
    isolated = model.isolated_margin(book, arrays)
    assert np.array_equal(isolated, expected)
    assert isolated[-1] == 0 and isolated[-2] > 0


@pytest.mark.parametrize("price_range", [0.16, 0.7])
@pytest.mark.parametrize("offsets", [(0.0, 0.6, 0.3, 0.0), (0.2, 0.6, 0.3, 1.0)])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_dampening_and_offset_equal_the_rule_as_written(price_range, offsets, seed):
    """The extended entries are damped towards 0 by the dampener d (copysign(max(|x| - d, 0), x)),
    losses count in full and gains, where the currency offsets them, at ``pnl_offset`` up to the
    cap. The engine forms this without copying the vectors (a loss as min(x + d, 0)); here the
    rule is applied as Deribit writes it, entry by entry, on random vectors of four pairs, some
    or all of which offset gains."""
    from types import SimpleNamespace

    from pmargin.margin.deribit_risk import _aggregate

    rng = np.random.default_rng(seed)
    grid, moves = 27, np.array([-0.66, -0.33, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0])
    linear = np.array([False, False, True, True])
    spot = np.array([100000.0, 4000.0, 100000.0, 4000.0])
    parameters = {
        "price_range": np.full(4, price_range),
        "extended_dampener": np.array([25000.0, 25000.0, 0.0, 40000.0]),
        "pnl_offset": np.array(offsets),
        "max_offsetable_pnl": np.array([1e4, 2e4, 1e3, 5e3]),
    }
    arrays = SimpleNamespace(group_parameters=parameters, group_linear=linear, group_pair_spot=spot)
    settings = SimpleNamespace(extended_moves=tuple(moves))
    pair = rng.integers(0, 4, 200)
    scale = np.where(linear, 1e4, 1.0)[pair]  # USD for linear pairs, coins for inverse ones
    pre = rng.normal(size=(grid + len(moves), len(pair))) * scale
    pre[:, :5] = 0.0  # a flat key too

    aggregated, capped = _aggregate(arrays, settings, pre.copy(), pair, grid)

    expected = np.empty_like(pre)
    expected_capped = np.zeros(len(pair), bool)
    for k, g in enumerate(pair):
        steps = np.maximum(np.abs(moves) / price_range, 1.0) - 1.0
        usd = steps * parameters["extended_dampener"][g]
        edge = spot[g] * (1.0 + np.sign(moves) * price_range)
        dampener = usd if linear[g] else usd / edge
        x = pre[:, k].copy()
        x[grid:] = np.copysign(np.maximum(np.abs(x[grid:]) - dampener, 0.0), x[grid:])
        cap = parameters["max_offsetable_pnl"][g] / (1.0 if linear[g] else spot[g])
        gains = np.maximum(x, 0.0) * parameters["pnl_offset"][g]
        expected_capped[k] = parameters["pnl_offset"][g] > 0 and (gains > cap).any()
        offset = np.minimum(gains, cap) if parameters["pnl_offset"][g] > 0 else 0.0
        expected[:, k] = np.minimum(x, 0.0) + offset
    assert np.allclose(aggregated, expected, rtol=1e-15, atol=0)
    assert np.array_equal(capped, expected_capped)
    assert expected_capped.any() and not expected_capped.all()
