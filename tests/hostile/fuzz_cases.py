"""Hostile inputs found by a fuzzing pass over every command (after the catalogues in
hostile_cases.py and new_input_cases.py): a CSV quote left open across lines, YAML 1.1 number
forms and an integer too long to read, a YAML portfolio's ``account:`` and ``market:`` of the
wrong type, a maintenance ratio above 1, and ``explain`` on books with nothing to margin (which
must succeed). Same rules: the exit code, the culprit named on stderr, no traceback, and an
``--output`` file intact after a failure."""

from __future__ import annotations

from pathlib import Path

from hostile_cases import MARKET, Case

MODELS = Path(__file__).parents[2] / "pmargin" / "models"
COMPUTE = ("compute", "book.csv")


def portfolio(top: str = "", quantity: str = "-1") -> str:
    return f"{top}positions:\n  - {{instrument: BTC-27DEC24-100000-C, quantity: {quantity}}}\n"


def model_with(name: str, ratio: str) -> str:
    """A bundled model file with its ``maintenance_ratio`` set to ``ratio``."""
    text = (MODELS / f"{name}.yaml").read_text()
    assert "\nmaintenance_ratio: 1.0\n" in text
    return text.replace("\nmaintenance_ratio: 1.0\n", f"\nmaintenance_ratio: {ratio}\n")


CASES = [
    Case(
        "csv-quote-open-across-lines",
        COMPUTE,
        ("book.csv:3", "book.csv:4", 'has a quote (") that is not closed on the same line'),
        {"book.csv": 'instrument,quantity\n"BTC-PERPETUAL",10\n"BTC-PERPETUAL","1\n0"\n'},
        output=True,
    ),
    Case(
        "csv-quote-open-in-an-id",
        COMPUTE,
        ("book.csv:2", "not closed on the same line"),
        {"book.csv": 'id,instrument,quantity\n"x\ny",BTC-PERPETUAL,10\n'},
    ),
    Case(
        "csv-quoted-fields-closed-on-their-line-are-read",
        COMPUTE,
        (),
        {"book.csv": 'id,instrument,quantity\n"a, ""b""",BTC-PERPETUAL,10\n'},
        code=0,
        output=True,
    ),
    Case(
        "yaml-integer-too-long-to-read",
        COMPUTE,
        ("market.yaml:", "`spot`: an integer 4,301 digits long"),
        {"market.yaml": MARKET.replace("spot: 100000", "spot: " + "9" * 4301, 1)},
        output=True,
    ),
    Case(
        "yaml-hex-quantity-is-not-16",
        ("compute", "p.yaml"),
        ("p.yaml: positions[0]", "'0x10' is not a finite number"),
        {"p.yaml": portfolio(quantity="0x10")},
    ),
    Case(
        "yaml-base-60-quantity-is-not-90",
        ("compute", "p.yaml"),
        ("p.yaml: positions[0]", "'1:30' is not a finite number"),
        {"p.yaml": portfolio(quantity="1:30")},
    ),
    Case(
        "yaml-underlying-no-is-not-false",
        ("compute", "p.yaml"),
        ("unknown underlying NO",),
        {
            "p.yaml": "positions:\n  - {instrument: BTC-27DEC24-100000-C, quantity: 1, "
            "underlying: NO}\n"
        },
    ),
    Case(
        "yaml-portfolio-market-a-list",
        ("compute", "p.yaml"),
        ("p.yaml: market", "expected a file name, found ['market.yaml']"),
        {"p.yaml": portfolio("market: [market.yaml]\n")},
        output=True,
    ),
    Case(
        "yaml-portfolio-market-a-number",
        ("validate", "p.yaml"),
        ("p.yaml: market", "expected a file name, found 5"),
        {"p.yaml": portfolio("market: 5\n")},
    ),
    Case(
        "yaml-portfolio-account-a-list",
        ("compute", "p.yaml"),
        ("p.yaml: account", "expected a name, found ['desk', 2]"),
        {"p.yaml": portfolio("account: [desk, 2]\n")},
    ),
    Case(
        "span-maintenance-above-initial",
        ("compute", "book.csv", "--model", "m.yaml"),
        ("m.yaml: maintenance_ratio", "5"),
        {"m.yaml": model_with("span", "5")},
    ),
    Case(
        "tims-maintenance-above-initial",
        ("compute", "book.csv", "--model", "m.yaml"),
        ("m.yaml: maintenance_ratio",),
        {"m.yaml": model_with("tims", "1.5")},
    ),
    Case(
        "whatif-unknown-account-of-an-unnamed-book",
        ("whatif", "book.csv", "--add", "t.csv"),
        ("t.csv:2", "unknown account 'zz' (the portfolio has one account without a name)"),
        {"t.csv": "account,instrument,quantity\nzz,BTC-PERPETUAL,10\n"},
    ),
    Case(
        "explain-a-book-without-positions",
        ("explain", "e.csv"),
        (),
        {"e.csv": "instrument,quantity\n"},
        code=0,
        output=True,
    ),
    Case(
        "explain-coin-collateral-alone",
        ("explain", "c.yaml"),
        (),
        {"c.yaml": "collateral: {BTC: 1}\n"},
        code=0,
        output=True,
    ),
]
