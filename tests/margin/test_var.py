"""The var model: Monte Carlo ES against closed forms, historical ES by hand, and its errors.

Market (tests/conftest.py): BTC 100,000 vol 50%, ETH 4,000 vol 60%, correlation 0.8, rate 0.
Monte Carlo moves are log returns x (S' = S·eˣ), so a linear position's P&L is lognormal.
"""

import itertools
import math

import numpy as np
import pytest
from conftest import margin_csv as margin
from scipy import integrate, optimize, stats

from pmargin import InputError, MarketDataError, compute_margin, load_market, load_portfolio
from pmargin.io.model_file import load_model
from pmargin.margin import var as var_module
from pmargin.montecarlo import MonteCarloSet, underlying_vols

SPOT, ETH_SPOT = 100000.0, 4000.0
PATHS = 200_000
HORIZON = math.sqrt(2 / 365)


def mc_model(write, *, distribution="normal", df=5, paths=PATHS, seed=11):
    return write(
        "mc.yaml",
        f"""\
        name: mc
        method: var
        confidence: 0.99
        horizon_days: 2
        scenarios: montecarlo
        montecarlo: {{paths: {paths}, seed: {seed}, distribution: {distribution}, df: {df}}}
        maintenance_ratio: 0.5
        """,
    )


def standard_error(es_in_sd: float, var_in_sd: float, tail_var: float) -> float:
    """Sampling s.e. of an ES estimate (in units of the P&L's sd) with N paths at 99%."""
    tail = PATHS * 0.01
    return math.sqrt((tail_var + 0.99 * (es_in_sd - var_in_sd) ** 2) / tail)


def es_check(result_es: float, reference: float, sd: float) -> None:
    """|result − reference| within 3 standard errors of an ES estimate of a P&L with sd ``sd``
    (the normal tail's standard error: lognormal tails at 2-day vols are nearly normal)."""
    z = stats.norm.ppf(0.99)
    es = stats.norm.pdf(z) / 0.01
    tail_var = 1 + z * es - es**2
    tolerance = 3 * standard_error(es, z, tail_var) * sd
    assert abs(result_es - reference) < tolerance, (result_es, reference, tolerance)


def lognormal_es(notional: float, s: float) -> float:
    """99% ES of P&L = notional·(eˣ − 1), x ~ N(0, s²); notional < 0 for a short.

    E[eˣ; x ≤ q] = e^{s²/2}·Φ(q/s − s) and E[eˣ; x ≥ q] = e^{s²/2}·Φ(s − q/s).
    """
    z = stats.norm.ppf(0.99)
    if notional > 0:  # the tail is x ≤ −z·s
        return notional * (1 - math.exp(s**2 / 2) * stats.norm.cdf(-z - s) / 0.01)
    return -notional * (math.exp(s**2 / 2) * stats.norm.cdf(s - z) / 0.01 - 1)


def lognormal_var(notional: float, s: float) -> float:
    """99% VaR of P&L = notional·(eˣ − 1), x ~ N(0, s²): the P&L at x = ∓z·s."""
    z = stats.norm.ppf(0.99)
    return notional * (1 - math.exp(-z * s)) if notional > 0 else -notional * math.expm1(z * s)


def two_lognormal_es(long: float, s1: float, short: float, s2: float, rho: float) -> float:
    """99% ES of P&L = long·(e^{x₁} − 1) − short·(e^{x₂} − 1), (x₁, x₂) normal, correlation ρ.

    With x₁ = s₁u, x₂ = s₂(ρu + √(1 − ρ²)v) for independent standard normals u, v, the P&L falls
    in v, so {P&L ≤ q} = {v ≥ t(u, q)} and both the tail probability and the tail mean are
    one-dimensional integrals over u (scipy quadrature), the quantile q a root (brentq).
    """
    c = s2 * math.sqrt(1 - rho**2)

    def threshold(u: float, q: float) -> float:
        ratio = (long * math.expm1(s1 * u) + short - q) / short
        return (math.log(ratio) / s2 - rho * u) / math.sqrt(1 - rho**2)

    def integral(f) -> float:
        return integrate.quad(lambda u: stats.norm.pdf(u) * f(u), -12, 12, limit=200)[0]

    def probability(q: float) -> float:
        return integral(lambda u: stats.norm.cdf(-threshold(u, q)))

    q = optimize.brentq(lambda q: probability(q) - 0.01, -0.5 * long, 0.0, xtol=1e-9)
    tail = integral(
        lambda u: (
            (long * math.expm1(s1 * u) + short) * stats.norm.cdf(-threshold(u, q))
            - short * math.exp(s2 * rho * u + c**2 / 2) * stats.norm.cdf(c - threshold(u, q))
        )
    )
    return -tail / 0.01


