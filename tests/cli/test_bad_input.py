"""Every kind of bad input gives exit code 2 and one clear message naming the culprit."""

import pytest

BOOK = "instrument,quantity\nBTC-27DEC24-100000-C,-1\n"


@pytest.mark.parametrize(
    ("files", "args", "expected"),
    [
        ({}, ["compute", "missing.csv"], "missing.csv: portfolio file not found"),
        (
            {"b.csv": "instrument,qty\nBTC-PERPETUAL,1\n"},
            ["compute", "b.csv"],
            "unknown column `qty`. Did you mean `quantity`?",
        ),
        (
            {"b.csv": "instrument,quantity\nBTC-PERPETUAL,ten\n"},
            ["compute", "b.csv"],
            "b.csv:2: column `quantity`: 'ten' is not a finite number",
        ),
        (
            {
                "b.csv": "underlying,kind,expiry,strike,right,quantity\n"
                "BTC,option,2025-01-31,-1,C,1\n"
            },
            ["compute", "b.csv"],
            "b.csv:2: column `strike`: must be > 0",
        ),
        (
            {"b.csv": "instrument,quantity\nDOGE_USDC-PERPETUAL,1\n"},
            ["compute", "b.csv"],
            "b.csv:2: `underlying`: unknown underlying DOGE",
        ),
        (
            {"b.csv": BOOK, "m2.yaml": "as_of: 2024-11-25\nunderlyings:\n  BTC: {spot: 1}\n"},
            ["compute", "b.csv", "--market", "m2.yaml"],
            "no implied vol for BTC options",
        ),
        (
            {"b.csv": BOOK, "m2.yaml": "as_of: [\n"},
            ["compute", "b.csv", "--market", "m2.yaml"],
            "m2.yaml:2: malformed YAML",
        ),
        (
            {"b.csv": "instrument,quantity,mark_price\nBTC-PERPETUAL,1,inf\n"},
            ["compute", "b.csv"],
            "'inf' is not a finite number",
        ),
        (
            {"b.csv": BOOK},
            ["compute", "b.csv", "--model", "nosuch"],
            "--model nosuch: no such model",
        ),
        (
            {"b.csv": "instrument,quantity\nBTC-27DEC23-100000-C,1\n"},
            ["compute", "b.csv"],
            "expired at 2023-12-27",
        ),
    ],
)
def test_bad_input_exit_2(tmp_path, monkeypatch, market_path, cli, files, args, expected):
    monkeypatch.chdir(tmp_path)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = cli(*args)
    assert result.exit_code == 2, result.stdout
    assert expected in " ".join(result.stderr.split()), result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_all_problems_of_a_file_are_reported_together(tmp_path, monkeypatch, market_path, cli):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "b.csv").write_text(
        "instrument,quantity\nBTC-PERPETUAL,x\nNOPE,1\nETH-PERPETUAL,y\n"
    )
    result = cli("compute", "b.csv")
    assert result.exit_code == 2
    assert "3 problems" in result.stderr
    for line in ("b.csv:2", "b.csv:3", "b.csv:4"):
        assert line in result.stderr


def test_debug_shows_the_traceback(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    result = cli("--debug", "compute", "missing.csv")
    assert result.exit_code != 0
    assert result.exception is not None


def test_validate(tmp_path, monkeypatch, market_path, cli):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "good.csv").write_text(BOOK)
    (tmp_path / "bad.csv").write_text("instrument,quantity\nBTC-PERPETUAL,x\n")
    ok = cli("validate", "good.csv", "market.yaml")
    assert ok.exit_code == 0
    assert "ok: good.csv (portfolio)" in ok.stdout
    assert "ok: market.yaml (market snapshot)" in ok.stdout
    bad = cli("validate", "good.csv", "bad.csv")
    assert bad.exit_code == 2
    assert "bad.csv:2: column `quantity`" in bad.stderr
