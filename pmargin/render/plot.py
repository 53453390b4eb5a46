"""Charts for ``--plot FILE`` (``.png`` or ``.svg``): the only module that imports matplotlib.

matplotlib is an optional extra (``pip install 'pmargin[plot]'``); without it ``--plot`` is a
usage error (exit 2) that says how to install it, checked before anything is computed. Charts
are drawn from the plain dicts of :mod:`pmargin.report` with matplotlib's object API (no pyplot
state, no display needed):

* ``stress``: one panel per scenario set — a spot × vol heatmap (diverging red/green, centred on
  0, every cell's value written in it) for grid sets; the P&L distribution with VaR and ES at 95%
  and 99% marked for historical and Monte Carlo sets; the scenarios' P&L as bars otherwise.
* ``compute``: one panel per underlying — the book's P&L as that underlying's spot moves through
  1.5× the model's range (shaded), with the loss the margin covers marked.
"""

from __future__ import annotations

import io
import math
from importlib import import_module
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem
from ..report import percent

FORMATS = (".png", ".svg")
INSTALL_HINT = "Install the plot extra: pip install 'pmargin[plot]' (or pip install matplotlib)."
PANEL_WIDTH, PANEL_HEIGHT, DPI = 9.0, 4.2, 110
MAX_BARS = 30
LOSS, GAIN, MARGIN = "#c0392b", "#1e8449", "#1f4e79"


def check_plot_target(path: Path) -> None:
    """Fail early (before computing) on a suffix other than .png/.svg or a missing matplotlib."""
    if path.suffix.lower() not in FORMATS:
        raise InputError(
            Problem(f"--plot {path}", "unknown chart format", "Name a .png or .svg file.")
        )
    _figure_class(path)


def _figure_class(path: Path):
    try:
        return import_module("matplotlib.figure").Figure
    except ImportError:
        raise InputError(
            Problem(f"--plot {path}", "charts need matplotlib, not installed", INSTALL_HINT)
        ) from None


def _save(figure, path: Path) -> None:
    """Draw ``figure`` in memory, then write it atomically (as every file pmargin writes), so a
    failure leaves an older chart whole."""
    from ..io.output_file import write_atomic

    image = io.BytesIO()
    figure.savefig(image, format=path.suffix.lower()[1:], dpi=DPI, bbox_inches="tight")
    write_atomic(path, image.getvalue(), label=f"--plot {path}", what="the chart")


def _thousands(*axes) -> None:
    """Axis tick labels with thousands separators (150,000 rather than 150000)."""
    for axis in axes:
        axis.set_major_formatter(import_module("matplotlib.ticker").StrMethodFormatter("{x:,.0f}"))


def _money(value: float) -> str:
    if abs(value) < 0.5:
        return "0"
    if abs(value) >= 1e6:
        return f"{value / 1e6:+,.2f}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:+,.0f}k"
    return f"{value:+,.0f}"


def _percent(move: float) -> str:
    return percent(move)


# --- stress -------------------------------------------------------------------------------


def write_stress_chart(data: dict[str, Any], path: Path) -> None:
    """``data`` as from :func:`pmargin.report.stress.stress_dict` (every scenario, no ``top``)."""
    figure_class = _figure_class(path)
    sets = data["scenario_sets"]
    figure = figure_class(figsize=(PANEL_WIDTH, PANEL_HEIGHT * len(sets)), layout="constrained")
    axes = figure.subplots(len(sets), 1, squeeze=False)[:, 0]
    for ax, entry in zip(axes, sets):
        pnl = [s["pnl"] for s in data["scenarios"] if s["set"] == entry["name"]]
        if "grid" in entry:
            _heatmap(figure, ax, entry)
        elif entry.get("var_95") is not None:
            _distribution(ax, entry, pnl)
        else:
            _bars(ax, entry, [s for s in data["scenarios"] if s["set"] == entry["name"]])
    _save(figure, path)


