"""The process boundary, tested on real processes: a closed pipe exits 141 in every format (for
every kind of command: the margin, the limits check, a liquidation plan, a market estimate), a
full disk exits 2 with one line, Ctrl-C exits 130, all without a traceback; ``--version`` and
``--help`` (of the app and of the commands) import neither pandas nor scipy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

MARKET = """\
as_of: 2024-11-25T08:00:00Z
underlyings:
  BTC: {spot: 100000, vol: 0.5}
"""
BOOK = "instrument,quantity\nBTC-27DEC24-100000-C,-1\nBTC-PERPETUAL,1000\n"
LIMITS = "limits: {max_margin: 1}\n"  # breached: `check` alone would exit 1
ACCOUNT = """\
account: desk
collateral: {USD: 2000}
positions:
  - {instrument: BTC-27DEC24-100000-C, quantity: -1}
"""
#: 40 calendar days of closes, enough returns for an estimate
CLOSES = (
    "date,BTC,ETH\n"
    + "".join(
        f"2024-01-{day:02d},{40000 + 500 * (day % 7)},{2500 + 40 * (day % 5)}\n"
        for day in range(1, 32)
    )
    + "".join(
        f"2024-02-{day:02d},{41000 + 300 * (day % 3)},{2600 + 30 * (day % 4)}\n"
        for day in range(1, 10)
    )
)
#: each command with its inputs (run in the folder of :func:`folder`)
COMMANDS = {
    "compute": ["compute", "book.csv"],
    "check": ["check", "book.csv", "--limits", "limits.yaml"],
    "liquidate": ["liquidate", "account.yaml"],
    "market estimate": ["market", "estimate", "closes.csv"],
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "market.yaml").write_text(MARKET)
    (tmp_path / "book.csv").write_text(BOOK)
    (tmp_path / "limits.yaml").write_text(LIMITS)
    (tmp_path / "account.yaml").write_text(ACCOUNT)
    (tmp_path / "closes.csv").write_text(CLOSES)
    return tmp_path


def pmargin(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.Popen([sys.executable, "-m", "pmargin", *args], env=env, **kwargs)


@pytest.mark.parametrize("format", ["table", "json", "csv", "markdown"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_closed_pipe_exits_141_in_every_format(folder, command, format):
    args = [*COMMANDS[command], "--format", format]
    process = pmargin(*args, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # the reader goes away before pmargin writes a byte
    stderr = process.stderr.read().decode()
    assert process.wait() == 141, stderr
    assert stderr == ""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("format", ["table", "json"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_full_disk_on_stdout_exits_2_with_one_line(folder, command, format):
    with open("/dev/full", "w") as full:
        process = pmargin(
            *COMMANDS[command],
            "--format",
            format,
            cwd=folder,
            stdout=full,
            stderr=subprocess.PIPE,
        )
        stderr = process.stderr.read().decode()
        assert process.wait() == 2
    assert stderr.splitlines() == [
        "error: stdout: cannot write the result: No space left on device. Free some space, or "
        "write the result to a file with --output."
    ]


def test_ctrl_c_exits_130_and_leaves_the_output_intact(folder):
    for name in ("mc1.yaml", "mc2.yaml", "mc3.yaml"):  # long enough to be interrupted
        (folder / name).write_text("kind: montecarlo\npaths: 1000000\nhorizon_days: 2\n")
    (folder / "out.json").write_text("old\n")
    interrupted = 0
    # once the interpreter is up (its own start-up is not pmargin's); the run takes about 2 s
    # here, and a shorter wait is tried only when a machine fast enough finished it first
    for delay in (1.0, 0.5, 0.25):
        process = pmargin(
            *("stress", "book.csv", "-s", "mc1.yaml", "-s", "mc2.yaml", "-s", "mc3.yaml"),
            *("--top", "5", "--format", "json"),
            *("--output", "out.json"),
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
        if process.returncode == 0:  # finished before the signal: nothing to interrupt
            continue
        assert process.returncode == 130, stderr.decode()
        assert b"Traceback" not in stderr
        assert (folder / "out.json").read_text() == "old\n"
        interrupted += 1
        break
    assert interrupted
    assert not list(folder.glob("*.tmp"))


@pytest.mark.parametrize(
    "option",
    ["--version", "--help", "compute --help", "liquidate --help", "market estimate --help"],
)
def test_version_and_help_import_neither_pandas_nor_scipy(option):
    probe = (  # main() ends the process; its atexit hooks still run, so one reports
        "import atexit, sys\n"
        "atexit.register(lambda: print(sorted({m.split('.')[0] for m in sys.modules}"
        " & {'pandas', 'scipy'}), file=sys.stderr))\n"
        f"sys.argv = ['pmargin', *{option.split()!r}]\n"
        "from pmargin.__main__ import main\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0
    assert done.stderr.strip() == "[]"
    assert "pmargin" in done.stdout
