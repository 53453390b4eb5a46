"""Liquidation plans: the bundled short-put book, thresholds, orders, modes, close-outs."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import yaml

from pmargin import compute_margin, liquidate, load_market, load_model, load_portfolio
from pmargin.book import bind
from pmargin.engine import value
from pmargin.report.liquidation import liquidation_dict
from pmargin.scenarios import Shocks

SAMPLES = Path(__file__).resolve().parents[2] / "sample_portfolios"
MODELS = ["deribit", "span", "tims", "var", "standard"]


def _document(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _target(result, target: str) -> float:
    return result.maintenance_margin if target == "maintenance" else result.portfolio_margin


def _plan(portfolio, market, model="deribit", **options) -> dict:
    return liquidation_dict(liquidate(portfolio, market, model, **options))["accounts"][0]


def test_short_put_sample_is_ok_then_in_liquidation_after_a_25_percent_fall(
    short_puts, sample_market, crash_market
):
    assert compute_margin(short_puts, sample_market).status == "ok"
    assert compute_margin(short_puts, crash_market).status == "liquidation"


def test_bundled_crash_market_is_the_sample_market_moved_25_percent(crash_market):
    bundled = load_market(SAMPLES / "market_btc_down_25.yaml")
    for name, moved in crash_market.underlyings.items():
        written = bundled.underlyings[name]
        assert written.spot == pytest.approx(moved.spot, rel=1e-12)
        assert written.forwards.keys() == moved.forwards.keys()
        for expiry, forward in moved.forwards.items():
            assert written.forwards[expiry] == pytest.approx(forward, rel=1e-12)
        assert written.vol == moved.vol
        vols = [(w, m) for w, m in ((written.smile, moved.smile),) if m is not None]
        for w, m in vols:  # the smile is held per strike
            np.testing.assert_array_equal(w.expiries, m.expiries)
            for k in range(len(m.strikes)):
                np.testing.assert_array_equal(w.strikes[k], m.strikes[k])
                np.testing.assert_array_equal(w.vols[k], m.vols[k])


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("mode", ["risk-reducing", "proportional"])
@pytest.mark.parametrize("target", ["maintenance", "initial"])
def test_applying_the_plan_and_recomputing_gives_equity_at_or_above_target(
    short_puts, crash_market, apply_steps, model, mode, target
):
    result = liquidate(short_puts, crash_market, model, mode=mode, target=target)
    account = liquidation_dict(result)["accounts"][0]
    assert account["before"]["status"] == "liquidation"
    assert account["restored"] and account["steps"]
    path = apply_steps(_document(SAMPLES / "short_puts_btc.yaml"), account["steps"])
    after = compute_margin(load_portfolio(path), crash_market, model)
    assert after.equity >= _target(after, target)
    assert after.equity == pytest.approx(account["after"]["equity"], rel=1e-9)
    assert _target(after, target) == pytest.approx(
        account["after"][f"{target}_margin"], rel=1e-9, abs=1e-6
    )
    fees = sum(step["fee"] for step in account["steps"])
    assert after.equity == pytest.approx(account["before"]["equity"] - fees, rel=1e-12)
    # the library's own book after the plan agrees
    library_after = compute_margin(result.portfolio_after(), crash_market, model)
    assert library_after.equity == pytest.approx(after.equity, rel=1e-12)
    assert library_after.equity >= _target(library_after, target)


def _counted_worst_loss(portfolio, market, model) -> float:
    """Largest loss over the deribit model's scenarios (grid and extended table, each extended
    move counted at its fraction), in USD: the book's P&L priced by the engine afresh."""
    book = bind(portfolio, market)
    spot, vol = model.scenario_moves(book.instruments.underlyings)
    settings, grid = model.settings, model.settings.grid_count
    pairs = [settings.pair(u) for u in book.instruments.underlyings]
    shocks = Shocks(
        names=tuple(map(str, range(spot.shape[1]))),
        underlyings=book.instruments.underlyings,
        spot=spot,
        vol=vol,
        vol_shift=np.zeros_like(vol),
        days=np.zeros(spot.shape[1]),
        weight=np.ones(spot.shape[1]),
        vol_term=pairs[0].vol_term(),
    )
    assert len({p.vol_term() for p in pairs}) == 1, "one vol term: a single-pair book"
    by_underlying = value(book, shocks).by_underlying()  # (U, K) USD
    ranges = np.array([p.price_range * p.extended_table_factor for p in pairs])[:, None]
    by_underlying[:, grid:] *= ranges / np.abs(spot[:, grid:])
    return max(-by_underlying.sum(axis=0).min(), 0.0)


