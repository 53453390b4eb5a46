import math

import numpy as np
import pytest

from pmargin import InputError, MarketDataError, load_market


def test_market_fields(market_path):
    market = load_market(market_path)
    assert market.as_of.isoformat() == "2024-11-25T08:00:00+00:00"
    assert market.spot("BTC") == 100000
    assert market.correlation("ETH", "BTC") == 0.8
    assert market.correlation("BTC", "BTC") == 1.0


def test_forward_from_carry_and_quoted(write):
    market = load_market(
        write(
            "m.yaml",
            """\
        as_of: 2024-01-01
        rate: 0.05
        underlyings:
          BTC: {spot: 100, vol: 0.5, carry: 0.01, forwards: {2024-07-01: 123}}
        """,
        )
    )
    expiry = np.array(["2024-12-31T08:00:00", "2024-07-01T08:00:00"], dtype="datetime64[s]")
    forwards = market.forwards("BTC", expiry)
    t = 365 / 365  # 2024-01-01 08:00 -> 2024-12-31 08:00 is 365 days
    assert forwards[0] == pytest.approx(100 * math.exp((0.05 - 0.01) * t), rel=1e-12)
    assert forwards[1] == 123


def test_smile_interpolation(write):
    market = load_market(
        write(
            "m.yaml",
            """\
        as_of: 2024-01-01T08:00:00Z
        underlyings:
          BTC:
            spot: 100
            smile:
              2024-01-31: {80: 0.8, 100: 0.6, 120: 0.7}
              2024-03-31: {80: 0.7, 100: 0.5, 120: 0.6}
        """,
        )
    )
    first = np.datetime64("2024-01-31T08:00:00")
    second = np.datetime64("2024-03-31T08:00:00")
    between = np.datetime64("2024-03-01T08:00:00")
    # linear in strike inside a slice, flat outside the strike range
    v = market.vols("BTC", np.array([first] * 3), np.array([90.0, 50.0, 500.0]))
    assert v.tolist() == pytest.approx([0.7, 0.8, 0.7])
    # linear in total variance across expiries, at the same strike
    t1, t2, t = 30 / 365, 90 / 365, 60 / 365
    w = 0.6**2 * t1 + (t - t1) / (t2 - t1) * (0.5**2 * t2 - 0.6**2 * t1)
    v = market.vols("BTC", np.array([between]), np.array([100.0]))
    assert v[0] == pytest.approx(math.sqrt(w / t), rel=1e-12)
    # flat in vol before the first and after the last expiry
    early, late = np.datetime64("2024-01-10T08:00:00"), np.datetime64("2025-01-01T08:00:00")
    assert market.vols(
        "BTC", np.array([early, late, second]), np.array([100.0] * 3)
    ).tolist() == pytest.approx([0.6, 0.5, 0.5])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "as_of: 2024-01-01\nunderlyings:\n  BTC: {spot: -5}\n",
            "underlyings.BTC.spot: must be > 0",
        ),
        ("as_of: 2024-01-01\nunderlyings:\n  BTC: {spot: .nan}\n", "is not a finite number"),
        ("underlyings:\n  BTC: {spot: 5}\n", "missing `as_of`"),
        ("as_of: 2024-01-01\nunderlyings:\n  BTC: {vol: 0.5}\n", "missing `spot`"),
        (
            "as_of: 2024-01-01\nunderlyings:\n  BTC: {spot: 5, volatility: 0.5}\n",
            "unknown key `volatility`",
        ),
        (
            "as_of: 2024-01-01\nunderlyings:\n  BTC: {spot: 5}\ncorrelations: {BTC: {ETH: 1.5}}\n",
            "correlation must be in [-1, 1]",
        ),
        ("as_of: 2024-01-01\nunderlyings: [BTC\n", "malformed YAML"),
    ],
)
def test_bad_market(write, text, expected):
    with pytest.raises(MarketDataError if "malformed" not in expected else Exception) as info:
        load_market(write("m.yaml", text))
    assert expected in str(info.value)


RATES_MARKET = """\
as_of: 2024-01-01
rate: 0.05
rates: {2024-07-01: 0.08, 2024-12-31T08:00:00Z: -0.01}
underlyings:
  BTC: {spot: 100, vol: 0.5, perpetual_price: 101.5}
  ETH: {spot: 10, vol: 0.6}
"""


def test_rates_per_expiry_and_perpetual_price(write):
    market = load_market(write("m.yaml", RATES_MARKET))
    expiry = np.array(
        ["2024-07-01T08:00:00", "2024-12-31T08:00:00", "2024-03-01T08:00:00", "NaT"],
        dtype="datetime64[s]",
    )
    assert market.rates_for(expiry).tolist() == [0.08, -0.01, 0.05, 0.05]
    # an unquoted forward grows at its expiry's rate
    t = (np.datetime64("2024-07-01T08:00:00") - np.datetime64("2024-01-01T08:00:00")).astype(
        float
    ) / (365 * 86400)
    assert market.forwards("BTC", expiry[:1])[0] == pytest.approx(100 * math.exp(0.08 * t))
    assert market.perpetual_price("BTC") == 101.5
    assert market.perpetual_price("ETH") == 10  # not quoted: spot


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rates: {2024-07-01: x}\n", "rates.2024-07-01: expected a number"),
        ("rates: [0.05]\n", "rates: expected a mapping expiry -> rate"),
        # the date wording every loader shares (pmargin.values.instant), naming the key
        ("rates: {someday: 0.05}\n", "rates.someday: 'someday' is not a date"),
        ("rates: {2024-07-01: 50}\n", "rates.2024-07-01: must be ≤ 5"),
        (
            "rates:\n  2024-07-01: 0.05\n  2024-07-01T08:00:00Z: 0.06\n",
            "rates: `2024-07-01` and `2024-07-01 08:00:00+00:00` are the same expiry (lines 5 "
            "and 6)",
        ),
    ],
)
def test_bad_rates(write, text, expected):
    body = "as_of: 2024-01-01\nunderlyings:\n  BTC: {spot: 5}\n" + text
    with pytest.raises(MarketDataError) as info:
        load_market(write("m.yaml", body))
    assert expected in str(info.value)


def test_an_impossible_rate_expiry_is_refused_where_the_yaml_is_read(write):
    body = "as_of: 2024-01-01\nunderlyings:\n  BTC: {spot: 5}\nrates: {2024-02-30: 0.05}\n"
    with pytest.raises(InputError) as info:
        load_market(write("m.yaml", body))
    assert "m.yaml:4: a key of `rates`: impossible date '2024-02-30'" in str(info.value)


def test_bad_perpetual_price(write):
    body = "as_of: 2024-01-01\nunderlyings:\n  BTC: {spot: 5, perpetual_price: 0}\n"
    with pytest.raises(MarketDataError) as info:
        load_market(write("m.yaml", body))
    assert "underlyings.BTC.perpetual_price: must be > 0" in str(info.value)


def test_a_perpetual_price_beyond_any_price_is_refused(write):
    body = "as_of: 2024-01-01\nunderlyings:\n  BTC: {spot: 5, perpetual_price: 1e300}\n"
    with pytest.raises(MarketDataError) as info:
        load_market(write("m.yaml", body))
    assert "underlyings.BTC.perpetual_price: must be ≤ 1e+12" in str(info.value)