def _heatmap(figure, ax, entry: dict[str, Any]) -> None:
    grid = entry["grid"]
    values = grid["pnl"]
    scale = max((abs(v) for row in values for v in row), default=0.0) or 1.0
    image = ax.imshow(values, cmap="RdYlGn", vmin=-scale, vmax=scale, aspect="auto")
    label = "vol shift" if grid["vol_kind"] == "vol_shift" else "vol"
    ax.set_xticks(range(len(grid["spot"])), [_percent(s) for s in grid["spot"]])
    vol_labels = [
        percent(v).replace("%", " pts") if grid["vol_kind"] == "vol_shift" else _percent(v)
        for v in grid["vol"]
    ]
    ax.set_yticks(range(len(grid["vol"])), vol_labels)
    ax.set_xlabel("spot move")
    ax.set_ylabel(label)
    size = 7 if len(grid["spot"]) <= 13 else 5
    for row, line in enumerate(values):
        for column, value in enumerate(line):
            dark = abs(value) > 0.6 * scale
            ax.text(
                column,
                row,
                _money(value),
                ha="center",
                va="center",
                fontsize=size,
                color="white" if dark else "black",
            )
    colorbar = figure.colorbar(image, ax=ax, label="P&L (USD)")
    _thousands(colorbar.ax.yaxis)
    ax.set_title(f"{entry['name']}: P&L by spot and {label} (USD)")


def _distribution(ax, entry: dict[str, Any], pnl: list[float]) -> None:
    bins = max(10, min(80, int(math.sqrt(len(pnl)))))
    ax.hist(pnl, bins=bins, color="#7f8c8d", edgecolor="white", linewidth=0.3)
    for key, style in (("var_95", ":"), ("es_95", "--"), ("var_99", ":"), ("es_99", "--")):
        level = -entry[key]
        color = LOSS if key.endswith("99") else "#e67e22"
        label = f"{key.replace('_', ' ').upper()} {entry[key]:,.0f}"
        ax.axvline(level, color=color, linestyle=style, linewidth=1.4, label=label)
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_xlabel("P&L (USD); VaR and ES are losses, marked at −value")
    _thousands(ax.xaxis)
    ax.set_ylabel("scenarios")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(f"{entry['name']}: P&L over {entry['count']:,} {entry['kind']} scenarios")


def _bars(ax, entry: dict[str, Any], scenarios: list[dict[str, Any]]) -> None:
    worst = sorted(scenarios, key=lambda s: s["pnl"])[:MAX_BARS]
    names = [s["name"] for s in worst][::-1]
    values = [s["pnl"] for s in worst][::-1]
    ax.barh(names, values, color=[LOSS if v < 0 else GAIN for v in values])
    ax.axvline(0, color="black", linewidth=0.6)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_xlabel("P&L (USD)")
    _thousands(ax.xaxis)
    shown = f"the {len(worst)} worst of {entry['count']:,}" if entry["count"] > len(worst) else ""
    ax.set_title(f"{entry['name']}: scenario P&L {shown}".rstrip())


# --- compute ------------------------------------------------------------------------------


def write_margin_chart(profiles: dict[str, Any], path: Path) -> None:
    """``profiles`` as from :func:`pmargin.report.margin.profiles_dict`."""
    figure_class = _figure_class(path)
    panels = profiles["underlyings"] or [None]
    figure = figure_class(figsize=(PANEL_WIDTH, PANEL_HEIGHT * len(panels)), layout="constrained")
    axes = figure.subplots(len(panels), 1, squeeze=False)[:, 0]
    for ax, panel in zip(axes, panels):
        if panel is None:
            ax.set_title("the portfolio holds nothing to chart")
            continue
        spots = [panel["spot"] * (1.0 + m) for m in panel["moves"]]
        low, high = panel["model_range"]
        ax.axvspan(
            panel["spot"] * (1 + low),
            panel["spot"] * (1 + high),
            color="#d6eaf8",
            label=f"model range {_percent(low)} … {_percent(high)}",
        )
        ax.plot(spots, panel["pnl"], color="black", linewidth=1.6, label="P&L")
        scope = panel["underlying"] if panel["margin_scope"] == "underlying" else "portfolio"
        ax.axhline(
            -panel["margin"],
            color=MARGIN,
            linestyle="--",
            label=f"initial margin ({scope}) {panel['margin']:,.0f}: a loss it covers",
        )
        ax.axhline(0, color="#7f8c8d", linewidth=0.6)
        ax.axvline(panel["spot"], color="#7f8c8d", linewidth=0.6, linestyle=":")
        ax.set_xlabel(f"{panel['underlying']} spot (USD; now {panel['spot']:,.6g})")
        ax.set_ylabel("P&L (USD)")
        _thousands(ax.xaxis, ax.yaxis)
        ax.legend(loc="best", fontsize=8)
        ax.set_title(
            f"{panel['underlying']}: P&L against spot, other underlyings and vols unchanged "
            f"(model {profiles['model']})"
        )
    _save(figure, path)