@pytest.mark.parametrize("buffer", [0.0, 0.2])
def test_no_step_raises_the_worst_scenario_loss(short_puts, crash_market, apply_steps, buffer):
    model = load_model("deribit")
    account = _plan(short_puts, crash_market, model, buffer=buffer)
    document = _document(SAMPLES / "short_puts_btc.yaml")
    losses = [
        _counted_worst_loss(
            load_portfolio(apply_steps(document, account["steps"], upto)), crash_market, model
        )
        for upto in range(len(account["steps"]) + 1)
    ]
    assert len(losses) > 2
    assert all(b <= a + 1e-6 for a, b in itertools.pairwise(losses)), losses


MIXED = """\
account: desk
collateral: {USD: 150000}
positions:
  - {instrument: BTC_USDC-PERPETUAL, quantity: 10}
  - {instrument: ETH_USDC-PERPETUAL, quantity: -279.41}
  - {instrument: BTC-27DEC24-85000-P, quantity: -3}
"""


def test_no_step_before_a_close_out_raises_the_worst_scenario_loss(write, sample_market):
    """A BTC/ETH pair and short puts: closing single lots soon raises the joint worst loss
    (the legs hedge each other), so the plan stops trading lots and closes everything out."""
    model = load_model("deribit")
    portfolio = load_portfolio(write("mixed.yaml", MIXED))
    account = liquidate(portfolio, sample_market, model).accounts[0]
    start = _counted_worst_loss(portfolio, sample_market, model)
    losses = [start] + [step.worst_loss_after for step in account.steps]
    lots = [step for step in account.steps if not step.close_out]
    assert lots and account.full_close_out
    assert all(b <= a + 1e-6 for a, b in itertools.pairwise(losses[: len(lots) + 1])), losses
    assert losses[-1] <= start  # the close-out as a whole lowers it too


def test_risk_reducing_trades_futures_first(short_puts, crash_market):
    steps = _plan(short_puts, crash_market)["steps"]
    assert steps[0]["instrument"] == "BTC-PERPETUAL" and steps[0]["action"] == "hedge"
    assert steps[0]["quantity"] < 0  # sells the perpetual against the long BTC delta


def test_a_buffer_leaves_room_above_the_target(short_puts, crash_market):
    account = _plan(short_puts, crash_market, buffer=0.25)
    after = account["after"]
    assert after["equity"] >= 1.25 * after["maintenance_margin"]
    plain = _plan(short_puts, crash_market)
    assert len(account["steps"]) > len(plain["steps"])


ACCOUNT = """\
account: desk
collateral: {USD: CASH}
positions:
  - {instrument: BTC_USDC-PERPETUAL, quantity: -10}
"""


