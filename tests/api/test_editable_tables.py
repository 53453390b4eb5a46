"""The tables the API hands out are the caller's to edit: every column of a loaded portfolio's
positions and of a margin result's positions can be assigned in place (pandas raises
"assignment destination is read-only" on a frame built around another frame's guarded view)."""

from __future__ import annotations

import pytest
from conftest import SAMPLES

from pmargin import compute_margin, load_market, load_portfolio
from pmargin.io.portfolio_file import load_portfolio_csv

ROWS = "account,instrument,quantity,mark_price\n" + "".join(
    f"a{i % 3},{symbol},{i + 1},\n"
    for i, symbol in enumerate(["BTC-PERPETUAL", "ETH-27DEC24", "BTC-27DEC24-100000-C"] * 4)
)


def assign_every_column(frame):
    for column in frame.columns:
        frame.loc[0, column] = frame[column].iloc[1]
        assert frame[column].iloc[0] == frame[column].iloc[1] or frame[column].isna().iloc[:2].all()


@pytest.mark.parametrize("chunk_bytes", [2**20, 64])  # one block; a block every line or two
def test_a_csv_portfolio_and_its_result_can_be_edited_in_place(write, market_path, chunk_bytes):
    portfolio = load_portfolio_csv(write("book.csv", ROWS), chunk_bytes=chunk_bytes)
    result = compute_margin(portfolio, load_market(market_path), "deribit")
    assign_every_column(result.positions)
    assign_every_column(portfolio.positions)


def test_a_yaml_portfolio_can_be_edited_in_place():
    assign_every_column(load_portfolio(SAMPLES / "multi_asset.yaml").positions)
