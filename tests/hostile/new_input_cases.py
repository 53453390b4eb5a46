"""Hostile inputs to what came after the first catalogue (hostile_cases.py): the market's
``rates:`` and ``perpetual_price:``, the deribit and derive parameter files, the ``liquidation:``
block every model carries, ``pmargin liquidate`` (and its ``--positions-after`` file) and
``pmargin market estimate`` (and its snapshot). Same rules: the exit code, the culprit named on
stderr, no traceback, and an ``--output`` file intact after a failure."""

from __future__ import annotations

from pathlib import Path

import yaml
from hostile_cases import MARKET, STANDARD_MODEL, Case

MODELS = Path(__file__).parents[2] / "pmargin" / "models"
DERIBIT_MODEL = (MODELS / "deribit.yaml").read_text()
DERIVE_MODEL = (MODELS / "derive.yaml").read_text()
ACCOUNT = """\
account: desk
collateral: {USD: 2000}
positions:
  - {instrument: BTC-27DEC24-100000-C, quantity: -1}
"""
#: 40 calendar days of BTC and ETH closes from 2024-01-01 (line 2 on), enough for an estimate
CLOSES = "date,BTC,ETH\n" + "".join(
    f"{day},{40000 + 500 * (i % 7)},{2500 + 40 * (i % 5)}\n"
    for i, day in enumerate(
        f"2024-{month:02d}-{d:02d}" for month, days in ((1, 31), (2, 9)) for d in range(1, days + 1)
    )
)
LIQUIDATE = ("liquidate", "account.yaml")
ESTIMATE = ("market", "estimate", "closes.csv")


def market_with(underlying_extra: str = "", top: str = "") -> str:
    """The catalogue's market with ``underlying_extra`` in BTC's mapping and ``top`` lines."""
    text = MARKET.replace("vol: 0.5}", f"vol: 0.5{underlying_extra}}}", 1)
    return text + top


def model_with(text: str, change) -> str:
    """A bundled model's YAML ``text``, parsed, changed by ``change(document)``, written back."""
    document = yaml.safe_load(text)
    change(document)
    return yaml.safe_dump(document, sort_keys=False)


def _pair_twice(document: dict) -> None:
    document["currency_pairs"]["btc"] = dict(document["currency_pairs"]["BTC"])


def _derive_far_move(document: dict) -> None:
    document["scenarios"][0]["spot"] = 1.0e6


