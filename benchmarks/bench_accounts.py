"""Benchmark: ``pmargin compute`` end to end on many accounts, beside a bare ``pandas.read_csv``.

Generates 1,000,000 positions across 100,000 accounts on 2,000 distinct instruments (BTC and ETH
options, dated futures, inverse and linear perpetuals; exchange symbols in an ``instrument``
column), and 100,000 positions in one account. Each case runs as a fresh process and is measured
from outside (wall time, and the peak resident memory of the child from ``getrusage``):

* ``pmargin compute FILE --by-account --format json --output F`` (1M positions, 100k accounts),
  with the local engine and with ``--engine dask`` (a local cluster of 2 workers, started and
  stopped inside the run);
* ``pmargin compute FILE --format json --output F`` (100k positions, one account);
* ``python -c "import pandas; pandas.read_csv(FILE)"`` on the same files, the yardstick:
  targets are ≤ 3x its wall time and < 2 GB peak.

It then times the stages of the 1M run in one process (imports, loading the CSV, binding to the
market, margining, writing the JSON), so the report can say how much is loading.

pmargin's modules are compiled to bytecode first, as a regular install does (pip compiles them
when it installs): an editable install under ``PYTHONDONTWRITEBYTECODE=1`` would otherwise
compile its ~60 modules from source at every start (~50 ms on the 2-core machine), a cost
pandas, installed normally, does not pay in the baseline. ``--no-compile`` leaves that out.

    python benchmarks/bench_accounts.py                     # the full sizes (a few minutes)
    python benchmarks/bench_accounts.py --positions 100000 --accounts 10000 --repeat 1
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

MARKET = """\
as_of: 2024-11-25T08:00:00Z
rate: 0.0
underlyings:
  BTC: {spot: 95000, vol: 0.55}
  ETH: {spot: 3400, vol: 0.65}
correlations:
  BTC: {ETH: 0.85}
