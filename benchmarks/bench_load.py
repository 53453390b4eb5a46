"""Benchmark: loading a large portfolio CSV, as a process, beside a bare ``pandas.read_csv``.

Generates N positions over A accounts and M distinct instruments (exchange symbols: BTC/ETH
inverse and linear options over six expiries, futures and perpetuals), then runs, each as a
fresh Python process (imports included, as a user pays them):

* ``pmargin``: ``pmargin.load_portfolio(FILE)`` — read, validate every cell, build the columns;
* ``read_csv``: ``pandas.read_csv(FILE)`` — the floor: parse the same file, check nothing;

and prints the wall time and peak memory (max RSS) of each and their ratio. It also times
``pmargin --version`` (which must not import pandas or scipy).

    python benchmarks/bench_load.py                          # 1,000,000 rows, 100k accounts
    python benchmarks/bench_load.py --positions 100000 --accounts 1
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

EXPIRIES = ["27DEC24", "31JAN25", "28MAR25", "27JUN25", "26SEP25", "26DEC25"]


def instruments(count: int) -> list[str]:
    """``count`` distinct exchange symbols."""
    symbols: dict[str, None] = {}
    i = 0
    while len(symbols) < count:
        coin, spot = ("BTC", 95000) if i % 2 == 0 else ("ETH", 3400)
        expiry = EXPIRIES[i % len(EXPIRIES)]
        if i % 100 == 0:
            symbol = f"{coin}-{expiry}"
        elif i % 100 == 1:
            symbol = f"{coin}-PERPETUAL" if i % 200 == 1 else f"{coin}_USDC-PERPETUAL"
        else:
            strike = int(spot * (0.5 + (i % 997) / 997))
            quote = "" if i % 3 else "_USDC"
            symbol = f"{coin}{quote}-{expiry}-{strike}-{'C' if i % 2 else 'P'}"
        symbols[symbol] = None
        i += 1
    return list(symbols)


def generate(path: Path, positions: int, accounts: int, distinct: int, seed: int = 7) -> None:
    """Write the CSV in blocks (a million rows never sit in one Python list)."""
    rng = np.random.default_rng(seed)
    names = np.array(instruments(distinct))
    with path.open("w") as out:
        out.write("account,instrument,quantity\n")
        for start in range(0, positions, 200_000):
            n = min(200_000, positions - start)
            account = rng.integers(0, accounts, n)
            symbol = names[rng.integers(0, distinct, n)]
            quantity = np.round(rng.normal(0, 10, n), 1)
            out.writelines(f"acct-{a:06d},{s},{q}\n" for a, s, q in zip(account, symbol, quantity))


def run(code: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of a fresh process running ``code``."""
    started = time.perf_counter()
    process = subprocess.Popen(code, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{code} failed")
    return elapsed, usage.ru_maxrss / 1024


def best(code: list[str], repeat: int) -> tuple[float, float]:
    runs = [run(code) for _ in range(repeat)]
    return min(t for t, _ in runs), max(m for _, m in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--instruments", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book.csv"
        generate(path, args.positions, args.accounts, args.instruments)
        size = path.stat().st_size / 1e6
        print(
            f"{args.positions:,} positions, {args.accounts:,} accounts, "
            f"{args.instruments:,} instruments: {size:.0f} MB"
        )
        python = sys.executable
        load = f"import pmargin; p = pmargin.load_portfolio({str(path)!r}); print(len(p.positions))"
        floor = f"import pandas; print(len(pandas.read_csv({str(path)!r})))"
        pmargin_time, pmargin_rss = best([python, "-c", load], args.repeat)
        floor_time, floor_rss = best([python, "-c", floor], args.repeat)
        version_time, version_rss = best([python, "-m", "pmargin", "--version"], args.repeat)
        print(f"{'':28}{'wall':>9}{'peak RSS':>12}")
        print(f"{'pmargin load_portfolio':28}{pmargin_time:8.2f}s{pmargin_rss:9.0f} MB")
        print(f"{'pandas.read_csv':28}{floor_time:8.2f}s{floor_rss:9.0f} MB")
        print(f"{'ratio':28}{pmargin_time / floor_time:8.2f}x{pmargin_rss / floor_rss:10.2f}x")
        print(f"{'pmargin --version':28}{version_time:8.2f}s{version_rss:9.0f} MB")


if __name__ == "__main__":
    main()
