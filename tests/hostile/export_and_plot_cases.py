"""Hostile inputs to the daily-use features: Deribit API exports read as portfolios and markets
(``--from deribit``, or recognised by content), ``--plot`` charts and ``--junit`` beside them.
The same rules as hostile_cases.py: exit code, the culprit on stderr, no traceback, an
``--output`` file intact after a failure."""

from __future__ import annotations

import json
from importlib.util import find_spec

from hostile_cases import MARKET, Case

POSITION = {
    "instrument_name": "BTC-PERPETUAL",
    "kind": "future",
    "direction": "sell",
    "size": -250000,
    "mark_price": 95003.5,
}
SUMMARY = {"currency": "BTC", "balance": 3.0, "futures_session_upl": 0.0}


def export(*results) -> str:
    """A Deribit export: one JSON-RPC response per result, in a JSON array."""
    return json.dumps([{"jsonrpc": "2.0", "id": i, "result": r} for i, r in enumerate(results)])


GOOD_EXPORT = export([POSITION], SUMMARY)
COMPUTE = ("compute", "export.json")

CASES = [
    # ---- Deribit exports read as strictly as YAML ------------------------------------------
    Case(
        "deribit-key-written-twice",
        COMPUTE,
        ("export.json", "duplicate key `size`", "JSON would keep only the last"),
        {"export.json": GOOD_EXPORT.replace('"size": -250000', '"size": -250000, "size": 1')},
    ),
    Case(
        "deribit-nan-size",
        COMPUTE,
        ("export.json", "NaN is not a number pmargin reads"),
        {"export.json": GOOD_EXPORT.replace('"size": -250000', '"size": NaN')},
    ),
    Case(
        "deribit-infinite-balance",
        COMPUTE,
        ("export.json", "Infinity is not a number pmargin reads"),
        {"export.json": GOOD_EXPORT.replace('"balance": 3.0', '"balance": -Infinity')},
    ),
    Case(
        "deribit-nested-ten-thousand-deep",
        COMPUTE,
        ("export.json", "is nested deeper than 32 levels"),
        {"export.json": "[" * 10_000 + "]" * 10_000},
    ),
    Case(
        "deribit-integer-of-5000-digits",
        COMPUTE,
        ("export.json", "holds an integer too long to read"),
        {"export.json": GOOD_EXPORT.replace('"size": -250000', '"size": ' + "9" * 5000)},
    ),
    Case(
        "deribit-balance-1e300",
        COMPUTE,
        ("`balance`", "must be ≤ 1e+12"),
        {"export.json": GOOD_EXPORT.replace('"balance": 3.0', '"balance": 1e300')},
    ),
    Case(
        "deribit-size-1e300",
        COMPUTE,
        ("export.json: [0].result[0] (BTC-PERPETUAL): `size`", "is too large"),
        {"export.json": GOOD_EXPORT.replace('"size": -250000', '"size": -1e300')},
    ),
    Case(
        "deribit-csv-column-in-two-cases",
        ("compute", "--from", "deribit", "deribit.csv"),
        ("deribit.csv:1: header", "column `size` appears more than once"),
        {"deribit.csv": "instrument_name,size,SIZE,direction\nBTC-PERPETUAL,-250000,1,sell\n"},
    ),
    Case(
        "deribit-expired-contract",
        COMPUTE,
        ("export.json: [0].result[0]: column `expiry`", "expired at 2023-12-27"),
        {
            "export.json": export(
                [{**POSITION, "instrument_name": "BTC-27DEC23", "size": 10000}], SUMMARY
            )
        },
    ),
    Case(
        "good-deribit-export-replaces-the-output",
        COMPUTE,
        (),
        {"export.json": GOOD_EXPORT},
        code=0,
        output=True,
    ),
    Case(
        "junit-over-the-portfolio-with-bad-limits",
        ("check", "book.csv", "--limits", "limits.yaml", "--junit", "book.csv"),
        ("--junit book.csv", "is an input of this run"),
        {"limits.yaml": "limits: {max_margin: -1, max_margin: 2}\n"},
    ),
]
#: ``--plot`` is refused before anything is read when matplotlib is missing, so these run where
#: it is installed (the project's CI installs the plot extra)
PLOT_CASES = [
    Case(
        "plot-over-the-market",
        ("stress", "book.csv", "-s", "crash", "--market", "m.svg", "--plot", "m.svg"),
        ("--plot m.svg", "is an input of this run"),
        {"m.svg": MARKET},
    ),
    Case(
        "plot-over-the-output",
        ("compute", "book.csv", "--plot", "c.png", "--output", "c.png", "--format", "json"),
        ("--plot c.png", "is also the --output file"),
    ),
    Case(
        "plot-of-a-million-paths",
        ("stress", "book.csv", "-s", "mc.yaml", "--top", "5", "--plot", "c.png"),
        ("--plot", "1,000,000 scenarios", "figures a chart draws"),
        {"mc.yaml": "kind: montecarlo\npaths: 1000000\n"},
        output=True,
    ),
]
if find_spec("matplotlib") is not None:
    CASES += PLOT_CASES