"""
MONTHS = ("27DEC24", "31JAN25", "28MAR25", "27JUN25", "26SEP25", "26DEC25")

#: runs a command and prints its wall time and the child's peak RSS (KB on Linux) as JSON
MEASURE = textwrap.dedent(
    """
    import json, resource, subprocess, sys, time
    start = time.perf_counter()
    done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"wall": wall, "peak_kb": peak, "code": done.returncode,
                      "stderr": done.stderr.decode()[-2000:]}))
    """
)

#: the stages of one compute run, timed in one fresh process
STAGES = textwrap.dedent(
    """
    import json, sys, time
    start = time.perf_counter()
    from pmargin.book import bind
    from pmargin.io.market_file import load_market
    from pmargin.io.model_file import load_model
    from pmargin.io.portfolio_file import load_portfolio
    from pmargin.portfolio_margin import margin_for_book
    from pmargin.report import to_json
    from pmargin.report.margin import margin_dict
    times = {"imports": time.perf_counter() - start}
    path, market_path, by_account = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
    mark = time.perf_counter()
    portfolio = load_portfolio(path)
    market = load_market(market_path)
    times["load"] = time.perf_counter() - mark; mark = time.perf_counter()
    book = bind(portfolio, market)
    times["bind"] = time.perf_counter() - mark; mark = time.perf_counter()
    result = margin_for_book(book, load_model("deribit"))
    times["margin"] = time.perf_counter() - mark; mark = time.perf_counter()
    data = margin_dict(result, positions=not by_account, accounts=by_account)
    text = to_json(data)
    times["json"] = time.perf_counter() - mark
    print(json.dumps(times))
    """
)


#: a floor for any pandas-based run, timed in one fresh process: importing the libraries, reading
#: the CSV, factorizing its two text columns and parsing the numbers, encoding as many numbers
#: as the result holds (orjson, from one numpy array: no labels, no keys), and writing and
#: syncing as many bytes as the result's JSON
FLOOR = textwrap.dedent(
    """
    import json, os, sys, time
    start = time.perf_counter()
    import numpy as np, orjson, pandas as pd, scipy.sparse, scipy.special, typer, yaml
    times = {"imports": time.perf_counter() - start}
    path, rows, fields, size, out = sys.argv[1], *map(int, sys.argv[2:5]), sys.argv[5]
    mark = time.perf_counter()
    frame = pd.read_csv(path, dtype=object, keep_default_na=False, na_filter=False)
    times["read_csv"] = time.perf_counter() - mark; mark = time.perf_counter()
    for column in ("account", "instrument"):
        pd.factorize(frame[column].to_numpy(object))
    pd.to_numeric(frame["quantity"])
    times["factorize"] = time.perf_counter() - mark; mark = time.perf_counter()
    numbers = np.random.default_rng(0).lognormal(10, 3, size=(rows, fields))
    orjson.dumps(numbers, option=orjson.OPT_SERIALIZE_NUMPY)
    times["encode"] = time.perf_counter() - mark; mark = time.perf_counter()
    with open(out, "wb") as stream:
        stream.write(b" " * size)
        stream.flush()
        os.fsync(stream.fileno())
    times["write"] = time.perf_counter() - mark
    print(json.dumps(times))
    """
)


def instrument_symbols(count: int, rng: np.random.Generator) -> list[str]:
    """``count`` distinct exchange symbols: mostly options, some futures and perpetuals."""
    symbols: dict[str, None] = {}
    fixed = [
        "BTC-PERPETUAL",
        "ETH-PERPETUAL",
        "BTC_USDC-PERPETUAL",
        "ETH_USDC-PERPETUAL",
        *(f"{u}-{m}" for u in ("BTC", "ETH") for m in MONTHS),
    ]
    symbols.update(dict.fromkeys(fixed[:count]))
    while len(symbols) < count:
        underlying, spot, step = ("BTC", 95000, 1000) if rng.random() < 0.6 else ("ETH", 3400, 50)
        strike = round(spot * rng.uniform(0.5, 1.6) / step) * step
        month = MONTHS[rng.integers(len(MONTHS))]
        right = "C" if rng.random() < 0.5 else "P"
        prefix = underlying if rng.random() < 0.5 else f"{underlying}_USDC"  # inverse or linear
        symbols[f"{prefix}-{month}-{strike}-{right}"] = None
    return list(symbols)


def generate(path: Path, positions: int, accounts: int, instruments: int, seed: int = 1) -> Path:
    """A CSV of ``positions`` rows over ``instruments`` symbols in ``accounts`` accounts, with
    market.yaml beside it."""
    rng = np.random.default_rng(seed)
    symbols = np.asarray(instrument_symbols(instruments, rng), dtype=object)
    pick = rng.integers(0, len(symbols), positions)
    pick[: len(symbols)] = np.arange(min(len(symbols), positions))  # every instrument is held
    quantity = np.round(rng.normal(0, 10, positions), 1)
    quantity[quantity == 0] = 1.0
    perpetual = np.char.endswith(symbols[pick].astype(str), "-PERPETUAL")
    inverse_future = np.char.count(symbols[pick].astype(str), "-") == 1
    quantity[perpetual | inverse_future] *= 1000  # inverse contracts are 10 or 1 USD each
    frame = pd.DataFrame(
        {
            "account": np.char.add(
                "acct-", np.char.zfill(np.sort(rng.integers(0, accounts, positions)).astype(str), 6)
            )
            if accounts > 1
            else "desk",
            "instrument": symbols[pick],
            "quantity": quantity,
        }
    )
    if accounts > 1:  # every account holds something
        frame.loc[: accounts - 1, "account"] = [f"acct-{i:06d}" for i in range(accounts)]
        frame = frame.sort_values("account", kind="stable")
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    (path.parent / "market.yaml").write_text(MARKET)
    return path


def measure(command: list[str], repeat: int) -> dict:
    """Median wall time (s) and peak memory (MB) of ``command`` over ``repeat`` fresh runs."""
    runs = []
    for _ in range(repeat):
        output = subprocess.run(
            [sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, check=True
        )
        run = json.loads(output.stdout)
        if run["code"] != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{run['stderr']}")
        runs.append(run)
    return {
        "wall": statistics.median(r["wall"] for r in runs),
        "peak_mb": max(r["peak_kb"] for r in runs) / 1024,
    }


def stages(path: Path, by_account: bool) -> dict[str, float]:
    output = subprocess.run(
        [
            sys.executable,
            "-c",
            STAGES,
            str(path),
            str(path.parent / "market.yaml"),
            str(int(by_account)),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(output.stdout)


def byte_compile() -> None:
    """Compile pmargin's modules to bytecode (``__pycache__``, ignored by git), as pip does when
    it installs a package."""
    (folder,) = importlib.util.find_spec("pmargin").submodule_search_locations
    if not compileall.compile_dir(folder, quiet=1):
        raise SystemExit(f"cannot compile the modules under {folder}")


def result_shape(out: Path) -> tuple[int, int]:
    """Rows of the result's list (accounts, else positions) and the numbers in its first row."""
    data = json.loads(out.read_text())
    rows = data.get("accounts") or data.get("positions") or [{}]

    def numbers(value) -> int:
        if isinstance(value, dict):
            return sum(numbers(v) for v in value.values())
        return int(isinstance(value, (int, float)) and not isinstance(value, bool))

    return len(rows), numbers(rows[0])


