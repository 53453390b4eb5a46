"""Portfolios as data: positions, open orders, collateral and accounts.

Positions are held column-wise in a :class:`pandas.DataFrame` so a book of 100,000 rows loads and
groups without a Python object per row. The columns (see :data:`POSITION_COLUMNS`):

=============  ===========================================================================
``id``         position id (default ``<file>:<line>``)
``account``    account id ("" when the file names none)
``underlying`` upper-case asset code
``kind``       spot, perpetual, future or option
``expiry``     datetime64[s] UTC (NaT for spot and perpetuals)
``strike``     USD per coin (NaN unless an option)
``right``      call / put ("" unless an option)
``quantity``   signed contracts, + long / − short
``multiplier`` coins per contract (linear, inverse options) or USD face (inverse futures)
``settlement`` linear or inverse
``mark_price`` observed price (NaN if none): USD for linear contracts and spot, coin for inverse
               options (as Deribit quotes them), USD per coin for inverse futures
``entry_price`` traded price (NaN if none), same units as ``mark_price``
``is_order``   True for open orders, margined as if filled
``instrument`` the exchange-style symbol (built from the fields when the file gave none)
``source``     ``file:line`` (CSV) or ``file:positions[i]`` (YAML), for messages
=============  ===========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

POSITION_COLUMNS = (
    "id",
    "account",
    "underlying",
    "kind",
    "expiry",
    "strike",
    "right",
    "quantity",
    "multiplier",
    "settlement",
    "mark_price",
    "entry_price",
    "is_order",
    "instrument",
    "source",
)

#: currencies treated as USD cash (stablecoins at par)
USD_LIKE = ("USD", "USDC", "USDT")

#: the columns that identify an instrument; positions sharing them are priced once
INSTRUMENT_KEY = ("underlying", "kind", "expiry", "strike", "right", "multiplier", "settlement")


@dataclass
class Portfolio:
    """Positions, open orders and collateral of one or more accounts.

    ``collateral`` maps account -> currency -> amount (USD for cash, coins for coin collateral;
    coin collateral is valued at spot and shocked with its underlying). An empty mapping means the
    portfolio states no collateral, and equity is then unknown.
    """

    positions: pd.DataFrame
    collateral: dict[str, dict[str, float]] = field(default_factory=dict)
    source: str = ""
    market_path: str | None = None

    def __post_init__(self) -> None:
        missing = [c for c in POSITION_COLUMNS if c not in self.positions.columns]
        if missing:
            raise ValueError(f"`positions` lacks columns {missing}")

    @property
    def has_collateral(self) -> bool:
        return bool(self.collateral)

    @property
    def accounts(self) -> list[str]:
        names = set(self.positions["account"].unique()) | set(self.collateral)  # no row loop
        return sorted(names)

    @property
    def underlyings(self) -> list[str]:
        coins = {c for amounts in self.collateral.values() for c in amounts if c not in USD_LIKE}
        return sorted(set(self.positions["underlying"].unique()) | coins)

    def for_account(self, account: str) -> Portfolio:
        """The positions, orders and collateral of one ``account`` alone."""
        positions = self.positions[self.positions["account"] == account].reset_index(drop=True)
        collateral = {account: dict(self.collateral[account])} if account in self.collateral else {}
        return Portfolio(positions, collateral, self.source, self.market_path)

    def scaled(self, factor: float) -> Portfolio:
        """The same book with every quantity and collateral amount times ``factor``."""
        positions = self.positions.copy()
        positions["quantity"] = positions["quantity"] * factor
        collateral = {
            account: {c: a * factor for c, a in amounts.items()}
            for account, amounts in self.collateral.items()
        }
        return Portfolio(positions, collateral, self.source, self.market_path)


def columns_frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """A frame of ``columns`` as they are: text stays ``object`` (as in :func:`empty_positions`)
    rather than being converted to pandas' string dtype, which checks every cell of every text
    column once more, and arrays are not copied into blocks. A read-only array (a view that
    another frame guards) is copied, so that the frame can be edited in place."""
    return pd.DataFrame(
        {
            name: pd.Series(
                values if values.flags.writeable else values.copy(), dtype=values.dtype, copy=False
            )
            for name, values in columns.items()
        },
        copy=False,
    )


def empty_positions() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in POSITION_COLUMNS})
    frame["expiry"] = pd.Series(dtype="datetime64[s]")
    for c in ("strike", "quantity", "multiplier", "mark_price", "entry_price"):
        frame[c] = pd.Series(dtype=np.float64)
    frame["is_order"] = pd.Series(dtype=bool)
    return frame
