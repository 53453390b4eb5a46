"""Every hostile input of the catalogue (hostile_cases.py, new_input_cases.py,
export_and_plot_cases.py): the exit code, the culprit named on stderr, no traceback, no numpy
warning (warnings are errors here), a finite JSON result when it succeeds, and an ``--output``
file left intact when it fails."""

from __future__ import annotations

import json

import export_and_plot_cases
import fuzz_cases
import hostile_cases
import new_input_cases
import pytest
from hostile_cases import BOOK, MARKET

pytestmark = pytest.mark.filterwarnings("error")

OLD_OUTPUT = '{"old": "result"}\n'
CASES = hostile_cases.CASES + new_input_cases.CASES + export_and_plot_cases.CASES + fuzz_cases.CASES


def test_the_catalogue_is_large_and_names_are_unique():
    assert len(CASES) >= 60
    assert len({case.id for case in CASES}) == len(CASES)


def _finite(text: str):
    def refuse(constant):
        raise AssertionError(f"non-finite number {constant} in the output")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_input(case, tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    files = {"market.yaml": MARKET, "book.csv": BOOK, **case.files}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    args = list(case.args)
    if case.output:
        (tmp_path / "out.json").write_text(OLD_OUTPUT)
        args += ["--output", "out.json", "--format", "json"]
    result = cli(*args)
    stderr = " ".join(result.stderr.split())
    assert result.exit_code == case.code, (result.stdout, result.stderr, result.exception)
    assert "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for culprit in case.culprits:
        assert culprit in stderr, stderr
    if case.code == 2:
        assert len(result.stderr) < 4000, "the message is short even for a huge input"
    if case.output:
        written = (tmp_path / "out.json").read_text()
        if case.code == 0:
            assert written != OLD_OUTPUT
            assert "pmargin" in _finite(written)["run"]  # what produced it (SPEC §4 `run`)
        else:
            assert written == OLD_OUTPUT
    elif case.code == 0 and result.stdout.lstrip().startswith("{"):
        _finite(result.stdout)
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
