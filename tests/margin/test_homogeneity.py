"""Invariants every bundled model keeps: k × book → k × margin, never negative, and isolated ≥
portfolio margin.

Each model guarantees the last: deribit, span and tims take a largest loss (sub-additive) and
their floors (short option minimum, per-contract minimum) are sums over contracts; span's credit
only lowers the portfolio; var's ES (mean of the k worst of a fixed set of scenarios) is
sub-additive; standard nets only contracts of one instrument. derive (PMRM_2) takes the worst of
scenario P&Ls that are super-additive in the positions: each expiry's value is scaled by a
concave function (longs × ≤ 1, shorts × ≥ 1 with the bundled static discounts; with a long
factor above the short one, as in Derive's mainnet deploy script, it would not be), skew
scenarios count −|P&L|, and the basis contingency is a min of linear terms; its contingencies
are sums of |·| per instrument or strike.

Two bundled models follow exchange rules that depend on size, as Deribit publishes them:
deribit's extended dampener (a fixed USD allowance), delta-shock threshold, offset cap and
rounding of the worst case, and standard's futures rate that grows with the position. The exact
invariants are asserted on the same models with those rules switched off
(:func:`proportional_document`); the bundled models are held to what survives them: exact
invariants for books inside the thresholds, and a margin that never grows slower than size.
"""

from dataclasses import replace

import numpy as np
import pytest
import yaml
from conftest import SAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st

from pmargin import compute_margin, load_market, load_portfolio
from pmargin.book import bind
from pmargin.io.model_file import bundled_models, load_model, model_file

MODELS = bundled_models()
#: instruments of the random books, with the contracts per unit of quantity (inverse futures and
#: perpetuals are USD 10 a contract, so they get a comparable size)
INSTRUMENTS = {
    "BTC_USDC": 1,
    "BTC_USDC-PERPETUAL": 1,
    "BTC-PERPETUAL": 5000,
    "BTC-27DEC24": 5000,
    "BTC-28MAR25-100000-C": 1,
    "BTC-27DEC24-80000-P": 1,
    "BTC_USDC-27DEC24-90000-P": 1,
    "BTC_USDC-28MAR25-130000-C": 1,
    "ETH_USDC-PERPETUAL": 20,
    "ETH_USDC-27DEC24-4000-C": 20,
    "ETH-27DEC24-2500-P": 20,
    "SOL_USDC-PERPETUAL": 300,
    "SOL_USDC-27DEC24-200-P": 300,
}
SIZE = np.array(list(INSTRUMENTS.values()), dtype=float)


@pytest.fixture(scope="module")
def market():
    return load_market(SAMPLES / "market.yaml")


@pytest.fixture(scope="module")
def all_instruments(tmp_path_factory, market):
    """A book with one row per instrument; tests set the quantities."""
    path = tmp_path_factory.mktemp("book") / "all.csv"
    path.write_text("instrument,quantity\n" + "".join(f"{s},1\n" for s in INSTRUMENTS))
    return bind(load_portfolio(path), market)


#: the models whose bundled parameters include size-dependent rules
SIZE_DEPENDENT = ("deribit", "standard")


