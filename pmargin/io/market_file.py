"""Market snapshot loader (YAML).

Format (SPEC §3)::

    as_of: 2024-11-25T08:00:00Z       # UTC instant; a bare date means 08:00 UTC
    rate: 0.0                         # USD rate, continuously compounded
    rates: {2024-12-27: 0.05}         # optional USD rate per expiry; other expiries use `rate`
    underlyings:
      BTC:
        spot: 95000                   # USD per coin, > 0
        vol: 0.55                     # flat implied vol (decimal), used when there is no smile
        forwards: {2024-12-27: 95800} # optional quoted forwards per expiry
        carry: 0.0                    # optional yield: forward = spot·exp((rate − carry)·T)
        perpetual_price: 95100        # optional mark of the perpetuals (default: spot)
        smile:                        # optional: expiry -> {strike: vol}
          2024-12-27: {80000: 0.62, 95000: 0.55, 110000: 0.57}
      ETH: {spot: 3400, vol: 0.65}
    correlations:                     # optional, symmetric; needed by Monte Carlo
      BTC: {ETH: 0.85}
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import MarketDataError, Problem, ProblemCollector
from ..market import Market, Smile, UnderlyingMarket
from ..values import finite_number, unknown_key_problem
from .deribit_export import AUTO, is_deribit_file
from .deribit_market import deribit_market_document
from .yaml_safe import load_yaml

MARKET_KEYS = ("as_of", "rate", "rates", "underlyings", "correlations", "description", "name")
UNDERLYING_KEYS = ("spot", "vol", "forwards", "carry", "smile", "perpetual_price")
DEMO_MARKET = "demo_market.yaml"


def bundled_market_path() -> Path:
    """Path of the bundled demo market snapshot."""
    return Path(str(resources.files("pmargin") / "data" / DEMO_MARKET))


def parse_instant(value, where: str, problems: ProblemCollector) -> datetime | None:
    """A UTC datetime from a YAML date, datetime or ISO 8601 string; a bare date is 08:00 UTC."""
    if isinstance(value, datetime):
        return (
            value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
        )
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, 8, tzinfo=timezone.utc)
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                return datetime(day.year, day.month, day.day, 8, tzinfo=timezone.utc)
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return (
                parsed.astimezone(timezone.utc)
                if parsed.tzinfo
                else parsed.replace(tzinfo=timezone.utc)
            )
        except ValueError:
            pass
    problems.add(where, f"cannot read date {value!r}", "Use YYYY-MM-DD or 2024-11-25T08:00:00Z.")
    return None


def _as_datetime64(instant: datetime) -> np.datetime64:
    return np.datetime64(instant.replace(tzinfo=None), "s")


def load_market(path: str | Path, file_format: str = AUTO) -> Market:
    """Load and validate a market snapshot; every problem is reported at once.

    A YAML file is the format above. A Deribit ``public/get_book_summary_by_currency`` export
    (JSON, recognised by its content, or any file with ``file_format="deribit"``) is turned into
    the same structure by :mod:`pmargin.io.deribit_export` and validated by the same code.
    """
    if is_deribit_file(path, file_format, yaml_wins=True):
        document, marks = deribit_market_document(path)
        return replace(market_from_document(document, str(path)), marks=marks)
    return market_from_document(load_yaml(path, "market"), str(path))


def market_from_document(document, where: str) -> Market:
    """A validated :class:`Market` from the market YAML's structure (a dict) read from ``where``
    (a path, or a label such as ``"dict"`` for :meth:`Market.from_dict`)."""
    if not isinstance(document, dict):
        raise MarketDataError(Problem(where, "expected a mapping with `as_of` and `underlyings`"))
    problems = ProblemCollector(MarketDataError)
    for key in document:
        if key not in MARKET_KEYS:
            problems.append(unknown_key_problem(where, str(key), MARKET_KEYS))
    as_of = None
    if "as_of" not in document:
        problems.add(where, "missing `as_of`", "Add e.g. `as_of: 2024-11-25T08:00:00Z`.")
    else:
        as_of = parse_instant(document["as_of"], f"{where}: as_of", problems)
    rate = 0.0
    if "rate" in document:
        rate = finite_number(document["rate"], f"{where}: rate", problems) or 0.0
    rates = _per_expiry(document.get("rates"), f"{where}: rates", "rate", problems)
    raw_underlyings = document.get("underlyings")
    underlyings: dict[str, UnderlyingMarket] = {}
    if not isinstance(raw_underlyings, dict) or not raw_underlyings:
        problems.add(
            where,
            "missing `underlyings`",
            "Add e.g. `underlyings: {BTC: {spot: 95000, vol: 0.55}}`.",
        )
    else:
        for name, entry in raw_underlyings.items():
            parsed = _underlying(str(name), entry, f"{where}: underlyings.{name}", problems)
            if parsed is not None:
                underlyings[str(name).upper()] = parsed
    correlations = _correlations(document.get("correlations"), f"{where}: correlations", problems)
    problems.raise_if_any()
    assert as_of is not None
    return Market(as_of, rate, underlyings, correlations, source=where, rates=rates)


def _underlying(name: str, entry, where: str, problems: ProblemCollector):
    if not isinstance(entry, dict):
        problems.add(where, "expected a mapping such as {spot: 95000, vol: 0.55}")
        return None
    for key in entry:
        if key not in UNDERLYING_KEYS:
            problems.append(unknown_key_problem(where, str(key), UNDERLYING_KEYS))
    spot = None
    if "spot" not in entry:
        problems.add(where, "missing `spot`", "Add the spot price in USD.")
    else:
        spot = finite_number(entry["spot"], f"{where}.spot", problems, strictly_positive=True)
    vol = None
    if entry.get("vol") is not None:
        vol = finite_number(entry["vol"], f"{where}.vol", problems, strictly_positive=True)
    carry = 0.0
    if "carry" in entry:
        carry = finite_number(entry["carry"], f"{where}.carry", problems) or 0.0
    forwards = _per_expiry(
        entry.get("forwards"), f"{where}.forwards", "forward price", problems, positive=True
    )
    perpetual = None
    if entry.get("perpetual_price") is not None:
        perpetual = finite_number(
            entry["perpetual_price"], f"{where}.perpetual_price", problems, strictly_positive=True
        )
    smile = _smile(entry.get("smile"), f"{where}.smile", problems)
    if spot is None:
        return None
    return UnderlyingMarket(
        spot=spot,
        vol=vol,
        carry=carry,
        forwards=forwards,
        smile=smile,
        perpetual_price=perpetual,
    )


def _per_expiry(
    raw, where: str, what: str, problems: ProblemCollector, *, positive: bool = False
) -> dict[np.datetime64, float]:
    """A mapping expiry -> number (``forwards:``, ``rates:``), keyed by datetime64[s]."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.add(where, f"expected a mapping expiry -> {what}")
        return {}
    values = {}
    for expiry, number in raw.items():
        key = f"{where}.{expiry}"
        instant = parse_instant(expiry, key, problems)
        value = finite_number(number, key, problems, strictly_positive=positive)
        if instant is not None and value is not None:
            values[_as_datetime64(instant)] = value
    return values