@pytest.mark.parametrize(
    ("offset", "status"),
    [(0.01, "margin_call"), (0.0, "margin_call"), (-0.01, "liquidation")],
)
def test_status_changes_exactly_at_maintenance_margin(write, market_path, cli, offset, status):
    market = load_market(market_path)
    margin = compute_margin(load_portfolio(write("a.yaml", ACCOUNT.replace("CASH", "0"))), market)
    cash = margin.maintenance_margin + offset
    path = write("b.yaml", ACCOUNT.replace("CASH", repr(cash)))
    assert compute_margin(load_portfolio(path), market).status == status
    account = _plan(load_portfolio(path), market)
    assert account["before"]["status"] == status
    assert bool(account["steps"]) == (status == "liquidation")
    result = cli("liquidate", path, "--market", market_path, "--format", "json")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize(("offset", "status"), [(0.01, "ok"), (0.0, "ok"), (-0.01, "margin_call")])
def test_status_changes_exactly_at_initial_margin(write, market_path, offset, status):
    market = load_market(market_path)
    margin = compute_margin(load_portfolio(write("a.yaml", ACCOUNT.replace("CASH", "0"))), market)
    path = write("b.yaml", ACCOUNT.replace("CASH", repr(margin.portfolio_margin + offset)))
    assert compute_margin(load_portfolio(path), market).status == status
    account = _plan(load_portfolio(path), market, target="initial")
    assert bool(account["steps"]) == (status == "margin_call")


def test_an_account_already_safe_gets_an_empty_plan(short_puts, sample_market, cli):
    account = _plan(short_puts, sample_market)
    assert account["steps"] == [] and account["restored"]
    assert account["deposit_to_restore"] == 0.0
    assert account["after"] == account["before"]
    result = cli("liquidate", SAMPLES / "short_puts_btc.yaml", "--format", "json")
    assert result.exit_code == 0, result.stderr


ORDERS = """\
account: desk
collateral: {BTC: 4.0}
positions:
  - {instrument: BTC-27DEC24-85000-P, quantity: -6}
  - {instrument: BTC-27DEC24-80000-P, quantity: -6}
  - {instrument: BTC-PERPETUAL, quantity: -10000}
orders:
  - {instrument: BTC-27DEC24-70000-P, quantity: -20, price: 0.01}
"""


def test_orders_are_cancelled_before_any_close(write, crash_market):
    portfolio = load_portfolio(write("orders.yaml", ORDERS))
    result = liquidate(portfolio, crash_market, "deribit")
    account = liquidation_dict(result)["accounts"][0]
    actions = [step["action"] for step in account["steps"]]
    assert actions[0] == "cancel_orders" and "cancel_orders" not in actions[1:]
    assert len(actions) > 1
    assert not result.portfolio_after().positions["is_order"].any()
    cancel = account["steps"][0]
    assert cancel["fee"] == 0
    assert cancel["equity_after"] == pytest.approx(account["before"]["equity"], rel=1e-12)
    # deribit counts open orders in initial margin only (Deribit's published method), so
    # cancelling them lowers the initial margin and leaves maintenance as it was
    assert cancel["initial_margin_after"] < account["before"]["initial_margin"]
    assert cancel["maintenance_margin_after"] == pytest.approx(
        account["before"]["maintenance_margin"], rel=1e-12
    )


def test_cancelling_orders_alone_can_restore_an_account(write, sample_market):
    # deribit counts open orders in initial margin only, so it is a margin call (equity below
    # initial margin, above maintenance) that cancelling them can cure: the target is initial
    portfolio = load_portfolio(write("orders.yaml", ORDERS.replace("BTC: 4.0", "BTC: 2.0")))
    assert compute_margin(portfolio, sample_market).status == "margin_call"
    account = _plan(portfolio, sample_market, target="initial")
    assert [step["action"] for step in account["steps"]] == ["cancel_orders"]
    assert account["restored"] and account["fees"] == 0


def test_orders_stay_when_the_account_is_safe(write, sample_market):
    portfolio = load_portfolio(write("orders.yaml", ORDERS.replace("-20,", "-1,")))
    result = liquidate(portfolio, sample_market, "deribit")
    assert result.accounts[0].steps == []
    assert result.portfolio_after().positions["is_order"].sum() == 1


