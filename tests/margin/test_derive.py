"""The derive model (PMRM_2) on hand-checkable books: its contingencies, static discounting,
inverse contracts, the settlement TWAP, the peg add-on and its YAML checks."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from pmargin import compute_margin, load_market, load_portfolio
from pmargin.book import bind
from pmargin.errors import InputError
from pmargin.io.model_file import load_model
from pmargin.pricing.black76 import black76_price

BUNDLED = Path(__file__).resolve().parents[2] / "pmargin" / "models" / "derive.yaml"
SPOT, PERP = 100000.0, 100400.0
MARKET = f"""\
as_of: 2024-11-25T08:00:00Z
rate: 0.05
underlyings:
  BTC:
    spot: {SPOT}
    vol: 0.5
    perpetual_price: {PERP}
    forwards: {{2024-12-27: 100500, 2025-03-28: 101500}}
  ETH: {{spot: 4000, vol: 0.6}}
"""
#: the bundled scenarios: index of (spot 0, vol none) and the largest regular moves
FLAT, UP18, DOWN18 = 11, 0, 22


@pytest.fixture
def market(write):
    return load_market(write("market.yaml", MARKET))


@pytest.fixture(scope="module")
def model():
    return load_model("derive")


def book(write, market, rows: str):
    return bind(load_portfolio(write("book.csv", "instrument,quantity\n" + rows)), market)


def variant_file(write, changes: dict) -> Path:
    """The bundled derive.yaml with ``section__key`` (or top-level key) values replaced."""
    document = yaml.safe_load(BUNDLED.read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        section, _, key = dotted.partition("__")
        if key:
            document[section][key] = value
        else:
            document[section] = value
    return write("variant.yaml", yaml.safe_dump(document))


def variant(write, **changes):
    return load_model(variant_file(write, changes))


@pytest.mark.parametrize("quantity", [2.0, -2.0])
def test_linear_perpetual(write, market, model, quantity):
    # worst move 18% of the perpetual's mark; contingencies of spot notional (1.5% + 0.5%)
    requirement = model.requirement(book(write, market, f"BTC_USDC-PERPETUAL,{quantity}\n"))
    n = abs(quantity)
    assert requirement.components["scenario_loss"] == pytest.approx(0.18 * PERP * n, rel=1e-12)
    assert requirement.initial == pytest.approx((0.18 * PERP + 0.02 * SPOT) * n, rel=1e-12)
    assert requirement.maintenance == pytest.approx(
        (0.8 * 0.18 * PERP + 0.015 * SPOT) * n, rel=1e-12
    )
    assert requirement.position_initial.sum() == pytest.approx(requirement.initial, rel=1e-12)


def test_inverse_perpetual_is_its_usd_face(write, market, model):
    # 1000 contracts of 10 USD: coin P&L 10,000·(1/P − 1/P') at S' = S·f is 10,000·(f − 1)·S/P
    # in USD (the engine's conversion); the contingency is on the USD face
    requirement = model.requirement(book(write, market, "BTC-PERPETUAL,-1000\n"))
    expected = 0.18 * 10000 * SPOT / PERP + 0.02 * 10000
    assert requirement.initial == pytest.approx(expected, rel=1e-12)


def test_futures_calendar_costs_its_contingencies(write, market, model):
    # both legs move with spot: the scenario loss is the small forward difference, and each
    # leg pays the perpetual contingency on its face
    rows = "BTC-27DEC24,10000\nBTC-28MAR25,-10000\n"
    requirement = model.requirement(book(write, market, rows))
    contingency = requirement.components["perpetual_contingency_initial"]
    assert contingency == pytest.approx(0.02 * 2 * 100000, rel=1e-12)
    assert requirement.initial > contingency
    assert requirement.initial < requirement.position_initial.sum()


def test_inverse_option_margined_as_its_linear_twin(write, market, model):
    inverse = model.requirement(book(write, market, "BTC-27DEC24-110000-C,-3\n"))
    linear = model.requirement(book(write, market, "BTC_USDC-27DEC24-110000-C,-3\n"))
    assert inverse.initial == pytest.approx(linear.initial, rel=1e-12)
    assert inverse.maintenance == pytest.approx(linear.maintenance, rel=1e-12)


def test_naked_short_contingency_per_strike(write, market, model):
    short_call = model.requirement(book(write, market, "BTC_USDC-27DEC24-110000-C,-2\n"))
    assert short_call.components["option_contingency_initial"] == pytest.approx(0.005 * 2 * SPOT)
    assert short_call.components["option_contingency_maintenance"] == pytest.approx(
        0.003 * 2 * SPOT
    )
    # PMRM_2 pairs a call and a put of one strike: a long call covers a short put there
    rows = "BTC_USDC-27DEC24-90000-C,2\nBTC_USDC-27DEC24-90000-P,-3\nBTC_USDC-27DEC24-80000-P,-1\n"
    paired = model.requirement(book(write, market, rows))
    assert paired.components["option_contingency_initial"] == pytest.approx(0.005 * 2 * SPOT)


def test_static_discount_of_a_lone_option(write, market, model):
    # at (spot 0, vol none) the only loss is the static discount: longs × 0.95·e^{−T(r + 0.08)},
    # shorts × min(e^{rT}, 1.04·e^{T(0.5r + 0.08)}); rate 5% quoted by the market
    for quantity in (1.0, -1.0):
        b = book(write, market, f"BTC_USDC-28MAR25-100000-C,{quantity}\n")
        table = b.instruments
        t = table.time[0]
        value = black76_price(101500.0, 100000.0, t, 0.5, math.exp(-0.05 * t), True)
        if quantity > 0:
            factor = 0.95 * math.exp(-t * (0.05 + 0.08))
        else:
            factor = min(math.exp(0.05 * t), 1.04 * math.exp(t * (0.5 * 0.05 + 0.08)))
        pnl = model.evaluate(b).scenario_pnl[0, FLAT]
        assert pnl == pytest.approx(quantity * value * (factor - 1.0), rel=1e-12)
        assert pnl < 0


def test_rate_is_floored_at_zero(write, model):
    rows = "instrument,quantity\nBTC_USDC-28MAR25-100000-C,-1\nBTC_USDC-27DEC24-90000-P,2\n"
    margins = []
    for rate in (-0.3, 0.0):
        text = MARKET.replace("rate: 0.05", f"rate: {rate}")
        b = bind(load_portfolio(write("b.csv", rows)), load_market(write("m.yaml", text)))
        margins.append(model.requirement(b).initial)
    assert margins[0] == pytest.approx(margins[1], rel=1e-12)


def test_settlement_twap_fixes_most_of_the_forward(write, model):
    # ten minutes before expiry, two thirds of the forward are fixed: spot +13.5% moves it 4.5%
    text = MARKET.replace("as_of: 2024-11-25T08:00:00Z", "as_of: 2024-12-27T07:50:00Z")
    market = load_market(write("m.yaml", text))
    b = book(write, market, "BTC_USDC-27DEC24-90000-C,1\n")
    t = b.instruments.time[0]
    values = [
        black76_price(100500.0 * f, 90000.0, t, 0.5, math.exp(-0.05 * t), True)
        for f in (1.0, 1.0 + 0.135 / 3)
    ]
    factor = 0.95 * math.exp(-t * (0.05 + 0.08))
    pnl = model.evaluate(b).scenario_pnl[0, 2]  # spot +13.5%, vol none
    assert pnl == pytest.approx(values[1] * factor - values[0], rel=1e-12)


def test_vol_shock_scales_with_expiry_and_floors(model):
    vol = model.settings.vol_shock
    days = np.array([0.5, 1.0, 30.0, 30.5, 365.0])
    up, down = vol.multipliers(days * 86400)
    m = np.array([30**0.3, 30**0.3, 1.0, (30 / 30.5) ** 0.13, (30 / 365) ** 0.13])
    np.testing.assert_allclose(up, 1 + 0.5 * m, rtol=1e-14)
    np.testing.assert_allclose(down, np.maximum(0.0, 1 - 0.275 * m), rtol=1e-14)


def test_peg_loss_raises_initial_factor_only(write, market, model):
    rows = "BTC_USDC-28MAR25-100000-C,-1\n"
    at_peg = model.requirement(book(write, market, rows))
    depegged = variant(write, stable_price=0.95).requirement(book(write, market, rows))
    loss = at_peg.components["loss_charge_initial"]
    assert depegged.components["loss_charge_initial"] == pytest.approx(
        (1 + 0.03 * 2) * loss, rel=1e-12
    )
    assert depegged.maintenance == pytest.approx(at_peg.maintenance, rel=1e-12)


def test_basis_contingency_can_bind(write, market):
    model = variant(write, basis_contingency__add_factor=20.0)
    requirement = model.requirement(book(write, market, "BTC_USDC-28MAR25-100000-C,1\n"))
    assert requirement.worst_scenario["name"] == "basis contingency"
    assert requirement.components["basis_contingency"] > requirement.components["scenario_loss"]
    assert requirement.components["loss_charge_initial"] == pytest.approx(
        requirement.components["basis_contingency"]
    )


def test_components_add_up_and_coin_collateral_is_shocked(write, market, model):
    portfolio = write(
        "p.yaml",
        """\
        collateral: {USD: 50000, BTC: 2}
        positions:
          - {instrument: BTC_USDC-28MAR25-110000-C, quantity: -2}
          - {instrument: BTC_USDC-PERPETUAL, quantity: -0.5}
          - {instrument: ETH_USDC-27DEC24-4000-P, quantity: -10}
        """,
    )
    result = compute_margin(load_portfolio(portfolio), market, model)
    c = result.components
    parts = ("perpetual_contingency", "option_contingency", "collateral_haircut")
    assert result.portfolio_margin == pytest.approx(
        c["loss_charge_initial"] + sum(c[f"{p}_initial"] for p in parts), rel=1e-12
    )
    assert result.maintenance_margin == pytest.approx(
        c["loss_charge_maintenance"] + sum(c[f"{p}_maintenance"] for p in parts), rel=1e-12
    )
    assert c["collateral_haircut_initial"] == pytest.approx(0.02 * 2 * SPOT)
    assert set(result.by_underlying) == {"BTC", "ETH"}
    assert sum(result.by_underlying.values()) == pytest.approx(result.portfolio_margin)
    # the BTC balance covers the short call: together they need less than apart
    assert result.portfolio_margin < result.isolated_margin


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"margin__initial_factor": 0.4}, "margin.initial_factor: must be ≥ 0.5"),
        ({"contingencies__perp_initial": 4}, "must be ≤ 3 (PMRMLib_2's bound)"),
        ({"vol_shock": {"range_up": 0.5}}, "vol_shock.range_down: missing"),
        ({"skew_shock__width": 1}, "unknown key `width`"),
        ({"scenarios": [{"vol": "linear"}, {"vol": "linear"}]}, "at most one `linear`"),
        ({"scenarios": [{"spot": 0.1, "vol": "abs"}]}, "a skew scenario (linear, abs) moves"),
        ({"scenarios": [{"spot": 0.1, "vol": "sideways"}]}, "scenarios[0].vol: expected one"),
        ({"base_collateral__maintenance_haircut": 0.999}, "initial_haircut must be ≤ 1"),
        ({"stable_price": 0}, "stable_price: must be > 0"),
    ],
)
def test_bad_parameters_name_the_key(write, changes, message):
    with pytest.raises(InputError) as info:
        load_model(variant_file(write, changes))
    assert message in str(info.value)