CASES = [
    # ---- the market's rates per expiry and perpetual price ---------------------------------
    Case(
        "market-rate-expiry-impossible",
        ("compute", "book.csv"),
        ("market.yaml:8", "a key of `rates`", "impossible date '2024-02-30'"),
        {"market.yaml": market_with(top="rates: {2024-02-30: 0.05}\n")},
    ),
    Case(
        "market-rate-expiry-not-iso",
        ("compute", "book.csv"),
        ("rates.20241227", "'20241227' is not a date", "YYYY-MM-DD"),
        {"market.yaml": market_with(top="rates: {'20241227': 0.05}\n")},
    ),
    Case(
        "market-rate-per-expiry-5000-percent",
        ("compute", "book.csv"),
        ("rates.2024-12-27", "must be ≤ 5"),
        {"market.yaml": market_with(top="rates: {2024-12-27: 50}\n")},
    ),
    Case(
        "market-rate-expiry-written-twice",
        ("compute", "book.csv"),
        ("market.yaml: rates", "are the same expiry (lines 9 and 10)"),
        {
            "market.yaml": market_with(
                top="rates:\n  2024-12-27: 0.05\n  2024-12-27T08:00:00Z: 0.06\n"
            )
        },
    ),
    Case(
        "market-perpetual-price-1e300",
        ("compute", "book.csv"),
        ("underlyings.BTC.perpetual_price", "must be ≤ 1e+12"),
        {"market.yaml": market_with(", perpetual_price: 1.0e+300")},
    ),
    Case(
        "market-perpetual-price-twice",
        ("compute", "book.csv"),
        ("market.yaml:4", "duplicate key `perpetual_price`"),
        {"market.yaml": market_with(", perpetual_price: 100100, perpetual_price: 1")},
    ),
    # ---- model parameter files -------------------------------------------------------------
    Case(
        "deribit-buckets-count-ten-million",
        ("compute", "book.csv", "--model", "m.yaml"),
        ("general.buckets_count", "at most 1,000"),
        {"m.yaml": DERIBIT_MODEL.replace("buckets_count: 4 ", "buckets_count: 10000000 ")},
    ),
    Case(
        "deribit-mm-factor-above-one",
        ("compute", "book.csv", "--model", "m.yaml"),
        ("general.mm_factor", "must be ≤ 1"),
        {"m.yaml": DERIBIT_MODEL.replace("mm_factor: 0.8 ", "mm_factor: 8 ")},
    ),
    Case(
        "deribit-pair-written-in-two-cases",
        ("compute", "book.csv", "--model", "m.yaml"),
        ("currency_pairs", "`BTC` and `btc` are the same name"),
        {"m.yaml": model_with(DERIBIT_MODEL, _pair_twice)},
    ),
    Case(
        "deribit-extended-move-1e300",
        ("compute", "book.csv", "--model", "m.yaml"),
        ("extended_table.moves[7]", "must be ≤ 100"),
        {"m.yaml": DERIBIT_MODEL.replace("4.0, 5.0]", "4.0, 1.0e+300]")},
    ),
    Case(
        "derive-scenario-spot-move-a-million",
        ("compute", "book.csv", "--model", "m.yaml"),
        ("scenarios[0].spot", "must be ≤ 100"),
        {"m.yaml": model_with(DERIVE_MODEL, _derive_far_move)},
    ),
    Case(
        "model-liquidation-fee-500-percent",
        ("compute", "book.csv", "--model", "m.yaml"),
        ("liquidation.fee_rate.option", "must be ≤ 1"),
        {"m.yaml": STANDARD_MODEL.replace("option: 0.0019 ", "option: 5 ")},
    ),
    Case(
        "model-liquidation-lot-in-two-cases",
        ("compute", "book.csv", "--model", "m.yaml"),
        ("liquidation.lot", "`BTC` and `btc` are the same underlying"),
        {"m.yaml": STANDARD_MODEL.replace("lot: {BTC: 1.0,", "lot: {BTC: 1.0, btc: 0.001,")},
    ),
    Case(
        "model-liquidation-buffer-twice",
        ("compute", "book.csv", "--model", "m.yaml"),
        ("duplicate key `buffer`",),
        {"m.yaml": STANDARD_MODEL.replace("  buffer: 0.0 ", "  buffer: 0.0\n  buffer: 5 ")},
    ),
    # ---- pmargin liquidate -----------------------------------------------------------------
    Case(
        "liquidate-buffer-1e300",
        (*LIQUIDATE, "--buffer", "1e300"),
        ("buffer", "must be a number from 0 to 10"),
        {"account.yaml": ACCOUNT},
    ),
    Case(
        "liquidate-collateral-in-two-cases",
        LIQUIDATE,
        ("collateral", "`USD` and `usd` are the same currency"),
        {"account.yaml": ACCOUNT.replace("{USD: 2000}", "{USD: 2000, usd: 5}")},
    ),
    Case(
        "liquidate-cash-debit-1e300",
        LIQUIDATE,
        ("collateral.USD", "must be ≥ -1e+12"),
        {"account.yaml": ACCOUNT.replace("{USD: 2000}", "{USD: -1.0e+300}")},
    ),
    Case(
        "liquidate-positions-after-over-the-portfolio",
        (*LIQUIDATE, "--positions-after", "account.yaml"),
        ("--positions-after account.yaml", "is an input of this run"),
        {"account.yaml": ACCOUNT},
    ),
    Case(
        "liquidate-positions-after-over-the-output",
        (*LIQUIDATE, "--positions-after", "out.json"),
        ("--positions-after out.json", "is also the --output file"),
        {"account.yaml": ACCOUNT},
        output=True,
    ),
    Case(
        "liquidate-positions-after-into-a-missing-folder",
        (*LIQUIDATE, "--positions-after", "no/such/after.yaml"),
        ("--positions-after no/such/after.yaml", "cannot write"),
        {"account.yaml": ACCOUNT},
        output=True,
    ),
    Case(
        "liquidate-output-over-the-model-file",
        (*LIQUIDATE, "--model", "m.yaml", "--output", "m.yaml"),
        ("--output m.yaml", "is an input of this run"),
        {"account.yaml": ACCOUNT, "m.yaml": STANDARD_MODEL},
    ),
    Case(
        "good-liquidate-replaces-the-output",
        (*LIQUIDATE, "--positions-after", "after.yaml"),
        (),
        {"account.yaml": ACCOUNT},
        code=0,
        output=True,
    ),
    # ---- pmargin market estimate -----------------------------------------------------------
    Case(
        "estimate-compact-date",
        ESTIMATE,
        ("closes.csv:2: column `date`", "'20240101' is not a date"),
        {"closes.csv": CLOSES.replace("2024-01-01,", "20240101,")},
    ),
    Case(
        "estimate-column-in-two-cases",
        ESTIMATE,
        ("closes.csv:1: header", "`BTC` and `btc` are the same column"),
        {"closes.csv": CLOSES.replace("date,BTC,ETH", "date,BTC,btc")},
    ),
    Case(
        "estimate-close-1e300",
        ESTIMATE,
        ("closes.csv:5: `BTC`", "expected a positive price (1e-12 to 1e+12 USD)"),
        {"closes.csv": CLOSES.replace("2024-01-04,41500,", "2024-01-04,1e300,")},
    ),
    Case(
        "estimate-vol-a-snapshot-cannot-hold",
        ESTIMATE,
        ("closes.csv: column `BTC`", "above the 1,000% a market snapshot holds"),
        {"closes.csv": CLOSES.replace("2024-01-04,41500,", "2024-01-04,415000000000,")},
    ),
    Case(
        "estimate-output-over-the-prices",
        (*ESTIMATE, "--output", "closes.csv"),
        ("--output closes.csv", "is an input of this run"),
        {"closes.csv": CLOSES},
    ),
    Case(
        "estimate-output-over-the-base-market",
        (*ESTIMATE, "--market", "market.yaml", "-o", "market.yaml"),
        ("--output market.yaml", "is an input of this run"),
        {"closes.csv": CLOSES},
    ),
    Case(
        "estimate-output-into-a-missing-folder",
        (*ESTIMATE, "--output", "no/such/m.yaml"),
        ("--output no/such/m.yaml", "cannot write the market snapshot"),
        {"closes.csv": CLOSES},
    ),
]
