import numpy as np
import pandas as pd
import pytest

from pmargin import InputError, load_portfolio

CSV = """\
# comment lines and blank lines are skipped, line numbers stay the file's own
id,instrument,quantity,mark_price

a,BTC-27DEC24-60000-C,-10,0.05
b,BTC-PERPETUAL,20000,
"""


def test_csv_with_symbols(write):
    portfolio = load_portfolio(write("book.csv", CSV))
    p = portfolio.positions
    assert list(p["id"]) == ["a", "b"]
    assert list(p["kind"]) == ["option", "perpetual"]
    assert list(p["settlement"]) == ["inverse", "inverse"]
    assert p["multiplier"].tolist() == [1.0, 10.0]
    assert p["expiry"].iloc[0] == pd.Timestamp("2024-12-27 08:00")
    assert np.isnan(p["mark_price"].iloc[1])
    assert p["source"].iloc[0].endswith("book.csv:4")


def test_explicit_columns_and_default_ids(write):
    path = write(
        "book.csv",
        """\
        underlying,kind,expiry,strike,right,quantity
        eth,option,2025-03-28T08:00:00Z,4000,P,-5
        ETH,future,2025-03-28,,,2
        """,
    )
    p = load_portfolio(path).positions
    assert list(p["underlying"]) == ["ETH", "ETH"]
    assert list(p["right"]) == ["put", ""]
    assert list(p["id"]) == ["book.csv:2", "book.csv:3"]
    assert p["instrument"].tolist() == ["ETH_USDC-28MAR25-4000-P", "ETH_USDC-28MAR25"]
    assert (p["expiry"] == pd.Timestamp("2025-03-28 08:00")).all()


def test_explicit_columns_override_the_symbol(write):
    path = write("book.csv", "instrument,quantity,multiplier\nBTC-PERPETUAL,5,100\n")
    assert load_portfolio(path).positions["multiplier"].iloc[0] == 100.0


def test_yaml_portfolio_with_collateral_and_orders(write):
    path = write(
        "book.yaml",
        """\
        account: desk-1
        collateral: {USD: 250000, BTC: 3.0}
        positions:
          - {instrument: BTC-27DEC24-60000-C, quantity: -10}
          - {underlying: ETH, kind: future, expiry: 2024-12-27, quantity: 50}
        orders:
          - {instrument: BTC-PERPETUAL, quantity: 20000, price: 61000}
        """,
    )
    portfolio = load_portfolio(path)
    p = portfolio.positions
    assert portfolio.collateral == {"desk-1": {"USD": 250000.0, "BTC": 3.0}}
    assert p["is_order"].tolist() == [False, False, True]
    assert p["entry_price"].iloc[2] == 61000.0
    assert set(p["account"]) == {"desk-1"}


def _problems(path):
    with pytest.raises(InputError) as info:
        load_portfolio(path)
    return [str(p) for p in info.value.problems]


def test_every_bad_row_is_reported_with_its_line(write):
    path = write(
        "bad.csv",
        """\
        instrument,quantity,strike,expiry
        BTC-27DEC24-60000-C,abc,,
        BTC-PERPETUAL,1,,
        NOT A SYMBOL,1,,
        BTC-27DEC24-60000-C,inf,,
        BTC_USDC-27DEC24,1,,2024-13-45
        """,
    )
    problems = _problems(path)
    text = "\n".join(problems)
    assert "bad.csv:2: column `quantity`: 'abc' is not a finite number" in text
    assert "bad.csv:4: column `instrument`" in text
    assert "bad.csv:5: column `quantity`: 'inf' is not a finite number" in text
    assert "bad.csv:6: column `expiry`: cannot read date '2024-13-45'" in text
    assert not any("bad.csv:3" in p for p in problems)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("instrument,qty\nBTC-PERPETUAL,1\n", "unknown column `qty`. Did you mean `quantity`?"),
        ("instrument,price\nBTC-PERPETUAL,1\n", "missing required column `quantity`"),
        (
            "underlying,kind,expiry,strike,right,quantity\nBTC,option,2025-01-31,-5,C,1\n",
            "column `strike`: must be > 0",
        ),
        (
            "underlying,kind,expiry,right,quantity\nBTC,option,2025-01-31,C,1\n",
            "column `strike`: missing for an option",
        ),
        ("underlying,kind,quantity\nBTC,swap,1\n", "unknown kind 'swap'"),
        ("underlying,kind,quantity\nBTC,future,1\n", "column `expiry`: missing for a future"),
        ("instrument,quantity\nBTC-PERPETUAL,1,2\n", "has 3 fields, the header has 2"),
        ("instrument,quantity,mark_price\nBTC-PERPETUAL,1,nan\n", "'nan' is not a finite number"),
        ("# only a comment\n", "no header row"),
    ],
)
def test_bad_csv_messages(write, text, expected):
    assert any(expected in p for p in _problems(write("bad.csv", text)))


def test_bad_yaml_portfolio_names_the_key(write):
    path = write(
        "bad.yaml",
        """\
        collateral: {USD: lots}
        positions:
          - {instrument: BTC-PERPETUAL, quantity: 1, colour: red}
        """,
    )
    text = "\n".join(_problems(path))
    assert "collateral.USD: expected a number" in text
    assert "positions[0]: unknown key `colour`" in text


@pytest.mark.parametrize(
    "text",
    [
        "id , instrument ,quantity\n  a ,  BTC-PERPETUAL ,  -5  \n",  # unquoted: the fast path
        'id,instrument,quantity\n"a", "BTC-PERPETUAL" ,"-5"\n',  # quoted: the csv module
    ],
)
def test_cells_are_stripped_on_both_reading_paths(write, text):
    p = load_portfolio(write("book.csv", text)).positions
    assert p["id"].tolist() == ["a"]
    assert p["instrument"].tolist() == ["BTC-PERPETUAL"]
    assert p["quantity"].tolist() == [-5.0]


def test_quoted_commas_and_field_counts(write):
    ok = write("ok.csv", 'id,instrument,quantity\n"desk, main",BTC-PERPETUAL,1\n')
    assert load_portfolio(ok).positions["id"].tolist() == ["desk, main"]
    bad = write("bad.csv", 'id,instrument,quantity\n"a",BTC-PERPETUAL\nb,BTC-PERPETUAL,1,2\n')
    text = "\n".join(_problems(bad))
    assert "bad.csv:2: has 2 fields, the header has 3" in text
    assert "bad.csv:3: has 4 fields, the header has 3" in text
