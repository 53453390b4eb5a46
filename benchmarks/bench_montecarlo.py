"""Benchmark: a 10,000-path Monte Carlo stress of a 2,000-instrument, 100,000-position book.

Builds the book and the market in memory (no files), then times

* ``bind`` (positions -> distinct instruments, once);
* ``stress_book`` with a ``montecarlo`` set: drawing the correlated shocks, valuing every
  instrument under every path (in chunks), the book P&L, the P&L per underlying and VaR/ES;
* a raw numpy Black-76 kernel — the formula written inline with ``scipy.special.ndtr``, no
  pmargin code — doing the same instruments × paths evaluations on arrays of the same shape,
  both in one shot and in the same 2,000-path chunks as the engine; the faster is the baseline.

and prints the ratio stress / raw kernel (target ≤ 2×). Best of ``--repeat`` runs.

    python benchmarks/bench_montecarlo.py
    python benchmarks/bench_montecarlo.py --paths 2000 --positions 10000 --repeat 1
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone

import numpy as np
import pandas as pd
from scipy.special import ndtr

from pmargin.book import bind
from pmargin.market import Market, UnderlyingMarket
from pmargin.montecarlo import MonteCarloSet
from pmargin.portfolio import Portfolio
from pmargin.stress import CHUNK_SCENARIOS, stress_book

AS_OF = datetime(2024, 11, 25, 8, tzinfo=timezone.utc)
SPOTS = {"BTC": 95_000.0, "ETH": 3_400.0}
VOLS = {"BTC": 0.55, "ETH": 0.65}
EXPIRIES = [
    "2024-12-06",
    "2024-12-27",
    "2025-01-31",
    "2025-02-28",
    "2025-03-28",
    "2025-06-27",
    "2025-09-26",
    "2025-12-26",
]


def generate_instruments(count: int) -> pd.DataFrame:
    """``count`` distinct contracts: BTC (inverse) and ETH (linear) options over 8 expiries and
    strikes from 50% to 200% of spot, plus each coin's perpetual and dated futures."""
    linear = []
    for underlying in SPOTS:
        settlement = "inverse" if underlying == "BTC" else "linear"
        linear.append((underlying, "perpetual", pd.NaT, np.nan, "", settlement))
        linear += [
            (underlying, "future", pd.Timestamp(e), np.nan, "", settlement) for e in EXPIRIES
        ]
    per_chain = -(-(count - len(linear)) // (len(SPOTS) * len(EXPIRIES) * 2))
    options = []
    for underlying, spot in SPOTS.items():
        settlement = "inverse" if underlying == "BTC" else "linear"
        for strike in np.round(np.linspace(0.5, 2.0, per_chain) * spot, -1 if spot < 1e4 else -2):
            for expiry in EXPIRIES:
                for right in ("call", "put"):
                    options.append(
                        (underlying, "option", pd.Timestamp(expiry), strike, right, settlement)
                    )
    rows = linear + options[: count - len(linear)]
    frame = pd.DataFrame(
        rows, columns=["underlying", "kind", "expiry", "strike", "right", "settlement"]
    )
    frame["expiry"] = (frame["expiry"] + pd.Timedelta(hours=8)).astype("datetime64[s]")
    inverse_future = (frame["settlement"] == "inverse") & (frame["kind"] != "option")
    frame["multiplier"] = np.where(inverse_future, 10.0, 1.0)
    frame["instrument"] = [
        f"{u}-{k}-{e:%d%b%y}-{s:g}-{r}".upper() if k == "option" else f"{u}-{k}-{e}"
        for u, k, e, s, r in frame[["underlying", "kind", "expiry", "strike", "right"]].itertuples(
            index=False
        )
    ]
    return frame


def generate_portfolio(instruments: pd.DataFrame, positions: int, seed: int = 1) -> Portfolio:
    rng = np.random.default_rng(seed)
    pick = np.concatenate(
        [np.arange(len(instruments)), rng.integers(0, len(instruments), positions)]
    )[:positions]
    frame = instruments.iloc[pick].reset_index(drop=True)
    frame["quantity"] = rng.choice([-1.0, 1.0], positions) * rng.integers(1, 50, positions)
    frame["id"] = [f"p{i}" for i in range(positions)]
    frame["account"] = ""
    frame["mark_price"] = np.nan
    frame["entry_price"] = np.nan
    frame["is_order"] = False
    frame["source"] = "generated"
    return Portfolio(frame, source="generated")


def generate_market() -> Market:
    return Market(
        as_of=AS_OF,
        rate=0.0,
        underlyings={u: UnderlyingMarket(spot=SPOTS[u], vol=VOLS[u]) for u in SPOTS},
        correlations={("BTC", "ETH"): 0.85, ("ETH", "BTC"): 0.85},
        source="generated",
    )


def raw_black76(forward, strike, time, vol, discount, is_call):
    """Black-76 on arrays, inline: the baseline the engine is compared with."""
    stdev = vol * np.sqrt(time)
    d1 = np.log(forward / strike) / stdev + 0.5 * stdev
    d2 = d1 - stdev
    call = forward * ndtr(d1) - strike * ndtr(d2)
    put = strike * ndtr(-d2) - forward * ndtr(-d1)
    return discount * np.where(is_call, call, put)


def best_of(repeat: int, run) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        value = run()
        best = min(best, time.perf_counter() - start)
    return best, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instruments", type=int, default=2_000)
    parser.add_argument("--positions", type=int, default=100_000)
    parser.add_argument("--paths", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    instruments = generate_instruments(args.instruments)
    portfolio = generate_portfolio(instruments, args.positions)
    market = generate_market()
    mc = MonteCarloSet("mc", paths=args.paths, horizon_days=2, distribution="student_t", df=4)

    bind_time, book = best_of(args.repeat, lambda: bind(portfolio, market))
    table = book.instruments

    def stress():
        result = stress_book(book, [mc])
        s = result.sets[0]
        return s.pnl, s.by_underlying, s.tail_risk

    stress_time, (pnl, _, tail) = best_of(args.repeat, stress)
    evaluations = len(table) * args.paths

    # the same evaluations as inputs of the raw kernel: one forward per instrument and path
    shocks = mc.shocks(table.underlyings, market)
    factor = 1.0 + shocks.spot[table.underlying_index]  # (I, S)
    forward = table.forward[:, None] * factor
    strike = np.where(table.is_option, table.strike, table.forward)[:, None]
    expiry = np.where(table.time > 0, table.time, 30 / 365)[:, None]
    vol = np.where(table.is_option, table.vol, VOLS["BTC"])[:, None]
    discount = np.exp(-table.rate[:, None] * expiry)
    is_call = np.where(table.is_option, table.is_call, True)[:, None]

    def raw_one_shot():
        return raw_black76(forward, strike, expiry, vol, discount, is_call)

    def raw_chunked():
        out = np.empty_like(forward)
        for start in range(0, args.paths, CHUNK_SCENARIOS):
            stop = start + CHUNK_SCENARIOS
            out[:, start:stop] = raw_black76(
                forward[:, start:stop], strike, expiry, vol, discount, is_call
            )
        return out

    one_shot_time, _ = best_of(args.repeat, raw_one_shot)
    chunked_time, _ = best_of(args.repeat, raw_chunked)
    kernel_time = min(one_shot_time, chunked_time)

    print(
        f"book: {len(portfolio.positions):,} positions, {len(table):,} distinct instruments "
        f"({int(table.is_option.sum()):,} options), {args.paths:,} Monte Carlo paths "
        f"= {evaluations / 1e6:.0f}M instrument evaluations"
    )
    rows = [
        ("bind (once)", bind_time),
        ("stress_book: shocks, valuation, P&L, by underlying, VaR/ES", stress_time),
        ("raw Black-76 kernel, one shot", one_shot_time),
        (f"raw Black-76 kernel, {CHUNK_SCENARIOS:,}-path chunks", chunked_time),
    ]
    for label, seconds in rows:
        print(f"{label:<62}{seconds:8.3f} s")
    print(f"{'ratio stress / raw kernel (target ≤ 2x)':<62}{stress_time / kernel_time:8.2f}x")
    print(
        f"VaR 99% {tail.var_99:,.0f} USD, ES 99% {tail.es_99:,.0f} USD, "
        f"worst path {-pnl.min():,.0f} USD loss"
    )


if __name__ == "__main__":
    main()