@pytest.mark.parametrize("quantity", [1, -3])
def test_linear_position_es_matches_the_lognormal_closed_form(write, market_path, quantity):
    result = margin(
        write, market_path, f"instrument,quantity\nBTC_USDC-PERPETUAL,{quantity}\n", mc_model(write)
    )
    s = 0.5 * HORIZON
    sd = abs(quantity) * SPOT * s
    es_check(result.portfolio_margin, lognormal_es(quantity * SPOT, s), sd)
    assert result.maintenance_margin == pytest.approx(0.5 * result.portfolio_margin)
    assert result.components["value_at_risk"] == pytest.approx(
        lognormal_var(quantity * SPOT, s), rel=0.02
    )


def test_correlated_book_es_matches_the_closed_form(write, market_path):
    # long 1 BTC, short 25 ETH, correlation 0.8 of the log returns (no closed form for a sum of
    # lognormals: the reference is the two_lognormal_es quadrature)
    rows = "instrument,quantity\nBTC_USDC-PERPETUAL,1\nETH_USDC-PERPETUAL,-25\n"
    result = margin(write, market_path, rows, mc_model(write))
    s1, s2 = 0.5 * HORIZON, 0.6 * HORIZON
    a, b = SPOT * s1, 25 * ETH_SPOT * s2
    sd = math.sqrt(a**2 + b**2 - 2 * 0.8 * a * b)
    reference = two_lognormal_es(SPOT, s1, 25 * ETH_SPOT, s2, 0.8)
    es_check(result.portfolio_margin, reference, sd)
    es_check(result.by_underlying["BTC"], lognormal_es(SPOT, s1), a)
    es_check(result.by_underlying["ETH"], lognormal_es(-25 * ETH_SPOT, s2), b)
    assert result.components["diversification"] == pytest.approx(
        result.portfolio_margin - sum(result.by_underlying.values())
    )
    assert result.isolated_margin >= result.portfolio_margin


def test_log_returns_match_the_lognormal_closed_form(write, market_path):
    # loss = S(1 − eˣ), x ~ N(0, s²): ES = S(1 − E[eˣ | x ≤ q]) = S(1 − e^{s²/2}·Φ(z₀.₀₁ − s)/0.01)
    result = margin(
        write,
        market_path,
        "instrument,quantity\nBTC_USDC-PERPETUAL,1\n",
        mc_model(write),
    )
    s = 0.5 * HORIZON
    es = SPOT * (1 - math.exp(s**2 / 2) * stats.norm.cdf(stats.norm.ppf(0.01) - s) / 0.01)
    assert result.portfolio_margin == pytest.approx(es, rel=0.015)


def test_student_t_es_matches_its_closed_form(write, market_path):
    df = 5
    result = margin(
        write,
        market_path,
        "instrument,quantity\nBTC_USDC-PERPETUAL,1\n",
        mc_model(write, distribution="student_t", df=df),
    )
    # x = s·√((df − 2)/df)·T, T ~ t(df): ES = S·(1 − E[eˣ | T ≤ t₀.₀₁]), by quadrature
    scale = 0.5 * HORIZON * math.sqrt((df - 2) / df)
    q = stats.t.ppf(0.01, df)
    tail = integrate.quad(lambda t: math.exp(scale * t) * stats.t.pdf(t, df), -np.inf, q)[0]
    es = SPOT * (1 - tail / 0.01)
    assert result.portfolio_margin == pytest.approx(es, rel=0.03)


def test_the_seed_makes_results_reproducible(write, market_path):
    rows = "instrument,quantity\nBTC_USDC-28MAR25-110000-C,-2\nETH_USDC-PERPETUAL,10\n"
    first = margin(write, market_path, rows, mc_model(write, paths=5000))
    again = margin(write, market_path, rows, mc_model(write, paths=5000))
    other = margin(write, market_path, rows, mc_model(write, paths=5000, seed=12))
    assert first.portfolio_margin == again.portfolio_margin
    assert first.portfolio_margin != other.portfolio_margin


