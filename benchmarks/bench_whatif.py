"""Benchmark: 1,000 candidate single trades on the 100,000-position book, against one compute.

Generates the book of ``bench_engine.py`` (N positions over M distinct instruments) and a file
of T single trades — most in instruments the book holds, one in ten in a new strike — then
times, best of ``--repeat``:

* one ``compute_margin`` of the book (bind + margin, the work of ``pmargin compute``);
* one ``what_if`` with all T trades: bind of the book and the trades, margin before, and the
  margin of the book with all trades and with each trade alone (T + 2 candidate books);

and prints the ratio what_if / compute (target: under 3x). Reading files is timed apart.

    python benchmarks/bench_whatif.py                      # deribit, 100k positions, 1,000 trades
    python benchmarks/bench_whatif.py --model span --trades 5000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_engine import MARKET, best_of, generate_book

from pmargin import compute_margin, load_market, load_portfolio
from pmargin.io.model_file import load_model
from pmargin.io.trades import load_trades
from pmargin.whatif import what_if


def write_trades(folder: Path, book: Path, count: int, seed: int = 2) -> Path:
    """``count`` single trades: nine in ten in an instrument of ``book``, the rest new strikes."""
    rng = np.random.default_rng(seed)
    rows = book.read_text().splitlines()[1:]
    contracts = sorted({row.rsplit(",", 1)[0] for row in rows})
    lines = ["underlying,kind,expiry,strike,right,settlement,quantity"]
    for i in range(count):
        quantity = round(float(rng.normal(0, 5)), 2) or 1.0
        if i % 10 == 9:
            underlying, spot = ("BTC", 95000) if i % 20 == 9 else ("ETH", 3400)
            strike = round(spot * rng.uniform(0.6, 1.6), 0)
            lines.append(f"{underlying},option,2025-02-28,{strike},call,linear,{quantity}")
        else:
            lines.append(f"{contracts[rng.integers(len(contracts))]},{quantity}")
    path = folder / "trades.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=100_000)
    parser.add_argument("--instruments", type=int, default=2_000)
    parser.add_argument("--trades", type=int, default=1_000)
    parser.add_argument("--model", default="deribit")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        book_path = generate_book(folder, args.positions, args.instruments)
        trades_path = write_trades(folder, book_path, args.trades)
        # the var model's Monte Carlo paths need a correlation
        (folder / "market.yaml").write_text(MARKET + "correlations:\n  BTC: {ETH: 0.8}\n")
        portfolio = load_portfolio(book_path)
        market = load_market(folder / "market.yaml")
        start = time.perf_counter()
        trades = load_trades([str(trades_path)])
        parse_s = time.perf_counter() - start
    model = load_model(args.model)

    compute_s = best_of(lambda: compute_margin(portfolio, market, model), args.repeat)
    whatif_s = best_of(lambda: what_if(portfolio, market, model, trades), args.repeat)
    result = what_if(portfolio, market, model, trades)
    increments = result.trades["incremental_margin"].to_numpy()

    print(
        f"book: {len(portfolio.positions):,} positions, {args.trades:,} candidate single trades, "
        f"model {model.name}"
    )
    print(f"read trades CSV           {parse_s * 1e3:9.1f} ms")
    print(f"one compute (bind+margin) {compute_s * 1e3:9.1f} ms")
    print(
        f"what_if, all trades       {whatif_s * 1e3:9.1f} ms  ({args.trades + 2:,} candidate books)"
    )
    print(f"ratio what_if / compute   {whatif_s / compute_s:9.2f}x   (target < 3x)")
    print(
        f"margin before {result.before.initial_margin:,.0f} USD; trades that reduce it: "
        f"{(increments < 0).sum():,} of {len(increments):,}"
    )


if __name__ == "__main__":
    main()
