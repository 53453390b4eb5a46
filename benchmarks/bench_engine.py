"""Benchmark: load → bind → price → margin for a large generated book.

Generates N positions over M distinct instruments (BTC/ETH options over several expiries and
strikes, plus futures and perpetuals) and a grid of S scenarios, then times each stage. Beside
the engine it times a raw numpy Black-76 kernel doing the same number of option evaluations
(M × S, inline formula, no pmargin code) and prints the ratio engine / kernel.

    python benchmarks/bench_engine.py        # 100k positions, 2k instruments, 40 scenarios
    python benchmarks/bench_engine.py --positions 10000 --instruments 500 --scenarios 100
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.special import ndtr

from pmargin import load_market, load_portfolio
from pmargin.book import bind
from pmargin.engine import value
from pmargin.io.model_file import load_model
from pmargin.portfolio_margin import margin_for_book
from pmargin.scenarios import grid_set

MARKET = """\
as_of: 2024-11-25T08:00:00Z
rate: 0.0
underlyings:
  BTC: {spot: 95000, vol: 0.55}
  ETH: {spot: 3400, vol: 0.65}
"""
EXPIRIES = ["2024-12-27", "2025-01-31", "2025-03-28", "2025-06-27", "2025-09-26", "2025-12-26"]


def generate_book(folder: Path, positions: int, instruments: int, seed: int = 1) -> Path:
    """Write a CSV of ``positions`` rows over ``instruments`` distinct contracts."""
    rng = np.random.default_rng(seed)
    rows: dict[str, None] = {}  # distinct contracts, in order
    i = 0
    while len(rows) < instruments:
        underlying, spot = ("BTC", 95000) if i % 2 == 0 else ("ETH", 3400)
        expiry = EXPIRIES[i % len(EXPIRIES)]
        if i % 200 == 0:
            row = f"{underlying},future,{expiry},,,linear"
        elif i % 200 == 1:
            row = f"{underlying},perpetual,,,,{'inverse' if i % 400 == 1 else 'linear'}"
        else:
            strike = round(spot * (0.5 + i / instruments), 2)
            right = "call" if i % 3 else "put"
            settle = "inverse" if i % 4 == 0 else "linear"
            row = f"{underlying},option,{expiry},{strike},{right},{settle}"
        rows[row] = None
        i += 1
    rows = list(rows)
    pick = rng.integers(0, len(rows), positions)
    quantity = np.round(rng.normal(0, 10, positions), 2)
    lines = ["underlying,kind,expiry,strike,right,settlement,quantity"]
    lines += [f"{rows[p]},{q}" for p, q in zip(pick, quantity)]
    path = folder / "book.csv"
    path.write_text("\n".join(lines) + "\n")
    (folder / "market.yaml").write_text(MARKET)
    return path


def raw_black76(forward, strike, time_, vol, is_call):
    """Black-76 (rate 0) written out with numpy, the yardstick for the engine."""
    stdev = vol * np.sqrt(time_)
    d1 = np.log(forward / strike) / stdev + 0.5 * stdev
    d2 = d1 - stdev
    call = forward * ndtr(d1) - strike * ndtr(d2)
    return np.where(is_call, call, call - (forward - strike))


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=100_000)
    parser.add_argument("--instruments", type=int, default=2_000)
    parser.add_argument("--scenarios", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = generate_book(Path(tmp), args.positions, args.instruments)
        start = time.perf_counter()
        portfolio = load_portfolio(path)
        market = load_market(Path(tmp) / "market.yaml")
        load_s = time.perf_counter() - start
    start = time.perf_counter()
    book = bind(portfolio, market)
    bind_s = time.perf_counter() - start
    table = book.instruments
    vol_points = 4
    spot_points = max(args.scenarios // vol_points, 1)
    grid = grid_set(
        "bench",
        list(np.linspace(-0.3, 0.3, spot_points)),
        list(np.linspace(-0.25, 0.5, vol_points)),
    )
    shocks = grid.shocks(table.underlyings)
    evaluations = len(table) * shocks.count
    options = int(table.is_option.sum())

    def engine():
        valuation = value(book, shocks)
        return valuation.pnl, valuation.by_underlying()

    engine_s = best_of(engine, args.repeat)
    model = load_model("deribit")
    margin_s = best_of(lambda: margin_for_book(book, model), args.repeat)
    derive = load_model("derive")
    derive_s = best_of(lambda: margin_for_book(book, derive), args.repeat)

    # the raw kernel: the same number of evaluations, on arrays shaped like the engine's
    rng = np.random.default_rng(0)
    f = 95000 * rng.uniform(0.7, 1.3, (len(table), shocks.count))
    k = 95000 * rng.uniform(0.5, 1.5, (len(table), 1))
    t = rng.uniform(0.05, 1.0, (len(table), 1))
    v = rng.uniform(0.3, 0.9, (len(table), shocks.count))
    c = rng.random((len(table), 1)) < 0.5
    kernel_s = best_of(lambda: raw_black76(f, k, t, v, c), args.repeat)

    print(
        f"book: {len(portfolio.positions):,} positions, {len(table):,} distinct instruments "
        f"({options:,} options), {shocks.count} scenarios = {evaluations:,} evaluations"
    )
    print(f"load CSV + market        {load_s * 1e3:9.1f} ms")
    print(f"bind (instruments)       {bind_s * 1e3:9.1f} ms")
    print(
        f"engine: price + P&L      {engine_s * 1e3:9.2f} ms  "
        f"{evaluations / engine_s / 1e6:7.2f} M evals/s"
    )
    print(
        f"raw Black-76 kernel      {kernel_s * 1e3:9.2f} ms  "
        f"{evaluations / kernel_s / 1e6:7.2f} M evals/s"
    )
    print(f"ratio engine / kernel    {engine_s / kernel_s:9.2f}x   (target ≤ 1.5x)")
    print(f"deribit margin (35 scen., + isolated, greeks, values) {margin_s * 1e3:7.1f} ms")
    print(f"derive margin (31 scen. + 3, + isolated, greeks, values) {derive_s * 1e3:7.1f} ms")


if __name__ == "__main__":
    main()
