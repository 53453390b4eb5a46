"""Every command's table at 80, 100 and 160 columns: no number is cut, every table line is
whole, and columns left out are named with the way to see them; heatmap colours per colour
system."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from conftest import SAMPLES
from rich.console import Console

from pmargin.render.fit import Column, FittedTable
from pmargin.render.heat import DivergingScale, Heatmap

ROOT = Path(__file__).resolve().parents[2]
DERIBIT = ROOT / "tests" / "data" / "deribit"
WIDTHS = (80, 100, 160)
#: every command that draws tables, with inputs that make them wide
COMMANDS = {
    "compute": ["compute", SAMPLES / "multi_asset.yaml", "--compare", "--by-account"],
    "compute-deribit": [
        "compute",
        DERIBIT / "account_export.json",
        "--market",
        DERIBIT / "book_summary.json",
    ],
    "stress": [
        "stress",
        SAMPLES / "multi_asset.yaml",
        "-s",
        "spot_vol_grid",
        "-s",
        "crash",
        "-s",
        "montecarlo_2day",
        "--by",
        "position",
    ],
    "stress-collateral": [
        "stress",
        SAMPLES / "short_puts_btc.yaml",
        "-s",
        "crash",
        "-s",
        "spot_vol_grid",
        "--by",
        "position",
    ],
    "check": ["check", "--config", SAMPLES / "pmargin.yaml"],
    # a folder of portfolio files is a set of accounts: every --by-account table
    "compute-accounts": ["compute", SAMPLES, "--by-account", "--positions"],
    "stress-accounts": ["stress", SAMPLES, "-s", "crash", "-s", "vol_spike", "--by-account"],
    "greeks-accounts": ["greeks", SAMPLES, "--by-account"],
    "check-accounts": ["check", SAMPLES, "--limits", SAMPLES / "limits.yaml", "--by-account"],
    "greeks": ["greeks", SAMPLES / "multi_asset.yaml"],
    "scenarios list": ["scenarios", "list"],
    "scenarios show": ["scenarios", "show", "btc_eth_decoupling"],
    "models list": ["models", "list"],
    "models show": ["models", "show", "deribit"],
    "market estimate": ["market", "estimate", ROOT / "scenarios" / "btc_eth_daily_close.csv"],
    "liquidate": [
        "liquidate",
        SAMPLES / "short_puts_btc.yaml",
        "--market",
        SAMPLES / "market_btc_down_25.yaml",
    ],
    "whatif": [
        "whatif",
        SAMPLES / "multi_asset.yaml",
        "--add",
        "BTC-27DEC24-85000-P:3",
        "--add",
        "ETH-PERPETUAL:60000",
        "--add",
        "SOL_USDC-27DEC24-200-P:-250",
    ],
    "explain": ["explain", SAMPLES / "multi_asset.yaml"],
    "explain-derive": ["explain", SAMPLES / "multi_asset.yaml", "--model", "derive"],
    "breakeven": ["breakeven", SAMPLES / "multi_asset.yaml", "--loss", "150000"],
    "liquidate-proportional": [
        "liquidate",
        SAMPLES / "short_puts_btc.yaml",
        "--market",
        SAMPLES / "market_btc_down_25.yaml",
        "--mode",
        "proportional",
        "--target",
        "initial",
    ],
}
TABLE_START, TABLE_END = "┏┡│├└┃", "┓┩│┤┘┃"


def table_lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line[:1] and line[0] in TABLE_START]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", list(COMMANDS))
def test_no_number_is_cut_at_any_width(cli, monkeypatch, name, width):
    monkeypatch.setenv("COLUMNS", str(width))
    result = cli(*COMMANDS[name])
    breaches = name == "check-accounts"  # some sample accounts breach the limits on their own
    assert result.exit_code == (1 if breaches else 0), result.stderr  # the sample limits hold
    out = result.stdout
    assert "…" not in out  # rich's mark of a cut cell
    lines = out.splitlines()
    assert all(len(line) <= width for line in lines)
    for line in table_lines(out):  # every table line ends with its right border: nothing cropped
        assert line[-1] in TABLE_END, line
    note = " ".join(out.split())
    if "Left out to fit" in note:
        assert f"Left out to fit {width} columns:" in note
        assert "Show them with --wide, in a wider terminal, or with --format csv" in note


@pytest.mark.parametrize("width", (40, 60))
@pytest.mark.parametrize("name", list(COMMANDS))
def test_narrower_than_the_kept_columns_nothing_is_cropped(cli, monkeypatch, name, width):
    """A terminal narrower than the columns a table always keeps gets the table whole (wider
    than the terminal, which wraps the lines): no line loses its right border."""
    monkeypatch.setenv("COLUMNS", str(width))
    narrow = cli(*COMMANDS[name]).stdout
    assert "…" not in narrow
    for line in table_lines(narrow):
        assert line[-1] in TABLE_END, line


@pytest.mark.parametrize(
    "width, args, figures",
    [
        # the failing limit's headroom was drawn as -103,28 below 69 columns
        (w, ["check", SAMPLES / "multi_asset.yaml"], ["-103,280", "603,280"])
        for w in (40, 60, 68)
    ]
    + [  # long account names took the room of the numbers at 80 columns: 1,049,16
        (80, ["check", SAMPLES, "--by-account"], ["1,049,165", "-649,165", "-103,280"])
    ],
)
def test_figures_of_a_narrow_table_are_whole(cli, monkeypatch, width, args, figures):
    monkeypatch.setenv("COLUMNS", str(width))
    out = cli(*args, "--limits", SAMPLES / "limits.yaml").stdout
    for figure in figures:
        assert re.search(rf"(?<![\d,.]){re.escape(figure)}(?![\d,.])", out), (figure, out)


@pytest.mark.parametrize("width", range(16, 100, 3))
def test_a_fitted_table_never_cuts_a_number(width):
    figures = ["-103,280", "1,049,165", "0.04585", "-649,165"]
    table = FittedTable(
        [
            Column("account", number=False),
            Column("check", number=False),
            Column("value"),
            Column("headroom"),
            Column("note", number=False, drop=1),
        ]
    )
    for i, figure in enumerate(figures):
        table.add_row("naked_short_options", "max_delta[total]", figure, figures[-1 - i], "a b c")
    console = Console(width=width, file=io.StringIO())
    console.print(table, crop=False)
    out = console.file.getvalue()
    for figure in figures:
        assert re.search(rf"(?<![\d,.]){re.escape(figure)}(?![\d,.])", out), (figure, out)
    for line in table_lines(out):
        assert line[-1] in TABLE_END, line


def test_columns_are_left_out_in_the_stated_order_and_wide_shows_them(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    narrow = cli("compute", SAMPLES / "multi_asset.yaml").stdout
    joined = " ".join(narrow.split())
    assert "Left out to fit 80 columns: gamma, theta/day, vega, delta, value, id." in joined
    header = next(line for line in narrow.splitlines() if "isolated margin" in line)
    assert "gamma" not in header and "quantity" in header
    wide = cli("compute", SAMPLES / "multi_asset.yaml", "--wide").stdout
    assert "Left out" not in wide
    header = next(line for line in wide.splitlines() if "isolated margin" in line)
    assert all(name in header for name in ("gamma", "vega", "theta/day", "delta", "value"))


def test_names_wrap_between_words_only():
    table = FittedTable([Column("scenario", number=False), Column("P&L")])
    table.add_row("BTC -30%, ETH -45%, alts -55%, vol up", "-191,309")
    console = Console(width=30, file=io.StringIO())
    console.print(table)
    text = console.file.getvalue()
    body = [line for line in text.splitlines() if line.startswith("│")]
    cells = [line.strip("│").split("│")[0].strip() for line in body]
    words = {w for cell in cells for w in cell.split()}
    assert words <= {"scenario", "BTC", "-30%,", "ETH", "-45%,", "alts", "-55%,", "vol", "up"}
    assert "-191,309" in text


def render(renderable, color_system: str | None, width: int = 120) -> str:
    console = Console(
        width=width,
        file=io.StringIO(),
        force_terminal=color_system is not None,
        color_system=color_system,
    )
    console.print(renderable)
    return console.file.getvalue()


def cell_codes(text: str, value: str) -> str:
    """The ANSI codes in force where ``value`` is printed."""
    index = text.index(value)
    codes = re.findall(r"\x1b\[([0-9;]*)m", text[:index])
    return codes[-1] if codes else ""


@pytest.mark.parametrize("color_system", ["standard", "256", "truecolor"])
def test_heatmap_losses_and_gains_never_share_a_colour(color_system):
    """The case seen in tmux (256 colours): a gain of +43,454 painted like a loss of −44,869."""
    values = [[-44_869.0, -1_200.0, 43_454.0], [-20_000.0, 0.0, 21_000.0]]
    heatmap = Heatmap(
        "vol \\ spot",
        ["0%", "+50%"],
        ["-10%", "0%", "+10%"],
        values,
        text=lambda v: f"{v:+,.0f}" if v else "0",
        scale=DivergingScale(44_869.0),
    )
    text = render(heatmap, color_system)
    loss, gain = cell_codes(text, "-44,869"), cell_codes(text, "+43,454")
    assert loss and gain and loss != gain
    assert cell_codes(text, "-20,000") != cell_codes(text, "+21,000")
    if color_system == "standard":
        assert "41" in loss.split(";") and "42" in gain.split(";")  # red and green backgrounds
    else:
        assert "48;5;160" in loss and "48;5;28" in gain  # the palette's strong red and green
    assert "scale:" in text and "≤ -29,913" in text and "≥ +29,913" in text


def test_heatmap_values_are_shown_without_colour():
    scale = DivergingScale(100.0)
    heatmap = Heatmap(
        "", ["a"], ["x", "y"], [[-100.0, 100.0]], text=lambda v: f"{v:+.0f}", scale=scale
    )
    text = render(heatmap, None)
    assert "\x1b[" not in text and "-100" in text and "+100" in text
    assert [scale.bin(v) for v in (-100, -50, -10, -1, 0, 1, 10, 50, 100)] == [
        -3,
        -2,
        -1,
        0,
        0,
        0,
        1,
        2,
        3,
    ]


def test_a_wide_heatmap_turns_to_fit():
    spots = [f"{m:+d}%" for m in range(-30, 31, 5)]
    heatmap = Heatmap(
        "vol \\ spot",
        ["-30%", "0%", "+30%"],
        spots,
        [[-123_456.0 + 1_000 * j for j in range(len(spots))] for _ in range(3)],
        text=lambda v: f"{v:+,.0f}",
        scale=DivergingScale(123_456.0),
        transposed_corner="spot \\ vol",
    )
    narrow = render(heatmap, None, width=80)
    assert "spot \\ vol" in narrow and "…" not in narrow
    assert all(spot in narrow for spot in spots)  # every spot move is a row now
    assert "vol \\ spot" in render(heatmap, None, width=200)
