"""The README's console examples are what pmargin prints: every ```console block that holds one
``$ pmargin ...`` command and its whole output (no ``...`` elision) is run at 120 columns without
colour and compared line by line (trailing spaces aside). A block runs in the folder that an
earlier block's ``$ cd FOLDER`` entered (a copy of it, since commands may write files there),
else at the repository root. Blocks that abridge their output are not compared.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmargin.cli import app

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _examples() -> list[tuple[str, str, list[str]]]:
    """(folder, command, expected output lines) of each whole, single-command console block."""
    examples, folder = [], ""
    for block in re.findall(r"```console\n(.*?)```", README, re.S):
        lines = block.rstrip("\n").split("\n")
        commands = [line for line in lines if line.startswith("$ ")]
        folder = next((c[len("$ cd ") :] for c in commands if c.startswith("$ cd ")), folder)
        if len(commands) != 1 or not lines[0].startswith("$ pmargin "):
            continue
        command, k = lines[0][2:], 1
        while command.endswith("\\"):
            command, k = command[:-1] + lines[k].strip(), k + 1
        output = lines[k:]
        if any(line.strip() in ("...", "…") or line.startswith("  ...") for line in output):
            continue
        examples.append((folder, command, output))
    return examples


EXAMPLES = _examples()


def test_the_readme_has_whole_examples():
    """The filter above must not quietly drop every example."""
    names = {shlex.split(command)[1] for _, command, _ in EXAMPLES}
    assert {"whatif", "explain", "breakeven", "liquidate"} <= names


@pytest.mark.parametrize("folder, command, expected", EXAMPLES, ids=[c for _, c, _ in EXAMPLES])
def test_console_example_matches_the_tool(folder, command, expected, monkeypatch, tmp_path):
    if folder:
        shutil.copytree(ROOT / folder, tmp_path / folder)
    monkeypatch.chdir(tmp_path / folder if folder else ROOT)
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("NO_COLOR", "1")
    result = CliRunner().invoke(app, shlex.split(command)[1:])
    got = (result.stdout + result.stderr).rstrip("\n").split("\n")
    assert result.exit_code == 0, result.output
    assert [line.rstrip() for line in got] == [line.rstrip() for line in expected]
