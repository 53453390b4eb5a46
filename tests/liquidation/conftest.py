"""Shared pieces of the liquidation tests: the bundled samples, and a plan's trades applied to a
portfolio by hand (independently of the library's own book after the plan).

This folder is a package (``__init__.py``) so that this conftest does not shadow the top-level
``conftest`` module that other tests import from.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pmargin import load_market, load_portfolio

SAMPLES = Path(__file__).resolve().parents[2] / "sample_portfolios"


@pytest.fixture
def short_puts():
    return load_portfolio(SAMPLES / "short_puts_btc.yaml")


@pytest.fixture
def sample_market():
    return load_market(SAMPLES / "market.yaml")


@pytest.fixture
def crash_market(sample_market):
    """The sample market after BTC falls 25%."""
    return sample_market.with_spot_scaled("BTC", 0.75)


@pytest.fixture
def apply_steps(write):
    """apply_steps(document, steps, upto=None) -> path of a portfolio YAML: ``document`` (a
    portfolio YAML as a dict, one account, USD-settled) with the plan's trades appended as
    positions at the step's price and their cost and fee taken from USD cash.

    Futures trades enter at their price (so they are worth 0); options and spot trades are worth
    quantity × price and cost the same in cash; a collateral sale moves coins into USD; open
    orders are dropped once a step cancels them.
    """

    def _apply(document: dict, steps: list[dict], upto: int | None = None) -> Path:
        document = yaml.safe_load(yaml.safe_dump(document))  # a deep copy
        collateral = document.setdefault("collateral", {})
        collateral.setdefault("USD", 0.0)
        for step in steps[:upto]:
            if step["action"] == "cancel_orders":
                document.pop("orders", None)
                continue
            quantity, price, fee = step["quantity"], step["price"], step["fee"]
            instrument = step["instrument"]
            collateral["USD"] -= fee
            if instrument.endswith(" (collateral)"):
                coin = instrument.split()[0]
                collateral[coin] += quantity
                collateral["USD"] -= quantity * price
                continue
            is_future = instrument.endswith("PERPETUAL") or instrument.count("-") == 1
            row = {"instrument": instrument, "quantity": quantity}
            if is_future:
                row["entry_price"] = price
            else:  # an option or spot: worth quantity × price (1 coin a contract here)
                collateral["USD"] -= quantity * price
            document["positions"].append(row)
        return write("applied.yaml", yaml.safe_dump(document))

    return _apply
