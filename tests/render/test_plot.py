"""``--plot FILE`` charts for ``stress`` and ``compute``; a clear usage error without matplotlib."""

from __future__ import annotations

import struct
import sys

import pytest
from conftest import SAMPLES

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk (the first, right after the signature)."""
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_stress_plot_writes_a_png_with_a_panel_per_set(cli, tmp_path):
    pytest.importorskip("matplotlib")
    chart = tmp_path / "stress.png"
    result = cli(
        "stress",
        SAMPLES / "multi_asset.yaml",
        "-s",
        "spot_vol_grid",
        "-s",
        "montecarlo_2day",
        "--top",
        "3",
        "--plot",
        chart,
    )
    assert result.exit_code == 0, result.stderr
    data = chart.read_bytes()
    width, height = png_size(data)
    assert 600 <= width <= 1400  # 9 inches at 110 dpi, trimmed to the drawing
    assert 2 * 350 <= height <= 2 * 600  # two panels of 4.2 inches
    assert len(data) > 20_000  # a drawn chart, not an empty canvas


def test_one_set_gives_one_panel_and_svg_works(cli, tmp_path):
    pytest.importorskip("matplotlib")
    png, svg = tmp_path / "grid.png", tmp_path / "grid.svg"
    for chart in (png, svg):
        result = cli("stress", SAMPLES / "multi_asset.yaml", "-s", "spot_vol_grid", "--plot", chart)
        assert result.exit_code == 0, result.stderr
    assert 350 <= png_size(png.read_bytes())[1] <= 600
    text = svg.read_text()
    assert "<svg" in text and "+197k" in text  # the cell values are written in the heatmap


def test_compute_plot_writes_a_png_per_underlying(cli, tmp_path):
    pytest.importorskip("matplotlib")
    chart = tmp_path / "margin.png"
    result = cli("compute", SAMPLES / "multi_asset.yaml", "--plot", chart, "--format", "json")
    assert result.exit_code == 0, result.stderr
    width, height = png_size(chart.read_bytes())
    assert 600 <= width <= 1400
    assert 3 * 350 <= height <= 3 * 600  # BTC, ETH, SOL


def test_a_missing_matplotlib_is_a_usage_error_that_says_how_to_install(cli, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import fails as if absent
    chart = tmp_path / "c.png"
    result = cli("compute", SAMPLES / "hedged_btc_options.csv", "--plot", chart)
    assert result.exit_code == 2
    assert "charts need matplotlib, not installed" in result.stderr
    assert "pip install 'pmargin[plot]'" in result.stderr
    assert result.stdout == "" and not chart.exists()


def test_an_unknown_chart_format_is_refused(cli, tmp_path):
    chart = tmp_path / "c.jpg"
    result = cli("stress", SAMPLES / "multi_asset.yaml", "-s", "crash", "--plot", chart)
    assert result.exit_code == 2
    assert "unknown chart format. Name a .png or .svg file" in result.stderr