def _smile(raw, where: str, problems: ProblemCollector) -> Smile | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw:
        problems.add(where, "expected a mapping expiry -> {strike: vol}")
        return None
    slices = []
    for expiry, points in raw.items():
        key = f"{where}.{expiry}"
        instant = parse_instant(expiry, key, problems)
        if not isinstance(points, dict) or not points:
            problems.add(key, "expected a mapping strike -> vol, e.g. {95000: 0.55}")
            continue
        strikes, vols = [], []
        for strike, vol in points.items():
            k = finite_number(strike, f"{key} strike {strike}", problems, strictly_positive=True)
            v = finite_number(vol, f"{key}.{strike}", problems, strictly_positive=True)
            if k is not None and v is not None:
                strikes.append(k)
                vols.append(v)
        if instant is not None and strikes:
            order = np.argsort(strikes)
            slices.append(
                (_as_datetime64(instant), np.array(strikes)[order], np.array(vols)[order])
            )
    if not slices:
        return None
    slices.sort(key=lambda s: s[0])
    return Smile(
        expiries=np.array([s[0] for s in slices], dtype="datetime64[s]"),
        strikes=tuple(s[1] for s in slices),
        vols=tuple(s[2] for s in slices),
    )


def _correlations(raw, where: str, problems: ProblemCollector) -> dict[tuple[str, str], float]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.add(where, "expected a mapping such as {BTC: {ETH: 0.85}}")
        return {}
    pairs: dict[tuple[str, str], float] = {}
    for first, row in raw.items():
        if not isinstance(row, dict):
            problems.add(f"{where}.{first}", "expected a mapping such as {ETH: 0.85}")
            continue
        for second, value in row.items():
            key = f"{where}.{first}.{second}"
            rho = finite_number(value, key, problems)
            if rho is None:
                continue
            if not -1.0 <= rho <= 1.0:
                problems.add(key, f"correlation must be in [-1, 1], found {rho}")
                continue
            a, b = str(first).upper(), str(second).upper()
            if (b, a) in pairs and abs(pairs[(b, a)] - rho) > 1e-12:
                problems.add(
                    key,
                    f"disagrees with {b}.{a} = {pairs[(b, a)]}",
                    "Give each pair once, or the same value both ways.",
                )
            pairs[(a, b)] = pairs[(b, a)] = rho
    return pairs


def find_market(
    portfolio_path: str | Path | None, portfolio_market: str | None, explicit: str | Path | None
) -> tuple[Path, bool]:
    """The market file to use and whether it is the bundled demo (SPEC §3 lookup order):
    ``--market``, then the portfolio YAML's ``market:`` key, then ``market.yaml`` beside the
    portfolio, then the bundled demo snapshot."""
    if explicit:
        return Path(explicit), False
    if portfolio_market:
        return Path(portfolio_market), False
    if portfolio_path:
        beside = Path(portfolio_path).parent / "market.yaml"
        if beside.exists():
            return beside, False
    return bundled_market_path(), True
