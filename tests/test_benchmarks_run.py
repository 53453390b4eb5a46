"""The benchmark scripts still run (tiny sizes; their figures are not checked: speed is never
asserted in tests). Keeps a refactor from leaving them importing modules that moved."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
TINY = {
    "bench_accounts.py": [
        "--positions",
        "2000",
        "--accounts",
        "200",
        "--instruments",
        "40",
        "--single",
        "500",
        "--repeat",
        "1",
        "--skip-dask",
    ],
    "bench_liquidation.py": ["--options", "20", "--repeat", "1"],
    "bench_engine.py": [
        "--positions",
        "300",
        "--instruments",
        "20",
        "--scenarios",
        "4",
        "--repeat",
        "1",
    ],
    "bench_whatif.py": [
        "--positions",
        "300",
        "--instruments",
        "20",
        "--trades",
        "10",
    ],
    "bench_load.py": [
        "--positions",
        "300",
        "--accounts",
        "10",
        "--instruments",
        "20",
        "--repeat",
        "1",
    ],
    "bench_montecarlo.py": [
        "--positions",
        "300",
        "--instruments",
        "20",
        "--paths",
        "200",
        "--repeat",
        "1",
    ],
}


def test_every_benchmark_has_a_tiny_run():
    assert {p.name for p in BENCHMARKS.glob("bench_*.py")} <= set(TINY)


@pytest.mark.parametrize("script", sorted(TINY))
def test_benchmark_runs(script):
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *TINY[script]],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip()
