"""The README's Python API example runs as written, and its results are the library's own."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from pmargin import InputError, Market, Portfolio, compute_margin, load_market
from pmargin.report.margin import margin_dict

ROOT = Path(__file__).resolve().parents[2]


def readme_api_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert blocks, "the README's Python API section has no python block"
    return blocks[0]


def test_the_readme_example_runs(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    exec(compile(readme_api_example(), "README.md", "exec"), namespace)
    margin = namespace["margin"]
    assert margin.portfolio_margin > 0
    assert margin.to_dict() == margin_dict(margin)  # what --format json prints
    assert list(margin.to_frame("models")["model"]) == ["deribit", "span", "standard"]
    assert set(namespace["stress"].to_frame()["set"]) == {"crash", "vol_spike"}
    printed = capsys.readouterr().out
    assert "initial" in printed and ("limits hold" in printed or "limit breached" in printed)


def test_a_frame_gives_the_margin_of_the_same_csv(write, market_path):
    rows = "instrument,quantity,mark_price\nBTC-27DEC24-100000-C,-10,0.0345\nBTC-PERPETUAL,-2500,\n"
    from_csv = compute_margin(write("book.csv", rows), market_path)
    frame = pd.DataFrame(
        {
            "Instrument": ["BTC-27DEC24-100000-C", "BTC-PERPETUAL"],  # any case, as in a CSV
            "quantity": [-10, -2500],
            "mark_price": [0.0345, None],
        }
    )
    from_frame = compute_margin(frame, load_market(market_path))
    assert from_frame.portfolio_margin == from_csv.portfolio_margin
    assert from_frame.positions["value"].tolist() == from_csv.positions["value"].tolist()


def test_a_frame_is_validated_like_a_csv():
    frame = pd.DataFrame({"instrument": ["BTC-PERPETUAL", "NOPE"], "quantity": ["x", 1]})
    with pytest.raises(InputError) as caught:
        Portfolio.from_frame(frame)
    assert [str(p) for p in caught.value.problems] == [
        "DataFrame row 0: column `quantity`: 'x' is not a finite number",
        "DataFrame row 1: column `instrument`: cannot read symbol 'NOPE': a bare coin is not "
        "an instrument; write NOPE_USDC for spot or NOPE-PERPETUAL for the perpetual",
    ]
    with pytest.raises(InputError, match=r"unknown column `qty`\. Did you mean `quantity`"):
        Portfolio.from_frame(pd.DataFrame({"instrument": ["BTC-PERPETUAL"], "qty": [1]}))


def test_dates_in_a_frame_are_expiry_dates_at_eight_utc():
    frame = pd.DataFrame(
        {
            "underlying": ["BTC", "BTC"],
            "kind": ["future", "future"],
            "expiry": [pd.Timestamp("2024-12-27"), pd.Timestamp("2024-12-27 16:00", tz="UTC")],
            "quantity": [1, 1],
        }
    )
    expiries = Portfolio.from_frame(frame).positions["expiry"].astype(str).tolist()
    assert expiries == ["2024-12-27 08:00:00", "2024-12-27 16:00:00"]


def test_collateral_per_account_and_a_market_from_a_dict():
    frame = pd.DataFrame(
        {"account": ["a", "b"], "instrument": ["BTC-PERPETUAL"] * 2, "quantity": [10, -10]}
    )
    book = Portfolio.from_frame(frame, {"a": {"USD": 1000}, "b": {"BTC": 0.5}})
    assert book.collateral == {"a": {"USD": 1000.0}, "b": {"BTC": 0.5}}
    market = Market.from_dict({"as_of": "2024-11-25", "underlyings": {"BTC": {"spot": 1e5}}})
    assert market.spot("BTC") == 1e5 and market.as_of.hour == 8
    with pytest.raises(InputError, match=r"dict: underlyings\.BTC: missing `spot`"):
        Market.from_dict({"as_of": "2024-11-25", "underlyings": {"BTC": {"vol": 0.5}}})