def test_chunked_valuation_equals_one_pass(write, market_path, monkeypatch):
    rows = (
        "instrument,quantity\nBTC_USDC-28MAR25-110000-C,-2\nBTC_USDC-28MAR25-90000-P,1\n"
        "ETH_USDC-PERPETUAL,10\nBTC_USDC,1\n"
    )
    model = mc_model(write, paths=1000)
    whole = margin(write, market_path, rows, model)
    monkeypatch.setattr(var_module, "CHUNK_CELLS", 1000)  # one instrument at a time
    chunked = margin(write, market_path, rows, model)
    assert chunked.portfolio_margin == pytest.approx(whole.portfolio_margin, rel=1e-12)
    np.testing.assert_allclose(
        chunked.positions["isolated_margin"], whole.positions["isolated_margin"], rtol=1e-12
    )


RETURNS = [0.10, -0.10, 0.05, -0.20, 0.0, 0.02, -0.05, 0.01, -0.01, 0.03]


def history_model(write, confidence=0.8, horizon=1, prices="closes.csv"):
    closes = 100 * np.cumprod([1.0, *(1 + r for r in RETURNS)])
    lines = ["# daily closes", "date,BTC,ETH"]
    lines += [
        f"2024-01-{i + 1:02d},{float(c)!r},{'' if i == 3 else 50}" for i, c in enumerate(closes)
    ]
    write("closes.csv", "\n".join(lines) + "\n")
    return write(
        "hist.yaml",
        f"""\
        name: hist
        method: var
        confidence: {confidence}
        horizon_days: {horizon}
        scenarios: historical
        historical: {{prices: {prices}}}
        """,
    )


def test_historical_es_is_the_mean_of_the_worst_returns(write, market_path):
    # 10 one-day returns at 80%: k = ⌈0.2 × 10⌉ = 2, the tail is the 2 worst (−20%, −10%);
    # VaR is the 2nd worst (−10%)
    result = margin(write, market_path, "instrument,quantity\nBTC_USDC,2\n", history_model(write))
    assert result.portfolio_margin == pytest.approx(2 * SPOT * 0.15, rel=1e-12)
    assert result.components["value_at_risk"] == pytest.approx(2 * SPOT * 0.10, rel=1e-12)
    assert result.worst_scenario["name"] == "2024-01-04 → 2024-01-05"
    assert result.worst_scenario["pnl"] == pytest.approx(-2 * SPOT * 0.20)


def test_historical_returns_overlap_over_the_horizon(write, market_path):
    model = history_model(write, confidence=0.85, horizon=2)
    result = margin(write, market_path, "instrument,quantity\nBTC_USDC,1\n", model)
    two_day = sorted((1 + a) * (1 + b) - 1 for a, b in itertools.pairwise(RETURNS))
    assert len(two_day) == 9  # k = ⌈0.15 × 9⌉ = 2: the mean of the 2 worst
    assert result.portfolio_margin == pytest.approx(
        -SPOT * (two_day[0] + two_day[1]) / 2, rel=1e-12
    )


def test_historical_skips_returns_with_a_gap(write, market_path):
    # ETH has no close on 2024-01-04, so two of its ten returns are missing; its price is flat
    model = history_model(write)
    result = margin(write, market_path, "instrument,quantity\nETH_USDC,1\n", model)
    assert result.portfolio_margin == 0


def test_historical_file_without_the_underlying(write):
    model = history_model(write)
    sol = write(
        "sol.yaml", "as_of: 2024-11-25T08:00:00Z\nrate: 0\nunderlyings: {SOL: {spot: 200}}\n"
    )
    portfolio = load_portfolio(write("s.csv", "instrument,quantity\nSOL_USDC,1\n"))
    with pytest.raises(MarketDataError, match="no price column for SOL") as info:
        compute_margin(portfolio, load_market(sol), str(model))
    assert "closes.csv" in str(info.value)


def test_bad_price_cell_names_its_line(write):
    write("bad.csv", "date,BTC\n2024-01-01,100\n2024-01-02,abc\n2024-01-03,-5\n")
    path = write(
        "m.yaml", "name: h\nmethod: var\nscenarios: historical\nhistorical: {prices: bad.csv}\n"
    )
    with pytest.raises(InputError) as info:
        load_model(str(path))
    message = str(info.value)
    assert "bad.csv:3: `BTC`" in message and "'abc'" in message
    assert "bad.csv:4: `BTC`" in message


