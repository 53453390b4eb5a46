"""The parameters of the ``span`` model, read from its YAML (``pmargin/models/span.yaml``): the
scan ranges and short option minimum per underlying, and the inter-commodity spreads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ProblemCollector
from ..values import number, number_list, unknown_key_problem

#: the ``per_underlying`` entry that serves every underlying without its own
DEFAULT_UNDERLYING = "default"
RANGE_KEYS = ("price_scan_range", "vol_scan_range", "short_option_minimum")


@dataclass(frozen=True)
class SpanRanges:
    """SPAN parameters of one underlying.

    ``price_scan_range`` is a fraction of spot (0.16 = ±16%); ``vol_scan_range`` is absolute vol
    (0.10 = ±10 vol points); ``short_option_minimum`` is a fraction of spot charged per coin of
    underlying of each short option contract.
    """

    price_scan_range: float
    vol_scan_range: float
    short_option_minimum: float


@dataclass(frozen=True)
class InterCommoditySpread:
    """A credit between two underlyings for opposite-signed deltas in ``delta_ratio`` (coins)."""

    pair: tuple[str, str]
    credit_rate: float
    delta_ratio: tuple[float, float]


def parse_ranges(value: Any, where: str, problems: ProblemCollector) -> SpanRanges | None:
    """One ``per_underlying`` entry; None after a problem (recorded in ``problems``)."""
    if not isinstance(value, dict):
        problems.add(where, f"expected a mapping of {', '.join(RANGE_KEYS)}")
        return None
    for key in value:
        if key not in RANGE_KEYS:
            problems.append(unknown_key_problem(f"{where}.{key}", key, RANGE_KEYS))
    price = number(
        value.get("price_scan_range"), f"{where}.price_scan_range", problems, positive=True
    )
    vol = number(value.get("vol_scan_range"), f"{where}.vol_scan_range", problems, minimum=0)
    som = number(
        value.get("short_option_minimum", 0.0), f"{where}.short_option_minimum", problems, minimum=0
    )
    if price is not None and price >= 1:
        problems.add(f"{where}.price_scan_range", f"must be below 1 (100%), found {price}")
        return None
    if None in (price, vol, som):
        return None
    return SpanRanges(price, vol, som)


def parse_spreads(value: Any, where: str, problems: ProblemCollector) -> list[InterCommoditySpread]:
    """The ``inter_commodity_spreads`` list, in SPAN's priority order; bad entries left out."""
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add(where, "expected a list of {pair, credit_rate, delta_ratio}")
        return []
    spreads = []
    for i, entry in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(entry, dict):
            problems.add(
                at, "expected a mapping {pair: [A, B], credit_rate: r, delta_ratio: [a, b]}"
            )
            continue
        pair = entry.get("pair")
        if not (
            isinstance(pair, list)
            and len(pair) == 2
            and all(isinstance(p, str) for p in pair)
            and pair[0].upper() != pair[1].upper()
        ):
            problems.add(
                f"{at}.pair", f"expected two different underlyings, e.g. [BTC, ETH], found {pair!r}"
            )
            continue
        rate = number(entry.get("credit_rate"), f"{at}.credit_rate", problems, minimum=0)
        if rate is not None and rate > 1:
            problems.add(f"{at}.credit_rate", f"must be at most 1 (100%), found {rate}")
            continue
        ratio = number_list(entry.get("delta_ratio", [1, 1]), f"{at}.delta_ratio", problems)
        if len(ratio) != 2 or min(ratio, default=0) <= 0:
            problems.add(f"{at}.delta_ratio", f"expected two positive numbers, found {ratio!r}")
            continue
        if rate is not None:
            spreads.append(
                InterCommoditySpread((pair[0].upper(), pair[1].upper()), rate, (ratio[0], ratio[1]))
            )
    return spreads
