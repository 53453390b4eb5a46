"""Instruments as data: kinds, settlement, contract sizes and exchange-style symbols.

Nothing here prices anything. An :class:`Instrument` says *what* a contract is; the pricing
package says what it is worth given a market.

Symbols (SPEC §2) follow Deribit's naming:

===========================  ===========================================================
``BTC-27DEC24-60000-C``      inverse option on 1 BTC (premium and P&L in BTC)
``BTC-PERPETUAL``            inverse perpetual, face 10 USD a contract (ETH: 1 USD)
``BTC-27DEC24``              inverse future, face 10 USD a contract (ETH: 1 USD)
``BTC_USDC-PERPETUAL``       linear perpetual on 1 coin, settled in USD(C)
``SOL_USDC-27DEC24-200-P``   linear option on 1 coin
``BTC_USDC-27DEC24``         linear future on 1 coin
``BTC_USDC``                 spot, 1 coin
===========================  ===========================================================

Strikes may use ``d`` as the decimal point (``XRP_USDC-27DEC24-0d625-C``). Dated symbols expire at
08:00 UTC on their date.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from .values import describe

KINDS = ("spot", "perpetual", "future", "option")
SETTLEMENTS = ("linear", "inverse")
RIGHTS = ("call", "put")

#: USD face value of one inverse future or perpetual contract, by underlying (Deribit).
INVERSE_FACE_USD = {"BTC": 10.0, "ETH": 1.0}

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    )
}
_DATE = r"(\d{1,2})([A-Z]{3})(\d{2})"
_UNDERLYING = r"([A-Z][A-Z0-9]*)"
_SYMBOL = re.compile(
    rf"^{_UNDERLYING}(_USDC|_USDT|_USD)?"
    rf"(?:-(PERPETUAL)|-{_DATE}(?:-([0-9]+(?:[.D][0-9]+)?)-([CP]))?)?$"
)


#: the longest symbol read (Deribit's are under 40 characters)
MAX_SYMBOL_LENGTH = 100


def default_multiplier(underlying: str, kind: str, settlement: str) -> float:
    """Contract size when a file gives none: inverse BTC/ETH futures have a USD face, else 1."""
    if settlement == "inverse" and kind in ("future", "perpetual"):
        return INVERSE_FACE_USD.get(underlying, 1.0)
    return 1.0


@dataclass(frozen=True)
class Instrument:
    """One tradable contract, as data.

    Parameters
    ----------
    underlying : str
        Upper-case asset code, e.g. ``"BTC"``.
    kind : str
        ``spot``, ``perpetual``, ``future`` or ``option``.
    expiry : datetime or None
        UTC expiry instant for futures and options; None otherwise.
    strike : float or None
        Option strike in USD per coin (> 0); None otherwise.
    right : str or None
        ``call`` or ``put`` for options; None otherwise.
    multiplier : float
        Contract size: coins per contract for linear contracts and inverse options, USD face per
        contract for inverse futures and perpetuals.
    settlement : str
        ``linear`` (P&L in USD) or ``inverse`` (P&L in the coin).
    """

    underlying: str
    kind: str
    expiry: datetime | None = None
    strike: float | None = None
    right: str | None = None
    multiplier: float = 1.0
    settlement: str = "linear"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"`kind` must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.settlement not in SETTLEMENTS:
            raise ValueError(f"`settlement` must be linear or inverse, not {self.settlement!r}")
        if not (math.isfinite(self.multiplier) and self.multiplier > 0):
            raise ValueError(f"`multiplier` must be a positive number, not {self.multiplier!r}")
        if self.kind in ("future", "option") and self.expiry is None:
            raise ValueError(f"`expiry` is required for a {self.kind}")
        if self.kind == "option":
            if self.right not in RIGHTS:
                raise ValueError(f"`right` must be call or put, not {self.right!r}")
            if self.strike is None or not (math.isfinite(self.strike) and self.strike > 0):
                raise ValueError(f"`strike` must be a positive number, not {self.strike!r}")
        if self.kind == "spot" and self.settlement == "inverse":
            raise ValueError("`settlement` inverse makes no sense for spot")

    @property
    def symbol(self) -> str:
        """Exchange-style name, e.g. ``BTC-27DEC24-60000-C`` or ``SOL_USDC-PERPETUAL``."""
        base = self.underlying if self.settlement == "inverse" else f"{self.underlying}_USDC"
        if self.kind == "spot":
            return base
        if self.kind == "perpetual":
            return f"{base}-PERPETUAL"
        assert self.expiry is not None
        date = f"{self.expiry.day}{self.expiry.strftime('%b').upper()}{self.expiry:%y}"
        if self.kind == "future":
            return f"{base}-{date}"
        assert self.strike is not None and self.right is not None
        strike = f"{self.strike:g}" if self.strike < 1e6 else f"{self.strike:.0f}"
        return f"{base}-{date}-{strike.replace('.', 'd')}-{self.right[0].upper()}"


def parse_symbol(symbol: str) -> dict[str, object]:
    """Expand an exchange-style symbol into instrument fields.

    Returns a dict with ``underlying``, ``kind``, ``settlement``, ``multiplier`` and, where they
    apply, ``expiry`` (UTC datetime at 08:00), ``strike`` and ``right``.

    Raises
    ------
    ValueError
        With a message that says what shape was expected.
    """
    text = str(symbol).strip().upper()
    match = _SYMBOL.match(text) if len(text) <= MAX_SYMBOL_LENGTH else None
    if not match:
        raise ValueError(
            f"cannot read symbol {describe(symbol)}; expected e.g. BTC-27DEC24-60000-C, "
            "BTC-PERPETUAL, BTC-27DEC24, BTC_USDC-PERPETUAL or SOL_USDC-27DEC24-200-P"
        )
    underlying, quote, perpetual, day, month, year, strike, right = match.groups()
    settlement = "linear" if quote else "inverse"
    fields: dict[str, object] = {"underlying": underlying, "settlement": settlement}
    if perpetual:
        fields["kind"] = "perpetual"
    elif day is None:
        if not quote:
            raise ValueError(
                f"cannot read symbol {describe(symbol)}: a bare coin is not an instrument; "
                f"write {underlying}_USDC for spot or {underlying}-PERPETUAL for the perpetual"
            )
        fields["kind"] = "spot"
    else:
        if month not in _MONTHS:
            raise ValueError(f"cannot read the month {month!r} in symbol {describe(symbol)}")
        try:
            expiry = datetime(2000 + int(year), _MONTHS[month], int(day), 8, tzinfo=timezone.utc)
        except ValueError as exc:
            raise ValueError(f"symbol {describe(symbol)} has an impossible date: {exc}") from None
        fields["expiry"] = expiry
        if strike is None:
            fields["kind"] = "future"
        else:
            fields["kind"] = "option"
            fields["strike"] = float(strike.replace("D", "."))
            if not fields["strike"] > 0:
                raise ValueError(
                    f"symbol {describe(symbol)} has strike {strike}; an option's strike must be > 0"
                )
            fields["right"] = "call" if right == "C" else "put"
    if (
        settlement == "inverse"
        and fields["kind"] == "perpetual"
        and underlying not in (INVERSE_FACE_USD)
    ):
        raise ValueError(
            f"{underlying}-PERPETUAL is not a known inverse perpetual; "
            f"write {underlying}_USDC-PERPETUAL for the linear one"
        )
    fields["multiplier"] = default_multiplier(underlying, str(fields["kind"]), settlement)
    return fields
