from datetime import datetime, timezone

import pytest

from pmargin.instruments import Instrument, parse_symbol


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [
        (
            "BTC-27DEC24-60000-C",
            {
                "underlying": "BTC",
                "kind": "option",
                "settlement": "inverse",
                "strike": 60000.0,
                "right": "call",
                "multiplier": 1.0,
            },
        ),
        (
            "BTC-PERPETUAL",
            {"underlying": "BTC", "kind": "perpetual", "settlement": "inverse", "multiplier": 10.0},
        ),
        ("ETH-PERPETUAL", {"underlying": "ETH", "kind": "perpetual", "multiplier": 1.0}),
        ("BTC-27DEC24", {"kind": "future", "settlement": "inverse", "multiplier": 10.0}),
        ("BTC_USDC-PERPETUAL", {"kind": "perpetual", "settlement": "linear", "multiplier": 1.0}),
        (
            "SOL_USDC-27DEC24-200-P",
            {
                "underlying": "SOL",
                "kind": "option",
                "right": "put",
                "settlement": "linear",
                "strike": 200.0,
            },
        ),
        ("XRP_USDC-3JAN25-0d625-C", {"strike": 0.625, "right": "call"}),
        ("BTC_USDC", {"kind": "spot", "settlement": "linear"}),
    ],
)
def test_symbols_expand_to_spec_fields(symbol, expected):
    fields = parse_symbol(symbol)
    for key, value in expected.items():
        assert fields[key] == value, key


def test_dated_symbols_expire_at_eight_utc():
    assert parse_symbol("BTC-27DEC24")["expiry"] == datetime(2024, 12, 27, 8, tzinfo=timezone.utc)
    assert parse_symbol("ETH-3JAN25-4000-P")["expiry"] == datetime(
        2025, 1, 3, 8, tzinfo=timezone.utc
    )


@pytest.mark.parametrize(
    "bad",
    [
        "BTC",
        "BTC-31FEB25",
        "BTC-27XYZ24",
        "SOL-PERPETUAL",
        "BTC-27DEC24-60000-X",
        "",
        "btc perpetual",
    ],
)
def test_bad_symbols_are_rejected_with_a_hint(bad):
    with pytest.raises(ValueError, match=r"(?i)symbol|perpetual|date|month"):
        parse_symbol(bad)


def test_symbol_round_trip():
    for symbol in [
        "BTC-27DEC24-60000-C",
        "BTC-PERPETUAL",
        "SOL_USDC-27DEC24-200-P",
        "BTC_USDC-PERPETUAL",
        "BTC-28MAR25",
    ]:
        fields = parse_symbol(symbol)
        assert Instrument(**fields).symbol == symbol


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {
                "underlying": "BTC",
                "kind": "option",
                "right": "call",
                "strike": -1.0,
                "expiry": datetime(2025, 1, 1, tzinfo=timezone.utc),
            },
            "strike",
        ),
        ({"underlying": "BTC", "kind": "future"}, "expiry"),
        ({"underlying": "BTC", "kind": "swap"}, "kind"),
        ({"underlying": "BTC", "kind": "spot", "multiplier": 0.0}, "multiplier"),
    ],
)
def test_instrument_validates_its_fields(fields, message):
    with pytest.raises(ValueError, match=message):
        Instrument(**fields)