def proportional_document(name: str) -> dict:
    """The bundled model's YAML with its size-dependent rules switched off."""
    document = yaml.safe_load(model_file(name).read_text(encoding="utf-8"))
    if document["method"] == "deribit":
        document["general"]["worst_case_decimals"] = None
        for block in document["settlement_currencies"].values():
            block["extended_dampener"] = 0
            block["max_offsetable_pnl"] = 1e15  # pmargin reads no larger number
        for block in document["currency_pairs"].values():
            block["delta_total_liq_shock_threshold"] = 1e15
    if document["method"] == "standard":
        for block in document["futures"].values():
            block["size_increment"] = 0
    return document


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Every bundled model, the size-dependent ones as :func:`proportional_document`."""
    folder = tmp_path_factory.mktemp("models")
    loaded = {}
    for name in MODELS:
        if name in SIZE_DEPENDENT:
            path = folder / f"{name}.yaml"
            path.write_text(yaml.safe_dump(proportional_document(name)), encoding="utf-8")
            loaded[name] = load_model(path)
        else:
            loaded[name] = load_model(name)
    return loaded


def test_every_method_is_bundled():
    assert {"deribit", "derive", "span", "tims", "var", "standard"} <= set(MODELS)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize(
    "sample", ["hedged_btc_options.csv", "multi_asset.yaml", "naked_short_options.csv"]
)
@pytest.mark.parametrize("k", [0.2, 7.0])
def test_samples_scale_linearly(market, models, model, sample, k):
    portfolio = load_portfolio(SAMPLES / sample)
    base = compute_margin(portfolio, market, models[model])
    scaled = compute_margin(portfolio.scaled(k), market, models[model])
    assert base.portfolio_margin > 0
    for field in ("portfolio_margin", "maintenance_margin", "isolated_margin"):
        assert getattr(scaled, field) == pytest.approx(k * getattr(base, field), rel=1e-9), field
    np.testing.assert_allclose(
        scaled.positions["isolated_margin"], k * base.positions["isolated_margin"], rtol=1e-9
    )
    for name, value in base.components.items():
        assert scaled.components[name] == pytest.approx(k * value, rel=1e-9, abs=1e-6), name
    assert base.maintenance_margin <= base.portfolio_margin + 1e-9
    assert base.isolated_margin >= base.portfolio_margin - 1e-6
    assert (base.positions["isolated_margin"] >= 0).all()


@pytest.mark.parametrize("model", MODELS)
@settings(max_examples=12, deadline=None)
@given(
    quantities=st.lists(
        st.one_of(st.just(0.0), st.floats(-20, 20, allow_nan=False)),
        min_size=len(INSTRUMENTS),
        max_size=len(INSTRUMENTS),
    ),
    k=st.floats(0.01, 100.0),
)
def test_random_books(all_instruments, models, model, quantities, k):
    q = np.asarray(quantities) * SIZE
    book = replace(all_instruments, quantity=q)
    requirement = models[model].requirement(book)
    scaled = models[model].requirement(replace(all_instruments, quantity=k * q))
    assert requirement.initial >= 0 and requirement.maintenance >= 0
    assert np.isfinite(requirement.initial) and np.all(requirement.position_initial >= 0)
    assert requirement.position_initial.sum() >= requirement.initial - 1e-6 * (
        1 + requirement.initial
    )
    assert scaled.initial == pytest.approx(k * requirement.initial, rel=1e-9, abs=1e-9)
    assert scaled.maintenance == pytest.approx(k * requirement.maintenance, rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(
        scaled.position_initial, k * requirement.position_initial, rtol=1e-9, atol=1e-9
    )


@pytest.mark.parametrize("model", MODELS)
def test_empty_book_needs_no_margin(all_instruments, models, model):
    requirement = models[model].requirement(
        replace(all_instruments, quantity=np.zeros(len(INSTRUMENTS)))
    )
    assert requirement.initial == 0 and requirement.maintenance == 0


@pytest.mark.parametrize("model", SIZE_DEPENDENT)
@pytest.mark.parametrize(
    "sample", ["hedged_btc_options.csv", "multi_asset.yaml", "naked_short_options.csv"]
)
@pytest.mark.parametrize("k", [0.2, 7.0])
def test_size_dependent_models_never_grow_slower_than_size(market, model, sample, k):
    # the size rules only ever add (a fixed allowance used up, a rate that grows with size), so
    # k × book needs at least k × the margin for k > 1, and at most for k < 1
    portfolio = load_portfolio(SAMPLES / sample)
    base = compute_margin(portfolio, market, model)
    scaled = compute_margin(portfolio.scaled(k), market, model)
    for field in ("portfolio_margin", "maintenance_margin"):
        growth = getattr(scaled, field) - k * getattr(base, field)
        assert growth * np.sign(k - 1) >= -1e-3, field  # rounding: 1e-9 BTC ≈ 1e-4 USD


@pytest.mark.parametrize("sample", ["hedged_btc_options.csv", "multi_asset.yaml"])
@pytest.mark.parametrize("k", [0.2, 7.0])
def test_bundled_deribit_is_homogeneous_inside_its_thresholds(market, sample, k):
    model = load_model("deribit")
    portfolio = load_portfolio(SAMPLES / sample)
    base, scaled = (bind(portfolio.scaled(x), market) for x in (1.0, k))
    # inside: no extended loss beyond the dampener decides, no delta shock, no offset cap
    assert all(m.size_independent for m in model.simulate(base).values())
    assert all(m.size_independent for m in model.simulate(scaled).values())
    one, many = model.requirement(base), model.requirement(scaled)
    # up to Deribit's rounding of the worst case to 1e-9 coin (≈ 1e-4 USD at 95,000)
    assert many.initial == pytest.approx(k * one.initial, rel=1e-9, abs=1e-3)
    assert many.maintenance == pytest.approx(k * one.maintenance, rel=1e-9, abs=1e-3)
    np.testing.assert_allclose(many.position_initial, k * one.position_initial, 1e-9, 1e-3)
    assert one.position_initial.sum() >= one.initial


def test_bundled_deribit_grows_faster_than_size_beyond_the_dampener(market):
    # 7 × the naked short puts: the extended table's losses outgrow the fixed dampener
    model = load_model("deribit")
    portfolio = load_portfolio(SAMPLES / "naked_short_options.csv")
    base, scaled = (bind(portfolio.scaled(x), market) for x in (1.0, 7.0))
    assert all(m.size_independent for m in model.simulate(base).values())
    assert not model.simulate(scaled)["USDC"].size_independent
    assert model.requirement(scaled).initial > 7 * model.requirement(base).initial * 1.2
