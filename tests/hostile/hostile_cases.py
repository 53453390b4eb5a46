"""The catalogue of hostile inputs: each case is files, a command, the exit code and the culprit.

A case writes ``files`` (on top of a good ``market.yaml`` and ``book.csv``) into an empty folder,
runs ``pmargin ARGS`` there and expects exit code ``code`` with every ``culprit`` substring in
stderr. With ``output``, the command also gets ``--output out.json`` over a file that exists
already: it must be intact after a failure (and replaced, as valid JSON, after a success).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from conftest import MARKET_YAML as MARKET

#: a bundled model's file, as a user's copy of it would read
STANDARD_MODEL = (Path(__file__).parents[2] / "pmargin" / "models" / "standard.yaml").read_text()

BOOK = "instrument,quantity\nBTC-27DEC24-100000-C,-1\nBTC-PERPETUAL,1000\n"
PORTFOLIO_YAML = """\
account: desk
collateral: {USD: 100000}
positions:
  - {instrument: BTC-27DEC24-100000-C, quantity: -1}
"""
LIMITS = "limits: {max_margin: 1000000}\n"
PRICES = "date,BTC,ETH\n" + "".join(
    f"2020-03-{day:02d},{7000 + 10 * day},{200 + day}\n" for day in range(1, 29)
)


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    culprits: tuple[str, ...]
    files: dict[str, str] = field(default_factory=dict)
    code: int = 2
    output: bool = False


def alias_bomb(levels: int = 10, width: int = 9) -> str:
    lines = ["a0: &a0 [" + ", ".join(["1"] * width) + "]"]
    for level in range(1, levels):
        items = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{items}]")
    return (
        "\n".join(lines) + f"\nas_of: 2024-11-25\nunderlyings:\n  BTC: {{spot: *a{levels - 1}}}\n"
    )


def grid(spot: str, vol: str = "[0]") -> str:
    return f"kind: grid\nspot: {spot}\nvol: {vol}\n"


def explicit(scenario: str) -> str:
    return f"scenarios:\n  - {scenario}\n"


def historical(extra: str = "", prices: str = PRICES) -> dict[str, str]:
    return {"hist.yaml": f"kind: historical\nprices: prices.csv\n{extra}", "prices.csv": prices}


def montecarlo(extra: str) -> str:
    return f"kind: montecarlo\npaths: 100\n{extra}"


COMPUTE = ("compute", "book.csv")
STRESS = ("stress", "book.csv", "--scenario", "s.yaml")
HISTORICAL = ("stress", "book.csv", "--scenario", "hist.yaml")

CASES = [
    # ---- duplicate keys (YAML), naming the key and both lines -----------------------------
    Case(
        "market-duplicate-underlying",
        COMPUTE,
        ("market.yaml:5", "duplicate key `BTC`", "lines 4 and 5"),
        {"market.yaml": MARKET.replace("  ETH:", "  BTC: {spot: 1}\n  ETH:", 1)},
    ),
    Case(
        "market-duplicate-spot",
        COMPUTE,
        ("market.yaml:6", "duplicate key `spot`", "lines 5 and 6"),
        {
            "market.yaml": "as_of: 2024-11-25\nrate: 0\nunderlyings:\n  BTC:\n"
            "    spot: 100000\n    spot: 50000\n    vol: 0.5\n"
        },
        output=True,
    ),
    Case(
        "market-underlyings-differing-in-case",
        COMPUTE,
        ("`BTC` and `btc` are the same underlying", "lines 4 and 6"),
        {"market.yaml": MARKET.rstrip("\n").rsplit("correlations", 1)[0] + "  btc: {spot: 1}\n"},
    ),
    Case(
        "smile-point-twice-as-int-and-float",
        COMPUTE,
        ("duplicate key `90000.0` (the same key as `90000`)", "lines 6 and 7"),
        {
            "market.yaml": "as_of: 2024-11-25\nunderlyings:\n  BTC:\n    spot: 100000\n    smile:\n"
            "      2024-12-27: {90000: 0.5,\n        90000.0: 0.6}\n"
        },
    ),
    Case(
        "smile-point-twice-as-number-and-text",
        COMPUTE,
        ("`90000` and `9e4` are the same strike",),
        {
            "market.yaml": "as_of: 2024-11-25\nunderlyings:\n  BTC:\n    spot: 100000\n    smile:\n"
            "      2024-12-27: {90000: 0.5, '9e4': 0.6}\n"
        },
    ),
    Case(
        "smile-point-twice-as-two-numbers",
        COMPUTE,
        ("market.yaml:6", "duplicate key `9e4` (the same key as `90000`)"),
        {
            "market.yaml": "as_of: 2024-11-25\nunderlyings:\n  BTC:\n    spot: 100000\n    smile:\n"
            "      2024-12-27: {90000: 0.5, 9e4: 0.6}\n"
        },
    ),
    Case(
        "forward-expiry-twice-in-two-spellings",
        COMPUTE,
        ("are the same expiry",),
        {
            "market.yaml": MARKET.replace(
                "BTC: {spot: 100000, vol: 0.5}",
                "BTC: {spot: 100000, vol: 0.5, forwards: {2024-12-27: 101000, "
                "'2024-12-27T08:00:00Z': 99000}}",
            )
        },
    ),
    Case(
        "correlation-pair-differing-in-case",
        ("stress", "book.csv", "--scenario", "s.yaml"),
        ("`ETH` and `eth` are the same underlying",),
        {
            "market.yaml": MARKET.replace("BTC: {ETH: 0.8}", "BTC: {ETH: 0.8, eth: 0.8}"),
            "s.yaml": montecarlo("horizon_days: 1\n"),
        },
    ),
    Case(
        "self-correlation-not-one",
        COMPUTE,
        ("correlations.BTC.BTC", "correlation of BTC with itself is 1, found 0.9"),
        {"market.yaml": MARKET.replace("BTC: {ETH: 0.8}", "BTC: {ETH: 0.8, BTC: 0.9}")},
    ),
    Case(
        "collateral-coins-differing-in-case",
        ("compute", "book.yaml"),
        ("collateral", "`BTC` and `btc` are the same currency", "lines 3 and 4"),
        {"book.yaml": PORTFOLIO_YAML.replace("{USD: 100000}", "\n  BTC: 1\n  btc: 5")},
    ),
    Case(
        "quantity-twice-in-a-position",
        ("compute", "book.yaml"),
        ("book.yaml:4", "duplicate key `quantity` (lines 3 and 4 of one mapping)"),
        {
            "book.yaml": "positions:\n  - instrument: BTC-27DEC24-100000-C\n"
            "    quantity: -1\n    quantity: -10\n"
        },
    ),
    Case(
        "positions-key-twice",
        ("compute", "book.yaml"),
        ("duplicate key `positions`",),
        {"book.yaml": PORTFOLIO_YAML + "positions: []\n"},
        output=True,
    ),
    Case(
        "scenario-shock-twice",
        STRESS,
        ("s.yaml:2", "duplicate key `spot` (both on line 2"),
        {"s.yaml": "scenarios:\n  - {name: a, spot: -0.1, spot: -0.9}\n"},
    ),
    Case(
        "scenario-underlyings-differing-in-case",
        STRESS,
        ("scenarios[0].shocks", "`BTC` and `btc` are the same underlying"),
        {"s.yaml": explicit("{name: a, shocks: {BTC: {spot: -0.1}, btc: {spot: -0.5}}}")},
    ),
    Case(
        "limits-key-twice",
        ("check", "book.csv", "--limits", "limits.yaml"),
        ("duplicate key `max_margin`",),
        {"limits.yaml": "limits:\n  max_margin: 1\n  max_margin: 1000000\n"},
    ),
    Case(
        "limits-delta-underlyings-differing-in-case",
        ("check", "book.csv", "--limits", "limits.yaml"),
        ("max_delta", "`BTC` and `btc` are the same underlying"),
        {"limits.yaml": "limits:\n  max_delta: {BTC: 1, btc: 1000}\n"},
    ),
    Case(
        "config-key-twice",
        ("compute",),
        ("pmargin.yaml:2", "duplicate key `portfolio`"),
        {"pmargin.yaml": "portfolio: book.csv\nportfolio: other.csv\n"},
    ),
    Case(
        "model-key-twice",
        ("compute", "book.csv", "--model", "m.yaml"),
        ("m.yaml:3", "duplicate key `maintenance_ratio`"),
        {"m.yaml": "method: standard\nmaintenance_ratio: 1\nmaintenance_ratio: 0.1\n"},
    ),
    Case(
        "span-underlyings-differing-in-case",
        ("compute", "book.csv", "--model", "m.yaml"),
        ("per_underlying", "`BTC` and `btc` are the same underlying"),
        {
            "m.yaml": "method: span\nper_underlying:\n  BTC: {price_scan: 0.16, vol_scan: 0.1}\n"
            "  btc: {price_scan: 0.01, vol_scan: 0.1}\n"
        },
    ),
    Case(
        "historical-proxies-differing-in-case",
        HISTORICAL,
        ("proxies", "`SOL` and `sol` are the same underlying"),
        historical("proxies: {SOL: ETH, sol: BTC}\n"),
    ),
    # ---- impossible and non-ISO dates ----------------------------------------------------
    Case(
        "market-as-of-february-30",
        COMPUTE,
        ("market.yaml:1", "`as_of`", "impossible date '2024-02-30'"),
        {"market.yaml": MARKET.replace("2024-11-25T08:00:00Z", "2024-02-30")},
        output=True,
    ),
    Case(
        "forward-expiry-month-13",
        COMPUTE,
        ("market.yaml:4", "impossible date '2024-13-01'"),
        {"market.yaml": MARKET.replace("vol: 0.5}", "vol: 0.5, forwards: {2024-13-01: 1}}")},
    ),
    Case(
        "market-as-of-compact",
        COMPUTE,
        ("as_of", "'20241125' is not a date", "YYYY-MM-DD"),
        {"market.yaml": MARKET.replace("2024-11-25T08:00:00Z", "'20241125'")},
    ),
    Case(
        "csv-expiry-compact",
        COMPUTE,
        ("book.csv:2: column `expiry`", "cannot read date '20241227'", "YYYY-MM-DD"),
        {
            "book.csv": "underlying,kind,expiry,strike,right,quantity\n"
            "BTC,option,20241227,100000,C,1\n"
        },
    ),
    Case(
        "csv-expiry-february-30",
        COMPUTE,
        ("book.csv:2: column `expiry`", "'2025-02-30'"),
        {"book.csv": "underlying,kind,expiry,quantity\nBTC,future,2025-02-30,1\n"},
    ),
    Case(
        "yaml-position-expiry-impossible",
        ("compute", "book.yaml"),
        ("book.yaml:3", "`expiry`", "impossible date '2025-02-29'"),
        {
            "book.yaml": "positions:\n  - {underlying: BTC, kind: future,\n"
            "     expiry: 2025-02-29, quantity: 1}\n"
        },
    ),
    Case(
        "historical-window-impossible",
        HISTORICAL,
        ("hist.yaml:3", "`start`", "impossible date '2020-02-30'"),
        historical("start: 2020-02-30\n"),
    ),
    Case(
        "historical-prices-compact-dates",
        HISTORICAL,
        ("prices.csv:2: column `date`", "'20200301' is not a date"),
        historical(prices=PRICES.replace("2020-03-01", "20200301")),
    ),
    # ---- bounded work ----------------------------------------------------------------------
    Case(
        "alias-bomb-in-spot",
        COMPUTE,
        ("market.yaml", "refused", "expands to more than 1,000,000 values"),
        {"market.yaml": alias_bomb()},
        output=True,
    ),
    Case(
        "too-many-aliases",
        COMPUTE,
        ("market.yaml", "more than 1,000 aliases"),
        {"market.yaml": "a: &a 1\nb: [" + ", ".join(["*a"] * 1001) + "]\n" + MARKET},
    ),
    Case(
        "nesting-too-deep",
        COMPUTE,
        ("market.yaml:1", "nested deeper than 32 levels"),
        {"market.yaml": "as_of: " + "[" * 5000 + "]" * 5000 + "\n"},
    ),
    Case(
        "grid-ten-million-steps",
        STRESS,
        ("s.yaml: spot.steps", "at most 1,000 steps, found 10,000,000"),
        {"s.yaml": grid("{min: -0.5, max: 0.5, steps: 10000000}")},
        output=True,
    ),
    Case(
        "grid-one-step-spanning-a-range",
        STRESS,
        ("s.yaml: spot.steps", "1 step cannot span min -0.1 to max 0.1"),
        {"s.yaml": grid("{min: -0.1, max: 0.1, steps: 1}")},
    ),
    Case(
        "grid-fractional-steps",
        STRESS,
        ("spot.steps", "must be a whole number ≥ 1"),
        {"s.yaml": grid("{min: -0.1, max: 0.1, steps: 2.5}")},
    ),
    Case(
        "grid-product-too-large",
        STRESS,
        ("s.yaml", "is 1,000,000 scenarios, more than the 100,000 a set may have"),
        {
            "s.yaml": grid(
                "{min: -0.5, max: 0.5, steps: 1000}", "{min: -0.5, max: 0.5, steps: 1000}"
            )
        },
    ),
    Case(
        "montecarlo-paths-too-many",
        STRESS,
        ("s.yaml: paths", "at most 1,000,000 paths"),
        {"s.yaml": "kind: montecarlo\npaths: 1000000000000\n"},
    ),
    Case(
        "million-paths-listed-without-top",
        STRESS,
        ("--top", "1,000,000 scenarios × 1 underlyings", "Pass e.g. `--top 100`"),
        {"s.yaml": "kind: montecarlo\npaths: 1000000\n"},
    ),
    Case(
        "million-paths-on-sixty-instruments",
        (*STRESS, "--top", "10"),
        ("s.yaml", "1,000,000 scenarios × 60 instruments", "more than the 50,000,000"),
        {
            "s.yaml": "kind: montecarlo\npaths: 1000000\n",
            "book.csv": "instrument,quantity\n"
            + "".join(f"BTC-27DEC24-{80000 + 500 * i}-C,-1\n" for i in range(60)),
        },
    ),
    Case(
        "million-paths-on-eleven-underlyings",
        (*STRESS, "--top", "10"),
        ("s.yaml", "1,000,000 paths × 11 underlyings", "more than the 10,000,000"),
        {
            "s.yaml": "kind: montecarlo\npaths: 1000000\n",
            "market.yaml": "as_of: 2024-11-25\nunderlyings:\n"
            + "".join(f"  C{i}: {{spot: 10, vol: 0.5}}\n" for i in range(11)),
            "book.csv": "instrument,quantity\n"
            + "".join(f"C{i}_USDC-PERPETUAL,1\n" for i in range(11)),
        },
    ),
    # ---- numbers that would overflow -------------------------------------------------------
    Case(
        "multiplier-1e308",
        COMPUTE,
        ("book.csv:2: column `multiplier`", "must be between 1e-12 and 1e+09"),
        {"book.csv": "instrument,quantity,multiplier\nBTC-PERPETUAL,1,1e308\n"},
        output=True,
    ),
    Case(
        "quantity-1e300",
        COMPUTE,
        ("book.csv:2: column `quantity`", "too large (at most 1e+12 contracts)"),
        {"book.csv": "instrument,quantity\nBTC-PERPETUAL,1e300\n"},
    ),
    Case(
        "spot-1e-300",
        COMPUTE,
        ("underlyings.BTC.spot", "must be ≥ 1e-12"),
        {"market.yaml": MARKET.replace("spot: 100000", "spot: 1e-300")},
    ),
    Case(
        "spot-1e308",
        COMPUTE,
        ("underlyings.BTC.spot", "must be ≤ 1e+12"),
        {"market.yaml": MARKET.replace("spot: 100000", "spot: 1.0e+308")},
    ),
    Case(
        "carry-10000",
        COMPUTE,
        ("underlyings.BTC.carry", "must be ≤ 5, found 10000"),
        {"market.yaml": MARKET.replace("vol: 0.5}", "vol: 0.5, carry: 10000}")},
    ),
    Case(
        "rate-infinite",
        COMPUTE,
        ("market.yaml: rate", "is not a finite number"),
        {"market.yaml": MARKET.replace("rate: 0.0", "rate: .inf")},
    ),
    Case(
        "vol-1e308",
        COMPUTE,
        ("underlyings.BTC.vol", "must be ≤ 10"),
        {"market.yaml": MARKET.replace("vol: 0.5", "vol: 1.0e+308")},
    ),
    Case(
        "collateral-1e300",
        ("compute", "book.yaml"),
        ("collateral.USD", "must be ≤ 1e+12"),
        {"book.yaml": PORTFOLIO_YAML.replace("USD: 100000", "USD: 1.0e+300")},
    ),
    Case(
        "strike-below-the-least-price",
        COMPUTE,
        ("book.csv:2: column `strike`", "must be ≥ 1e-12"),
        {
            "book.csv": "underlying,kind,expiry,strike,right,quantity\n"
            "BTC,option,2024-12-27,1e-300,C,1\n"
        },
    ),
    Case(
        "expiry-far-in-the-future",
        COMPUTE,
        ("book.csv:2: `expiry`", "more than 30 years after the market's as_of"),
        {"book.csv": "underlying,kind,expiry,quantity\nBTC,future,2199-12-27,1\n"},
    ),
    Case(
        "historical-horizon-ten-million-days",
        HISTORICAL,
        ("hist.yaml: horizon_days", "must be ≤ 3650"),
        historical("horizon_days: 10000000\n"),
    ),
    Case(
        "montecarlo-horizon-ten-million-days",
        STRESS,
        ("s.yaml: horizon_days", "must be ≤ 3650"),
        {"s.yaml": montecarlo("horizon_days: 1.0e+7\n")},
    ),
    Case(
        "montecarlo-df-huge",
        STRESS,
        ("s.yaml: df", "must be ≤ 1e+06"),
        {"s.yaml": montecarlo("distribution: student_t\ndf: 1.0e+300\n")},
    ),
    Case(
        "scenario-spot-move-1e300",
        STRESS,
        ("scenarios[0].spot", "must be ≤ 100"),
        {"s.yaml": explicit("{name: a, spot: 1.0e+300}")},
    ),
    Case(
        "scenario-vol-move-below-minus-one",
        STRESS,
        ("scenarios[0].vol", "must be ≥ -1"),
        {"s.yaml": explicit("{name: a, vol: -5}")},
    ),
    Case(
        "scenario-days-1e7",
        STRESS,
        ("scenarios[0].days", "must be ≤ 3650"),
        {"s.yaml": explicit("{name: a, days: 1.0e+7}")},
    ),
    Case(
        "scenario-weight-1e300",
        STRESS,
        ("scenarios[0].weight", "must be ≤ 10"),
        {"s.yaml": explicit("{name: a, spot: -0.1, weight: 1.0e+300}")},
    ),
    Case(
        "vol-term-power-1e15",
        STRESS,
        ("vol_term.short_power", "must be ≤ 2"),
        {"s.yaml": "vol_term: {short_power: 1.0e+15}\n" + explicit("{name: a, vol: 0.5}")},
    ),
    Case(
        "var-model-horizon-infinite",
        ("compute", "book.csv", "--model", "m.yaml"),
        ("m.yaml: horizon_days",),
        {
            "m.yaml": "method: var\nscenarios: historical\nhorizon_days: .inf\n"
            "historical: {prices: prices.csv}\n",
            "prices.csv": PRICES,
        },
    ),
    Case(
        "limit-1e300",
        ("check", "book.csv", "--limits", "limits.yaml"),
        ("limits.max_margin", "is too large"),
        {"limits.yaml": "limits: {max_margin: 1.0e+300}\n"},
    ),
    Case(
        "huge-cell-is-cut-in-the-message",
        COMPUTE,
        ("book.csv:2: column `quantity`", "...", "is not a finite number"),
        {"book.csv": "instrument,quantity\nBTC-PERPETUAL," + "x" * 100_000 + "\n"},
    ),
    Case(
        "huge-symbol-is-cut-in-the-message",
        COMPUTE,
        ("book.csv:2: column `instrument`", "cannot read symbol"),
        {"book.csv": "instrument,quantity\n" + "A" * 100_000 + "_USDC,1\n"},
    ),
    # ---- semantics -------------------------------------------------------------------------
    Case(
        "usd-mark-on-an-inverse-option",
        COMPUTE,
        ("book.csv:2: `mark_price`", "mark 1060", "inverse option's mark is in BTC, not USD"),
        {"book.csv": "instrument,quantity,mark_price\nBTC-27DEC24-110000-C,-1,1060\n"},
        output=True,
    ),
    Case(
        "usd-mark-on-an-inverse-option-in-yaml-with-collateral",
        ("compute", "book.yaml"),
        ("positions[0]: `mark_price`", "inverse option's mark is in BTC"),
        {
            "book.yaml": "collateral: {USD: 100000}\npositions:\n"
            "  - {instrument: BTC-27DEC24-110000-C, quantity: -1, mark_price: 1060}\n"
        },
    ),
    Case(
        "inverse-mark-below-intrinsic",
        COMPUTE,
        ("`mark_price`", "below the option's intrinsic value"),
        {"book.csv": "instrument,quantity,mark_price\nBTC-27DEC24-50000-C,-1,0.1\n"},
    ),
    Case(
        "linear-mark-above-the-forward",
        COMPUTE,
        ("`mark_price`", "above the most this call can be worth"),
        {"book.csv": "instrument,quantity,mark_price\nBTC_USDC-27DEC24-90000-C,1,200000\n"},
    ),
    Case(
        "mark-zero-on-a-perpetual",
        COMPUTE,
        ("`mark_price`", "a perpetual's price must be > 0"),
        {"book.csv": "instrument,quantity,mark_price,entry_price\nBTC-PERPETUAL,10,0,95000\n"},
    ),
    Case(
        "entry-price-zero",
        COMPUTE,
        ("column `entry_price`", "must be > 0"),
        {"book.csv": "instrument,quantity,entry_price\nBTC-PERPETUAL,10,0\n"},
    ),
    Case(
        "strike-zero-in-a-symbol",
        COMPUTE,
        ("book.csv:2: column `instrument`", "strike 0; an option's strike must be > 0"),
        {"book.csv": "instrument,quantity\nBTC-27DEC24-0-P,1\n"},
    ),
    Case(
        "same-id-on-two-rows",
        COMPUTE,
        ("book.csv:3: column `id`", "'p1' is already the id of book.csv:2"),
        {"book.csv": "id,instrument,quantity\np1,BTC-PERPETUAL,1\np1,ETH-PERPETUAL,1\n"},
    ),
    Case(
        "same-id-on-a-position-and-an-order",
        ("compute", "book.yaml"),
        ("orders[0]: column `id`", "already the id of"),
        {
            "book.yaml": "positions:\n  - {id: a, instrument: BTC-PERPETUAL, quantity: 1}\n"
            "orders:\n  - {id: a, instrument: BTC-PERPETUAL, quantity: 1, price: 90000}\n"
        },
    ),
    Case(
        "order-with-price-and-entry-price",
        ("compute", "book.yaml"),
        ("orders[0]", "has both `price` and `entry_price`"),
        {
            "book.yaml": "orders:\n  - {instrument: BTC-PERPETUAL, quantity: 1, price: 90000, "
            "entry_price: 91000}\n"
        },
    ),
    Case(
        "expired-contract",
        COMPUTE,
        ("book.csv:2: column `expiry`", "expired at 2023-12-27"),
        {"book.csv": "instrument,quantity\nBTC-27DEC23-100000-C,1\n"},
    ),
    Case(
        "historical-gap-is-a-warning",
        HISTORICAL,
        ("warning", "prices.csv: 1 gap longer than 3 days", "2020-03-10 → 2020-03-20"),
        historical(
            prices="".join(
                line + "\n"
                for line in PRICES.splitlines()
                if not ("2020-03-11" <= line[:10] <= "2020-03-19")
            )
        ),
        code=0,
    ),
    # ---- validate runs compute's checks, in one list ---------------------------------------
    Case(
        "validate-expired-and-bad-quantity-in-one-list",
        ("validate", "book.csv"),
        ("2 problems", "book.csv:2: column `quantity`", "book.csv:3: column `expiry`: expired"),
        {"book.csv": "instrument,quantity\nBTC-PERPETUAL,ten\nBTC-27DEC23,1\n"},
    ),
    Case(
        "validate-finds-the-market-like-compute",
        ("validate", "book.csv"),
        ("unknown underlying SOL",),
        {"book.csv": "instrument,quantity\nSOL_USDC-PERPETUAL,1\n"},
    ),
    Case(
        "validate-checks-marks-against-the-market",
        ("validate", "book.csv"),
        ("inverse option's mark is in BTC",),
        {"book.csv": "instrument,quantity,mark_price\nBTC-27DEC24-110000-C,-1,1060\n"},
    ),
    Case(
        "validate-reports-historical-gaps",
        ("validate", "hist.yaml"),
        ("warning", "gap longer than 3 days"),
        historical(prices=PRICES.replace("2020-03-15", "2020-04-15")),
        code=0,
    ),
    # ---- output files ----------------------------------------------------------------------
    Case(
        "output-over-the-portfolio",
        ("compute", "book.csv", "--output", "book.csv"),
        ("--output book.csv", "is an input of this run"),
    ),
    Case(
        "output-over-the-market",
        ("compute", "book.csv", "--output", "./market.yaml"),
        ("--output market.yaml", "is an input of this run"),
    ),
    Case(
        "output-over-a-scenario-file",
        ("stress", "book.csv", "--scenario", "s.yaml", "-o", "s.yaml"),
        ("--output s.yaml", "is an input"),
        {"s.yaml": explicit("{name: a, spot: -0.1}")},
    ),
    Case(
        "output-over-the-model-file",
        ("compute", "book.csv", "--model", "m.yaml", "--output", "m.yaml"),
        ("--output m.yaml", "is an input"),
        {"m.yaml": STANDARD_MODEL},
    ),
    Case(
        "output-over-the-model-file-explain",
        ("explain", "book.csv", "--model", "m.yaml", "--output", "m.yaml"),
        ("--output m.yaml", "is an input"),
        {"m.yaml": STANDARD_MODEL},
    ),
    Case(
        "output-over-the-model-file-whatif",
        (
            "whatif",
            "book.csv",
            "--add",
            "BTC-PERPETUAL:1",
            "--model",
            "m.yaml",
            "--output",
            "m.yaml",
        ),
        ("--output m.yaml", "is an input"),
        {"m.yaml": STANDARD_MODEL},
    ),
    Case(
        "output-over-the-model-file-breakeven",
        ("breakeven", "book.csv", "--loss", "1000", "--model", "m.yaml", "--output", "m.yaml"),
        ("--output m.yaml", "is an input"),
        {"m.yaml": STANDARD_MODEL},
    ),
    Case(
        "output-over-the-scenario-file-scenarios-show",
        ("scenarios", "show", "s.yaml", "--output", "s.yaml"),
        ("--output s.yaml", "is an input"),
        {"s.yaml": explicit("{name: a, spot: -0.1}")},
    ),
    Case(
        "scenarios-show-of-no-such-set-names-the-command",
        ("scenarios", "show", "nosuch"),
        ("scenarios show nosuch", "no such file or bundled scenario set"),
    ),
    Case(
        "output-over-the-model-file-models-show",
        ("models", "show", "m.yaml", "--output", "m.yaml"),
        ("--output m.yaml", "is an input"),
        {"m.yaml": STANDARD_MODEL},
    ),
    Case(
        "junit-over-the-limits-file",
        ("check", "book.csv", "--limits", "limits.yaml", "--junit", "limits.yaml"),
        ("--junit limits.yaml", "is an input of this run"),
        {"limits.yaml": LIMITS},
    ),
    Case(
        "output-into-a-missing-folder",
        ("compute", "book.csv", "--output", "no/such/out.json"),
        ("--output no/such/out.json", "cannot write"),
    ),
    Case(
        "output-is-a-folder",
        ("compute", "book.csv", "--output", "."),
        ("--output .", "is a folder"),
    ),
    Case("good-compute-replaces-the-output", COMPUTE, (), code=0, output=True),
    Case(
        "bad-quantity-leaves-the-output-intact",
        COMPUTE,
        ("book.csv:2: column `quantity`",),
        {"book.csv": "instrument,quantity\nBTC-PERPETUAL,x\n"},
        output=True,
    ),
]