def test_missing_correlation_names_the_pair(write, cli):
    market = write(
        "nocorr.yaml",
        "as_of: 2024-11-25T08:00:00Z\nrate: 0\nunderlyings:\n"
        "  BTC: {spot: 100000, vol: 0.5}\n  ETH: {spot: 4000, vol: 0.6}\n",
    )
    book = write("b.csv", "instrument,quantity\nBTC_USDC,1\nETH_USDC,1\n")
    result = cli("compute", book, "--market", market, "--model", "var")
    assert result.exit_code == 2
    assert "no correlation between BTC and ETH" in result.stderr
    assert "Add `correlations: {BTC: {ETH: 0.8}}`" in result.stderr
    assert "nocorr.yaml" in result.stderr


def test_inconsistent_correlations_are_rejected(write):
    market = write(
        "bad_corr.yaml",
        """\
        as_of: 2024-11-25T08:00:00Z
        rate: 0
        underlyings:
          BTC: {spot: 100000, vol: 0.5}
          ETH: {spot: 4000, vol: 0.6}
          SOL: {spot: 200, vol: 0.8}
        correlations:
          BTC: {ETH: 0.9, SOL: 0.9}
          ETH: {SOL: -0.9}
        """,
    )
    rows = "instrument,quantity\nBTC_USDC,1\nETH_USDC,1\nSOL_USDC,1\n"
    portfolio = load_portfolio(write("b.csv", rows))
    with pytest.raises(InputError, match="positive semi-definite") as info:
        compute_margin(portfolio, load_market(market), "var")
    assert "bad_corr.yaml: correlations" in str(info.value)


def test_monte_carlo_scenarios_are_those_of_the_montecarlo_set(write, market_path):
    model = load_model(str(mc_model(write, distribution="student_t", df=4, paths=500, seed=3)))
    market = load_market(market_path)
    same = MonteCarloSet(
        name="mc", paths=500, horizon_days=2, distribution="student_t", df=4, seed=3
    ).shocks(("BTC", "ETH"), market)
    shocks = model.shocks(("BTC", "ETH"), market)
    np.testing.assert_array_equal(shocks.spot, same.spot)
    assert shocks.names == same.names and model.kind == "montecarlo"


def test_historical_date_column_can_be_renamed(write, market_path):
    write("closes.csv", "day,BTC\n2024-01-02,110\n2024-01-01,100\n2024-01-03,99\n")
    model = write(
        "h.yaml",
        "name: h\nmethod: var\nconfidence: 0.5\nhorizon_days: 1\nscenarios: historical\n"
        "historical: {prices: closes.csv, date_column: day}\n",
    )
    result = margin(write, market_path, "instrument,quantity\nBTC_USDC,1\n", model)
    # rows sorted by date: returns +10%, −10%; k = ⌈0.5 × 2⌉ = 1: the −10% day
    assert result.portfolio_margin == pytest.approx(SPOT * 0.10, rel=1e-12)
    assert result.worst_scenario["name"] == "2024-01-02 → 2024-01-03"


def test_smile_only_underlying_uses_its_30_day_atm_vol(write):
    market = load_market(
        write(
            "smile.yaml",
            """\
            as_of: 2024-11-25T08:00:00Z
            rate: 0
            underlyings:
              BTC:
                spot: 100000
                smile:
                  2024-12-25: {90000: 0.7, 100000: 0.6, 110000: 0.65}
            """,
        )
    )
    assert underlying_vols(market, ("BTC",), "var")[0] == pytest.approx(0.6)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("confidence: 1.2", "confidence"),
        ("montecarlo: {distribution: cauchy}", "unknown 'cauchy'"),
        ("montecarlo: {distribution: student_t, df: 2}", "must be above 2"),
        ("montecarlo: {paths: 10}", "must be ≥ 100"),
        ("scenarios: historical", "historical.prices"),
        ("scenarios: historical\nhistorical: {prices: nowhere.csv}", "file not found"),
        ("horizon: 2", "Did you mean `horizon_days`"),
        ("returns: log", "returns: no longer a parameter: Monte Carlo moves are log returns"),
        ("days_per_year: 365", "days_per_year: no longer a parameter"),
        (
            "scenarios: historical\nhistorical: {prices: p.csv, date_col: d}",
            "Did you mean `date_column`",
        ),
    ],
)
def test_bad_parameters_are_reported(write, body, message):
    path = write("bad.yaml", f"name: bad\nmethod: var\n{body}\n")
    with pytest.raises(InputError, match=message):
        load_model(str(path))
