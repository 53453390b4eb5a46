"""Benchmark: a liquidation plan and liquidation prices for one large account in trouble.

Builds in memory (no files) one account holding ``--options`` short BTC and ETH options over
8 expiries and a range of strikes, a short BTC and a short ETH perpetual, BTC and ETH collateral
and a USD debit chosen so that equity is 60% of maintenance margin, then times

* one ``compute`` of the account (bind, margin, values), for reference;
* ``liquidate`` risk-reducing and proportional (liquidation prices left out), with the number
  of engine calls: the model's scenarios are priced once per account, every later candidate
  and step is margined from that (instruments × scenarios) matrix;
* the liquidation prices (each trial spot is a full margin run: they are priced afresh).

    python benchmarks/bench_liquidation.py
    python benchmarks/bench_liquidation.py --options 1000 --model var
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from datetime import datetime, timezone
from unittest import mock

import numpy as np
import pandas as pd

import pmargin.engine as engine
from pmargin import liquidation
from pmargin.io.model_file import load_model
from pmargin.market import Market, UnderlyingMarket
from pmargin.portfolio import INSTRUMENT_KEY, POSITION_COLUMNS, Portfolio
from pmargin.portfolio_margin import compute_margin, liquidation_prices

AS_OF = datetime(2024, 11, 25, 8, tzinfo=timezone.utc)
SPOTS = {"BTC": 95_000.0, "ETH": 3_400.0}
VOLS = {"BTC": 0.55, "ETH": 0.65}
EXPIRY_DATES = ["2024-12-06", "2024-12-27", "2025-01-31", "2025-02-28", "2025-03-28"]
EXPIRY_DATES += ["2025-06-27", "2025-09-26", "2025-12-26"]
EXPIRIES = pd.to_datetime(EXPIRY_DATES) + pd.Timedelta(hours=8)


def account(options: int) -> Portfolio:
    rows = []
    per_chain = max(options // (len(SPOTS) * len(EXPIRIES)), 1)
    for underlying, spot in SPOTS.items():
        settlement = "inverse" if underlying == "BTC" else "linear"
        for expiry in EXPIRIES:
            for i, strike in enumerate(np.linspace(0.6 * spot, 1.5 * spot, per_chain)):
                right = "put" if strike < spot else "call"
                quantity = -1.0 - i % 3
                rows.append(
                    (underlying, "option", expiry, round(strike), right, 1.0, settlement, quantity)
                )
        face = 10.0 if underlying == "BTC" else 1.0
        rows.append(
            (underlying, "perpetual", pd.NaT, np.nan, "", face, "inverse", -20_000.0 / face)
        )
    frame = pd.DataFrame(rows, columns=[*INSTRUMENT_KEY, "quantity"])
    frame["expiry"] = frame["expiry"].astype("datetime64[s]")
    frame["id"] = [f"p{i}" for i in range(len(frame))]
    frame["account"] = "big"
    frame["mark_price"] = np.nan
    frame["entry_price"] = np.nan
    frame["is_order"] = False
    frame["instrument"] = frame["id"]
    frame["source"] = "generated"
    return Portfolio(frame[list(POSITION_COLUMNS)], {"big": {"BTC": 30.0, "ETH": 400.0}}, "gen")


def market() -> Market:
    return Market(
        as_of=AS_OF,
        rate=0.0,
        underlyings={u: UnderlyingMarket(spot=s, vol=VOLS[u]) for u, s in SPOTS.items()},
        correlations={("BTC", "ETH"): 0.85, ("ETH", "BTC"): 0.85},
        source="generated",
    )


def timed(function, repeat: int):
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--options", type=int, default=400)
    parser.add_argument("--model", default="deribit")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    model, snapshot = load_model(args.model), market()
    book = account(args.options)
    before = compute_margin(book, snapshot, model)
    cash = 0.6 * before.maintenance_margin - before.equity  # equity at 60% of maintenance
    book.collateral["big"]["USD"] = cash
    seconds, result = timed(lambda: compute_margin(book, snapshot, model), args.repeat)
    print(f"{len(book.positions):,} positions, model {model.name}: equity "
          f"{result.equity:,.0f}, maintenance margin {result.maintenance_margin:,.0f}")  # fmt: skip
    print(f"compute                      {seconds * 1000:8.1f} ms")
    calls = []
    counted = engine.instrument_pnl

    def counting(table, shocks):
        calls.append((len(table), shocks.count))
        return counted(table, shocks)

    without_prices = mock.patch.object(liquidation, "_account_liquidation_prices", lambda *a: {})
    # every module that imported the engine's instrument_pnl (models price through it)
    pricers = [
        m
        for m in list(sys.modules.values())
        if getattr(m, "__name__", "").startswith("pmargin")
        and getattr(m, "instrument_pnl", None) is counted
    ]
    for mode in ("risk-reducing", "proportional"):
        with contextlib.ExitStack() as patches:
            patches.enter_context(without_prices)
            for module in pricers:
                patches.enter_context(mock.patch.object(module, "instrument_pnl", counting))
            calls.clear()
            seconds, plan = timed(
                lambda mode=mode: liquidation.liquidate(book, snapshot, model, mode=mode), 1
            )
        plan_account = plan.accounts[0]
        print(
            f"liquidate {mode:<14}     {seconds * 1000:8.1f} ms  {len(plan_account.steps):,} "
            f"steps, restored {plan_account.restored}, engine calls {len(calls)} "
            + (f" ({calls[0][0]:,} instruments × {calls[0][1]:,} scenarios)" if calls else "")
        )
    seconds, prices = timed(lambda: liquidation_prices(book, snapshot, model), 1)

    def shown(price):
        return "none" if price is None else f"{price:,.0f}"

    text = ", ".join(f"{u} down {shown(p.down)} up {shown(p.up)}" for u, p in prices.items())
    print(f"liquidation prices           {seconds * 1000:8.1f} ms  ({text})")


if __name__ == "__main__":
    main()