def test_proportional_closes_the_same_fraction_of_every_position(short_puts, crash_market):
    account = _plan(short_puts, crash_market, mode="proportional")
    held = {
        p["instrument"]: p["quantity"]
        for p in _document(SAMPLES / "short_puts_btc.yaml")["positions"]
    }
    held["BTC (collateral)"] = 4.0
    fractions = [-step["quantity"] / held[step["instrument"]] for step in account["steps"]]
    assert len(fractions) == len(held)
    assert 0 < fractions[0] < 1
    np.testing.assert_allclose(fractions, fractions[0], rtol=1e-12)


def test_proportional_meets_the_auction_closed_form(short_puts, crash_market):
    """Margin is positively homogeneous and fees are linear in the fraction f closed of
    everything (positions and coins), so after the plan maintenance margin is (1 − f)·M and
    equity E − fees sits exactly at (1 + b)·(1 − f)·M, the closed form of Derive's auction
    (DutchAuction.sol): f = ((1 + b)·M − E + fees) / ((1 + b)·M)."""
    buffer = 0.1
    result = liquidate(short_puts, crash_market, "deribit", mode="proportional", buffer=buffer)
    account = result.accounts[0]
    steps = {step.instrument: step for step in account.steps}
    fraction = -steps["BTC (collateral)"].quantity / 4.0
    equity, margin = account.before.equity, account.before.maintenance_margin
    assert account.after.maintenance_margin == pytest.approx((1 - fraction) * margin, rel=1e-9)
    expected = ((1 + buffer) * margin - equity + account.fees) / ((1 + buffer) * margin)
    assert fraction == pytest.approx(expected, rel=1e-8)
    assert account.after.equity >= (1 + buffer) * account.after.maintenance_margin


def test_a_book_beyond_saving_is_closed_out_and_says_so(write, crash_market, cli):
    book = write("broke.yaml", ORDERS.replace("BTC: 4.0", "BTC: 0.5").split("orders:")[0])
    portfolio = load_portfolio(book)
    for mode in ("risk-reducing", "proportional"):
        account = _plan(portfolio, crash_market, mode=mode)
        assert not account["restored"] and account["full_close_out"]
        assert account["deficit"] > 0
        assert account["positions_after"] == []
        assert account["deposit_to_restore"] == pytest.approx(
            account["before"]["maintenance_margin"] - account["before"]["equity"]
        )
        assert "Nothing short of a full close-out restores the account" in account["note"]
    result = cli("liquidate", book, "--market", SAMPLES / "market_btc_down_25.yaml")
    assert result.exit_code == 0
    assert "Nothing short of a full close-out restores the account" in result.stdout


PAIR = """\
account: desk
collateral: {USD: 250000}
positions:
  - {instrument: BTC-PERPETUAL, quantity: 95000}
  - {instrument: ETH-PERPETUAL, quantity: -950000}
"""


def test_a_stalled_partial_liquidation_closes_everything_out(write, sample_market):
    """Long BTC / short ETH inverse perpetuals of the same USD size: deribit margins each in its
    own settlement currency (no offset), but every scenario moves both coins the same way, so
    past the first lots closing either leg alone raises the worst loss of the account. The
    partial plan stalls short of maintenance and the plan closes the pair out."""
    portfolio = load_portfolio(write("pair.yaml", PAIR))
    before = compute_margin(portfolio, sample_market)
    assert before.status == "liquidation"
    result = liquidate(portfolio, sample_market, "deribit")
    account = result.accounts[0]
    assert account.full_close_out and account.restored
    assert 0 < account.stalled_shortfall <= before.maintenance_margin - before.equity
    assert {step.action for step in account.steps} == {"close"}
    assert account.after.maintenance_margin == 0
    note = liquidation_dict(result)["accounts"][0]["note"]
    assert note.startswith("Nothing short of a full close-out restores the account")
    assert f"{account.stalled_shortfall:,.0f} USD short" in note
