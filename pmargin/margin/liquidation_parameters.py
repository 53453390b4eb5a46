"""Liquidation parameters of a margin model: fees, the size of one step and the buffer.

Every model YAML may carry a ``liquidation:`` block (the bundled ones do); each model's builder
reads it with :func:`parse_liquidation`, so the block means the same under every method::

    liquidation:
      fee_rate:                 # a fraction of the traded notional (|trade| × coins × spot, USD)
        future: {BTC: 0.0075, ETH: 0.009, default: 0.0075}   # futures and perpetuals
        option: 0.0019          # of the underlying's notional, capped (below) by the option's value
        spot: 0.0
      option_fee_cap: 0.125     # an option's fee is at most this fraction of its value
      lot: {BTC: 1.0, ETH: 25.0, default_usd: 100000}   # one step: coins (others: USD notional)
      buffer: 0.0               # restore equity to (1 + buffer) × the target margin
      source: ...

A rate is a number for every underlying, or a mapping of underlyings with an optional
``default``; ``btc`` and ``BTC`` name one underlying (both in one mapping is a problem). Fee
rates and the option fee cap are fractions from 0 to 1, a lot is from 1e-12 to 1e12 coins (or
USD), the buffer from 0 to 10 (1,000%). Nothing here reads a file or prices anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ProblemCollector
from ..values import (
    PRICE_MIN,
    QUANTITY_MAX,
    WEIGHT_MAX,
    check_keys,
    number,
    same_key_problems,
    section,
    upper_key,
)

KEYS = ("fee_rate", "option_fee_cap", "lot", "buffer", "source", "date")
FEE_KINDS = ("future", "option", "spot")
DEFAULT_KEY = "default"
LOT_DEFAULT_KEY = "default_usd"
#: the largest liquidation buffer: restore equity to at most 11 × the target margin
BUFFER_MAX = WEIGHT_MAX

#: Deribit's liquidation fees (insurance fund): BTC futures and perpetuals 0.5%-0.75% over the
#: years, ETH 0.9%, options 0.19% of the underlying capped at 12.5% of the option's price
DEFAULT_FEE_RATES = {
    "future": {"BTC": 0.0075, "ETH": 0.009, DEFAULT_KEY: 0.0075},
    "option": {DEFAULT_KEY: 0.0019},
    "spot": {DEFAULT_KEY: 0.0},
}
DEFAULT_OPTION_FEE_CAP = 0.125
DEFAULT_LOT_COINS = {"BTC": 1.0, "ETH": 25.0}
DEFAULT_LOT_USD = 100_000.0
DEFAULT_SOURCE = (
    "Deribit liquidation fees (insurance fund): BTC futures and perpetuals 0.5%-0.75%, ETH 0.9%, "
    "options 0.19% of the underlying capped at 12.5% of the option's price (deribit.com fee "
    "pages, 2019-2024); lots are pmargin's choice of 'small lots per step'."
)


@dataclass(frozen=True)
class LiquidationParameters:
    """How a model's venue liquidates: fees, step size and buffer (all fractions, USD, coins).

    ``fee_rates`` maps a fee kind (``future`` for futures and perpetuals, ``option``, ``spot``)
    to rates per underlying (``default`` for the rest): a fraction of the traded notional.
    An option's fee is capped at ``option_fee_cap`` × its value. ``lot_coins`` is the size of
    one risk-reducing step in coins of the underlying; underlyings without one trade
    ``lot_usd`` of notional a step. ``buffer`` ≥ 0: a plan stops at equity ≥ (1 + buffer) ×
    the target margin.
    """

    fee_rates: dict[str, dict[str, float]] = field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_FEE_RATES.items()}
    )
    option_fee_cap: float = DEFAULT_OPTION_FEE_CAP
    lot_coins: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_LOT_COINS))
    lot_usd: float = DEFAULT_LOT_USD
    buffer: float = 0.0
    source: str = DEFAULT_SOURCE

    def fee_rate(self, kind: str, underlying: str) -> float:
        """The fee rate of a ``kind`` (future, option, spot) on ``underlying``."""
        rates = self.fee_rates.get(kind, {})
        return float(rates.get(underlying, rates.get(DEFAULT_KEY, 0.0)))

    def lot(self, underlying: str, spot: float) -> float:
        """Coins of ``underlying`` traded in one step at ``spot`` (USD per coin)."""
        return self.lot_coins.get(underlying, self.lot_usd / spot)


def _rates(value: Any, where: str, problems: ProblemCollector) -> dict[str, float]:
    """A rate for every underlying (a number) or per underlying with a ``default``."""
    if not isinstance(value, dict):
        rate = number(value, where, problems, minimum=0, maximum=1)
        return {} if rate is None else {DEFAULT_KEY: rate}
    problems.extend(same_key_problems(value, where, "underlying", _name))
    rates = {}
    for name, entry in value.items():
        rate = number(entry, f"{where}.{name}", problems, minimum=0, maximum=1)
        if rate is not None:
            rates[_name(name)] = rate
    return rates


def _name(name: Any, default: str = DEFAULT_KEY) -> str:
    """An underlying's code (upper case), or the ``default`` key as written."""
    return default if str(name) == default else upper_key(name)


def _lot(entry: Any, where: str, problems: ProblemCollector) -> float | None:
    return number(entry, where, problems, positive=True, minimum=PRICE_MIN, maximum=QUANTITY_MAX)


def parse_liquidation(
    document: dict[str, Any], where: str, problems: ProblemCollector
) -> LiquidationParameters:
    """The ``liquidation:`` block of a model YAML (defaults where it is absent)."""
    block = section(document, "liquidation", where, problems)
    at = f"{where}: liquidation"
    check_keys(block, KEYS, at, problems, sep=".")
    defaults = LiquidationParameters()
    fees = section(block, "fee_rate", at, problems)
    check_keys(fees, FEE_KINDS, f"{at}.fee_rate", problems, sep=".")
    fee_rates = {k: dict(v) for k, v in defaults.fee_rates.items()}
    for kind in FEE_KINDS:
        if kind in fees:
            fee_rates[kind] = _rates(fees[kind], f"{at}.fee_rate.{kind}", problems)
    cap = number(
        block.get("option_fee_cap", defaults.option_fee_cap),
        f"{at}.option_fee_cap",
        problems,
        minimum=0,
        maximum=1,
    )
    lot = section(block, "lot", at, problems)
    problems.extend(
        same_key_problems(lot, f"{at}.lot", "underlying", lambda n: _name(n, LOT_DEFAULT_KEY))
    )
    lot_coins = dict(defaults.lot_coins) if "lot" not in block else {}
    lot_usd = defaults.lot_usd
    for name, entry in lot.items():
        if str(name) == LOT_DEFAULT_KEY:
            lot_usd = _lot(entry, f"{at}.lot.{name}", problems) or lot_usd
        else:
            coins = _lot(entry, f"{at}.lot.{name}", problems)
            if coins is not None:
                lot_coins[upper_key(name)] = coins
    buffer = number(
        block.get("buffer", 0.0), f"{at}.buffer", problems, minimum=0, maximum=BUFFER_MAX
    )
    return LiquidationParameters(
        fee_rates=fee_rates,
        option_fee_cap=cap if cap is not None else defaults.option_fee_cap,
        lot_coins=lot_coins,
        lot_usd=lot_usd,
        buffer=buffer if buffer is not None else 0.0,
        source=str(block.get("source", defaults.source)),
    )
