"""A CSV read in chunks gives exactly the whole read's result: the same positions and, for a bad
file, the same problems with the same line numbers (validation runs on distinct values)."""

from __future__ import annotations

import pandas as pd
import pytest

from pmargin import InputError
from pmargin.io.portfolio_file import load_portfolio_csv
from pmargin.io.position_rows import MAX_ROW_PROBLEMS

GOOD = """\
# a book with comments, blank lines, quotes, spaces and repeated instruments
id,account,instrument,quantity,mark_price

a1, desk-1 ,BTC-27DEC24-100000-C,-1,0.05
a2,desk-2,BTC-PERPETUAL,1000,
# a comment between rows
a3,"desk, 3",BTC-27DEC24-100000-C,2,0.05
a4,desk-1,  ETH_USDC-PERPETUAL  ,5,3400

a5,desk-2,BTC_USDC-27DEC24-90000-P,-3,
a6,desk-1,btc-perpetual,-10,
""" + "".join(
    f"r{i},desk-{i % 7},BTC-27DEC24-{80000 + 1000 * (i % 9)}-P,{i},\n" for i in range(200)
)

SIZES = [1, 7, 64, 1000, 10**9]  # bytes a chunk: one line each ... the whole file


def read(path, size):
    return load_portfolio_csv(path, chunk_bytes=size).positions


@pytest.mark.parametrize("size", SIZES)
def test_a_chunked_read_gives_the_whole_read(write, size):
    path = write("book.csv", GOOD)
    whole = read(path, 10**9)
    assert len(whole) == 206
    pd.testing.assert_frame_equal(read(path, size), whole)


def test_cells_are_stripped_and_lines_are_the_files(write):
    positions = read(write("book.csv", GOOD), 1)
    assert positions["account"].tolist()[:3] == ["desk-1", "desk-2", "desk, 3"]
    assert positions["instrument"].iloc[3] == "ETH_USDC-PERPETUAL"
    assert positions["source"].iloc[2].endswith("book.csv:7")
    assert positions["source"].iloc[4].endswith("book.csv:10")


def bad_file() -> str:
    """30 rows with the same bad quantity, a bad symbol, a bad expiry: more than the 25 rows a
    kind of problem lists, spread over every chunk."""
    rows = [f"BTC-PERPETUAL,ten,{i}\n" for i in range(30)]
    rows.insert(10, "NOPE,1,x\n")
    rows.insert(20, "BTC-32DEC24,1,y\n")
    return "instrument,quantity,id\n" + "".join(rows)


def problems(path, size) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_portfolio_csv(path, chunk_bytes=size)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize("size", SIZES)
def test_a_chunked_read_reports_the_whole_reads_problems(write, size):
    path = write("bad.csv", bad_file())
    whole = problems(path, 10**9)
    assert problems(path, size) == whole
    quantity = [p for p in whole if "column `quantity`" in p]
    assert len(quantity) == MAX_ROW_PROBLEMS + 1
    assert quantity[-1] == "column `quantity`: ... and 5 more rows like these"
    assert any("bad.csv:12: column `instrument`: cannot read symbol 'NOPE'" in p for p in whole)
    assert any("bad.csv:22: column `instrument`: symbol 'BTC-32DEC24'" in p for p in whole)


@pytest.mark.parametrize("size", SIZES)
def test_a_row_with_the_wrong_field_count_stops_the_read_the_same_way(write, size):
    path = write("bad.csv", "instrument,quantity\nBTC-PERPETUAL,ten\nBTC-PERPETUAL,1,2\n")
    assert problems(path, size) == [
        f"{path}:3: has 3 fields, the header has 2. Check for a missing or extra comma."
    ]


def test_repeated_distinct_values_are_validated_once(write, monkeypatch):
    from pmargin.io import position_rows

    calls = []
    original = position_rows.parse_symbol

    def counted(symbol):
        calls.append(symbol)
        return original(symbol)

    position_rows._parsed_symbol.cache_clear()
    monkeypatch.setattr(position_rows, "parse_symbol", counted)
    rows = "".join(f"BTC-27DEC24-{90000 + 1000 * (i % 3)}-C,{i + 1}\n" for i in range(3000))
    positions = load_portfolio_csv(write("book.csv", "instrument,quantity\n" + rows)).positions
    position_rows._parsed_symbol.cache_clear()
    assert len(positions) == 3000
    assert sorted(calls) == ["BTC-27DEC24-90000-C", "BTC-27DEC24-91000-C", "BTC-27DEC24-92000-C"]


@pytest.mark.parametrize("size", SIZES)
def test_a_short_row_and_a_long_row_are_both_found(write, size):
    """The commas of the block add up (one row short of one, another one too many): each row is
    still a problem of its own."""
    text = (
        "instrument,quantity\nBTC-PERPETUAL,1\nBTC-PERPETUAL\nBTC-PERPETUAL,1,2\nETH-PERPETUAL,3\n"
    )
    path = write("bad.csv", text)
    assert problems(path, size) == [
        f"{path}:3: has 1 field, the header has 2. Check for a missing or extra comma.",
        f"{path}:4: has 3 fields, the header has 2. Check for a missing or extra comma.",
    ]


def test_a_long_first_row_is_not_read_as_an_index(write):
    path = write("bad.csv", "instrument,quantity\nBTC-PERPETUAL,1,2\nBTC-PERPETUAL\n")
    assert problems(path, 10**9) == [
        f"{path}:2: has 3 fields, the header has 2. Check for a missing or extra comma.",
        f"{path}:3: has 1 field, the header has 2. Check for a missing or extra comma.",
    ]


@pytest.mark.parametrize("size", SIZES)
def test_a_short_last_row_is_found(write, size):
    path = write("bad.csv", "instrument,quantity\nBTC-PERPETUAL,1\nBTC-PERPETUAL\n")
    assert problems(path, size) == [
        f"{path}:3: has 1 field, the header has 2. Check for a missing or extra comma."
    ]
