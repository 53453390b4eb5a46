"""Markdown keeps a figure's digits: gammas of 5e-05 and BTC amounts are not rounded to 0.01
(they printed as 0.00 and -0.21), and zero is never -0."""

from __future__ import annotations

import json

import pytest
from conftest import SAMPLES

from pmargin.report import markdown_number


@pytest.mark.parametrize(
    "value, text",
    [
        (5.29978e-05, "5.29978e-05"),
        (-0.2146449, "-0.214645"),
        (0.841619123, "0.841619"),
        (1234.5678, "1,234.57"),
        (79953.8412, "79,953.84"),
        (-0.0, "0"),
        (0.0, "0"),
    ],
)
def test_markdown_number(value, text):
    assert markdown_number(value) == text


@pytest.mark.parametrize("currency", ["USD", "BTC"])
def test_compute_markdown_shows_what_json_has(cli, currency):
    book = SAMPLES / "multi_asset.yaml"
    data = json.loads(cli("compute", book, "--currency", currency, "--format", "json").stdout)
    markdown = cli("compute", book, "--currency", currency, "--format", "markdown").stdout
    rows = [line.split("|")[1:-1] for line in markdown.splitlines() if line.startswith("| ")]
    cells = {cell.strip() for row in rows for cell in row}
    assert (
        f"{data['portfolio_margin']:,.6g}" in cells or f"{data['portfolio_margin']:,.2f}" in cells
    )
    gammas = [p["gamma"] for p in data["positions"] if p["gamma"]]
    assert gammas and all(f"{g:,.6g}" in cells for g in gammas)
    assert "-0" not in cells and "-0.00" not in cells