def floor(path: Path, out: Path, repeat: int) -> dict:
    """The :data:`FLOOR` process for the result in ``out``: median wall, and its stages."""
    rows, fields = result_shape(out)
    size = out.stat().st_size
    sink = out.with_name("floor.out")
    command = [sys.executable, "-c", FLOOR, str(path), str(rows), str(fields), str(size), sink]
    run = measure([str(c) for c in command], repeat)
    stages = subprocess.run([str(c) for c in command], capture_output=True, text=True, check=True)
    return {**run, "stages": json.loads(stages.stdout), "rows": rows, "fields": fields}


def report(name: str, run: dict, baseline: dict) -> None:
    ratio = run["wall"] / baseline["wall"]
    print(f"{name:<58} {run['wall']:8.2f} s {run['peak_mb']:8.0f} MB {ratio:7.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--instruments", type=int, default=2_000)
    parser.add_argument("--single", type=int, default=100_000, help="positions in one account")
    parser.add_argument("--repeat", type=int, default=5, help="runs per case (median wall)")
    parser.add_argument("--skip-dask", action="store_true", help="leave out --engine dask")
    parser.add_argument(
        "--no-compile", action="store_true", help="run pmargin without compiling it to bytecode"
    )
    args = parser.parse_args()
    if not args.no_compile:
        byte_compile()
    pmargin = [sys.executable, "-m", "pmargin"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        many = generate(
            folder / "many" / "book.csv", args.positions, args.accounts, args.instruments
        )
        one = generate(folder / "one" / "book.csv", args.single, 1, args.instruments)
        out = str(folder / "out.json")
        print(
            f"{args.positions:,} positions in {args.accounts:,} accounts on {args.instruments:,} "
            f"instruments ({many.stat().st_size / 1e6:.0f} MB CSV); {args.single:,} positions "
            f"in one account; median of {args.repeat} runs each; pmargin "
            f"{'not ' if args.no_compile else ''}compiled to bytecode\n"
        )
        print(f"{'case':<58} {'wall':>10} {'peak':>11} {'vs read_csv':>8}")
        print("(peak: the largest process of the run, e.g. one Dask worker)")
        for path, label, extra in (
            (many, f"{args.positions:,} positions, {args.accounts:,} accounts", ["--by-account"]),
            (one, f"{args.single:,} positions, one account", []),
        ):
            baseline = measure(
                [sys.executable, "-c", f"import pandas; pandas.read_csv({str(path)!r})"],
                args.repeat,
            )
            report(f"read_csv ({label})", baseline, baseline)
            command = [*pmargin, "compute", str(path), *extra, "--format", "json", "--output", out]
            name = " ".join(["pmargin compute", *extra, "--format json (local)"])
            report(name, measure(command, args.repeat), baseline)
            least = floor(path, Path(out), args.repeat)
            report("  floor: imports, read, factorize, encode, write", least, baseline)
            parts = ", ".join(f"{k} {v:.2f}" for k, v in least["stages"].items())
            print(f"    ({parts} s; {least['rows']:,} rows x {least['fields']} numbers)")
            if extra and not args.skip_dask:
                dask = measure([*command, "--engine", "dask"], args.repeat)
                report("  the same with --engine dask (2 local workers)", dask, baseline)
        for path, by_account, label in (
            (many, True, f"{args.positions:,} positions / {args.accounts:,} accounts"),
            (one, False, f"{args.single:,} positions / one account"),
        ):
            times = stages(path, by_account)
            total = sum(times.values())
            parts = ", ".join(f"{k} {v:.2f} s" for k, v in times.items())
            print(
                f"\nstages, {label}: {parts} (sum {total:.2f} s; loading the CSV "
                f"{times['load'] / total:.0%})"
            )


if __name__ == "__main__":
    main()
