"""A portfolio bound to a market: distinct instruments as arrays, positions as indices into them.

Binding is where positions meet market data, so it is where missing market data is found: an
underlying the market lacks, an option with no vol and no ``mark_price`` to imply one, a contract
already expired at ``as_of`` (or expiring more than :data:`~pmargin.values.MAX_YEARS_TO_EXPIRY`
years after it), and a ``mark_price`` the market makes impossible: an option's mark outside its
no-arbitrage bounds (in coin for an inverse option, so a USD mark on a coin-quoted option is
caught; a linear option's mark is checked against the upper bound only, since a stale mark
below intrinsic value is plausible on a linear venue), or a mark of 0 on a future, perpetual or
spot. Every such problem is reported at once,
naming the position's ``file:line`` and the fix.

No-arbitrage bounds of an option's value (USD per coin, D = exp(−rate·T)): a call lies in
[D·max(F − K, 0), D·F], a put in [D·max(K − F, 0), D·K]; an inverse option's, in coin, are those
divided by spot. A mark may sit below the lower bound by :data:`MARK_SLACK` of spot (quotes are
rounded to a tick, and a venue's forward differs a little from the market file's), not more.

Coin collateral becomes a spot position (id ``collateral:<account>:<coin>``) so that it is shocked
with its underlying and hedges count; USD cash (and USDC/USDT at par) is not at risk.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd

from .errors import MarketDataError, ProblemCollector
from .market import Market
from .portfolio import INSTRUMENT_KEY, USD_LIKE, Portfolio
from .pricing.black76 import black76_price, implied_vol
from .scenarios import VOL_FLOOR
from .values import MAX_YEARS_TO_EXPIRY, PRICE_MIN

MAX_PROBLEMS = 25
#: how far below intrinsic value a mark may sit, as a fraction of spot (0.1%)
MARK_SLACK = 0.001


@dataclass(frozen=True)
class InstrumentTable:
    """Distinct instruments as arrays of base market inputs (one entry per instrument).

    Prices are USD per coin; ``time`` in years ACT/365 (0 for spot and perpetuals); ``vol`` is
    NaN for non-options; ``multiplier`` is coins per contract (USD face for inverse futures);
    ``forward`` is the forward for dated contracts, the perpetual mark for perpetuals and spot
    otherwise; ``rate`` is the USD rate (continuously compounded) for each instrument's expiry.
    """

    symbols: np.ndarray
    underlyings: tuple[str, ...]
    underlying_index: np.ndarray
    kind: np.ndarray
    is_option: np.ndarray
    is_call: np.ndarray
    is_inverse: np.ndarray
    is_dated: np.ndarray
    time: np.ndarray
    strike: np.ndarray
    multiplier: np.ndarray
    spot: np.ndarray
    forward: np.ndarray
    vol: np.ndarray
    rate: np.ndarray
    #: USD mark per coin of each instrument from the first position that gives one (NaN if none)
    mark: np.ndarray | None = None
    #: results computed once per table and reused (e.g. a model's scenario P&L, shared by the
    #: book and each account of it); keyed by whoever computes them
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.symbols)

    def option_prices(self) -> np.ndarray:
        """Black-76 value (USD per coin) of each option; 0 elsewhere."""
        price = np.zeros(len(self))
        o = self.is_option
        price[o] = black76_price(
            self.forward[o],
            self.strike[o],
            self.time[o],
            self.vol[o],
            np.exp(-self.rate[o] * self.time[o]),
            self.is_call[o],
        )
        return price

    def rows(self, index: np.ndarray | slice) -> InstrumentTable:
        """The instruments ``index`` of this table (same underlyings, a fresh memo)."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "memo"}
        return InstrumentTable(
            **{k: v[index] if isinstance(v, np.ndarray) else v for k, v in values.items()}
        )


@dataclass(frozen=True)
class Book:
    """Positions bound to a market.

    ``positions`` is the portfolio's position table plus one spot row per coin collateral
    balance (``is_collateral``); ``instrument`` maps each row to its entry in ``instruments``.
    """

    portfolio: Portfolio
    market: Market
    positions: pd.DataFrame
    instruments: InstrumentTable
    instrument: np.ndarray
    quantity: np.ndarray
    is_order: np.ndarray
    is_collateral: np.ndarray
    cash_usd: dict[str, float]

    @functools.cached_property
    def net_quantity(self) -> np.ndarray:
        """Net contracts per distinct instrument (positions, orders and coin collateral)."""
        return np.bincount(self.instrument, self.quantity, minlength=len(self.instruments))

    def with_spot_scaled(self, underlying: str, factor: float) -> Book:
        """This book with ``underlying``'s spot × ``factor`` (:meth:`Market.with_spot_scaled`).

        Its instruments' spots and forwards move by ``factor``; implied vols stay as bound (per
        strike, including vols implied from marks); nothing is factorized or priced again
        until a model asks (the table's memo starts empty).
        """
        table = self.instruments
        moved = np.asarray(table.underlyings)[table.underlying_index] == underlying
        scale = np.where(moved, factor, 1.0)
        values = {f.name: getattr(table, f.name) for f in fields(table) if f.name != "memo"}
        values.update(spot=table.spot * scale, forward=table.forward * scale)
        moved_table = InstrumentTable(**values)
        if table.mark is not None:  # coin-quoted marks convert at the moved spot
            moved_table = replace(
                moved_table, mark=_first_marks(moved_table, self.positions, self.instrument)
            )
        return replace(
            self,
            market=self.market.with_spot_scaled(underlying, factor),
            instruments=moved_table,
        )

    def without_marks(self) -> Book:
        """This book as if no position gave a ``mark_price`` (model prices everywhere)."""
        return replace(
            self,
            positions=self.positions.assign(mark_price=np.nan),
            instruments=replace(self.instruments, mark=None),  # the same memo: P&L ignores marks
        )

    def underlying_of_positions(self) -> np.ndarray:
        return np.asarray(self.instruments.underlyings)[
            self.instruments.underlying_index[self.instrument]
        ]

    def with_only(self, rows: np.ndarray) -> Book:
        """This book with every row outside ``rows`` (a boolean mask) at zero contracts; same
        instruments, so it shares their priced scenarios."""
        return replace(self, quantity=np.where(rows, self.quantity, 0.0))

    def with_vol_scaled(self, factor: float) -> Book:
        """This book with every implied vol × ``factor`` (:meth:`Market.with_vol_scaled`): the
        instruments' vols as bound (smile or implied from marks), each × ``factor``, never below
        the engine's floor; spots and forwards held. Nothing is priced until a model asks."""
        table = self.instruments
        values = {f.name: getattr(table, f.name) for f in fields(table) if f.name != "memo"}
        values.update(vol=np.maximum(table.vol * factor, VOL_FLOOR))
        return replace(
            self,
            market=self.market.with_vol_scaled(factor),
            instruments=InstrumentTable(**values),
        )


def _collateral_rows(portfolio: Portfolio) -> pd.DataFrame:
    rows = []
    for account, amounts in portfolio.collateral.items():
        for coin, amount in amounts.items():
            if coin in USD_LIKE or amount == 0:
                continue
            rows.append(
                {
                    "id": f"collateral:{account}:{coin}" if account else f"collateral:{coin}",
                    "account": account,
                    "underlying": coin,
                    "kind": "spot",
                    "expiry": pd.NaT,
                    "strike": np.nan,
                    "right": "",
                    "quantity": amount,
                    "multiplier": 1.0,
                    "settlement": "linear",
                    "mark_price": np.nan,
                    "entry_price": np.nan,
                    "is_order": False,
                    "instrument": f"{coin} (collateral)",
                    "source": f"{portfolio.source}: collateral.{coin}",
                }
            )
    return pd.DataFrame(rows)


def bind(portfolio: Portfolio, market: Market) -> Book:
    """Bind positions to market data; raise MarketDataError listing every gap."""
    problems = ProblemCollector(MarketDataError)
    collateral = _collateral_rows(portfolio)
    positions = portfolio.positions.assign(is_collateral=False)  # copy-on-write: no deep copy
    if market.marks:  # a venue's marks fill the positions that have none of their own
        venue_marks = positions["instrument"].map(market.marks).astype(np.float64)
        positions["mark_price"] = positions["mark_price"].fillna(venue_marks)
    if len(collateral):
        collateral["is_collateral"] = True
        positions = pd.concat([positions, collateral], ignore_index=True)
    if positions["expiry"].dtype != "datetime64[s]":
        positions["expiry"] = positions["expiry"].astype("datetime64[s]")

    codes = instrument_codes(positions)
    distinct = positions.iloc[first_rows(codes)].reset_index(drop=True)
    _check_underlyings(positions, distinct, codes, market, problems)
    problems.raise_if_any()

    table = _instrument_table(distinct, market)
    expired = table.is_dated & (table.time <= 0)
    _report(
        problems,
        positions,
        expired[codes],
        "expiry",
        lambda r: (
            f"expired at {positions['expiry'].iloc[r]} UTC, before the market's "
            f"as_of {market.as_of:%Y-%m-%d %H:%M} UTC"
        ),
        "Remove it or use a later market.",
    )
    _report(
        problems,
        positions,
        (table.time > MAX_YEARS_TO_EXPIRY)[codes],
        "expiry",
        lambda r: (
            f"{positions['expiry'].iloc[r]} is more than {MAX_YEARS_TO_EXPIRY:g} years after "
            f"the market's as_of {market.as_of:%Y-%m-%d}"
        ),
        "Check the year of the expiry.",
    )
    _check_marks(table, positions, codes, problems)
    problems.raise_if_any()
    table = _fill_vols(table, distinct, positions, codes, market, problems)
    problems.raise_if_any()
    table = replace(table, mark=_first_marks(table, positions, codes))

    cash = {
        account: sum(a for c, a in amounts.items() if c in USD_LIKE)
        for account, amounts in portfolio.collateral.items()
    }
    return Book(
        portfolio=portfolio,
        market=market,
        positions=positions,
        instruments=table,
        instrument=codes,
        quantity=positions["quantity"].to_numpy(np.float64),
        is_order=positions["is_order"].to_numpy(bool),
        is_collateral=positions["is_collateral"].to_numpy(bool),
        cash_usd=cash,
    )


def instrument_codes(positions: pd.DataFrame) -> np.ndarray:
    """Index of each position row's distinct instrument (rows equal on INSTRUMENT_KEY share one).

    Rows are grouped by their ``instrument`` symbol first (one string column, fast); only when
    explicit columns make rows of one symbol differ is the whole key factorized column by column.
    """
    codes = pd.factorize(positions["instrument"])[0]
    first = first_rows(codes)
    if all(_same_within(_comparable(positions[c]), first, codes) for c in INSTRUMENT_KEY):
        return codes.astype(np.int64)
    combined = np.zeros(len(positions), np.int64)
    for column in INSTRUMENT_KEY:  # mixed radix over the key's columns, compacted each step
        column_codes, uniques = pd.factorize(positions[column], use_na_sentinel=False)
        combined = pd.factorize(combined * len(uniques) + column_codes)[0]
    return combined.astype(np.int64)


def first_rows(codes: np.ndarray) -> np.ndarray:
    """The first row of each code 0..max(codes): codes[first_rows(codes)[k]] == k."""
    first = np.zeros(codes.max() + 1 if len(codes) else 0, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]  # the last write, i.e. the first row, wins
    return first


def _comparable(column: pd.Series) -> np.ndarray:
    """A column's values as a numpy array (a categorical's codes, so strings stay unboxed)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy()
    return column.to_numpy()


def _same_within(values: np.ndarray, first: np.ndarray, codes: np.ndarray) -> bool:
    """Every row holds the value of the first row of its group (NaN/NaT equal to themselves)."""
    reference = values[first][codes]
    same = values == reference
    if values.dtype.kind in "fM":
        same |= pd.isna(values) & pd.isna(reference)
    return bool(np.all(same))


def _first_marks(table: InstrumentTable, positions: pd.DataFrame, codes: np.ndarray) -> np.ndarray:
    """USD mark per coin of each instrument from the first position that gives one, else NaN."""
    marks = np.full(len(table), np.nan)
    mark = positions["mark_price"].to_numpy(np.float64)
    given = np.flatnonzero(np.isfinite(mark))
    if len(given):
        usd = mark_in_usd(table, codes[given], mark[given])
        marks[codes[given][::-1]] = usd[::-1]  # the first position's mark wins
    return marks


def _report(problems, positions, mask, column, message, fix) -> None:
    rows = np.flatnonzero(mask)
    for row in rows[:MAX_PROBLEMS]:
        problems.add(f"{positions['source'].iloc[row]}: `{column}`", message(row), fix)
    if len(rows) > MAX_PROBLEMS:
        problems.add(f"`{column}`", f"... and {len(rows) - MAX_PROBLEMS} more positions")


def _check_underlyings(positions, distinct, codes, market: Market, problems) -> None:
    unknown = ~distinct["underlying"].isin(list(market.underlyings)).to_numpy()
    if not unknown.any():
        return
    missing = unknown[codes]
    known = ", ".join(sorted(market.underlyings)) or "none"
    underlying = positions["underlying"].to_numpy(str)
    _report(
        problems,
        positions,
        missing,
        "underlying",
        lambda r: (
            f"unknown underlying {underlying[r]} (the market {market.source} has {known}). "
            f"Add it under `underlyings:` in the market file, e.g. "
            f"`{underlying[r]}: {{spot: ..., vol: ...}}`"
        ),
        "",
    )


def _instrument_table(distinct: pd.DataFrame, market: Market) -> InstrumentTable:
    underlyings = tuple(sorted(set(distinct["underlying"])))
    index = np.searchsorted(np.asarray(underlyings), distinct["underlying"].to_numpy())
    expiry = distinct["expiry"].to_numpy("datetime64[s]")
    kind = distinct["kind"].to_numpy(str)
    is_dated = ~np.isnat(expiry)
    time = np.where(is_dated, market.time_to(np.where(is_dated, expiry, market.as_of64)), 0.0)
    spot = np.array([market.spot(u) for u in underlyings])[index]
    forward = spot.copy()
    vol = np.full(len(distinct), np.nan)
    strike = distinct["strike"].to_numpy(np.float64)
    is_option = kind == "option"
    for u_index, underlying in enumerate(underlyings):
        rows = (index == u_index) & is_dated
        forward[rows] = market.forwards(underlying, expiry[rows])
        forward[(index == u_index) & (kind == "perpetual")] = market.perpetual_price(underlying)
        options = (index == u_index) & is_option
        if options.any():
            vol[options] = market.vols(underlying, expiry[options], strike[options])
    return InstrumentTable(
        symbols=distinct["instrument"].to_numpy(object),
        underlyings=underlyings,
        underlying_index=index,
        kind=kind,
        is_option=is_option,
        is_call=distinct["right"].to_numpy(str) == "call",
        is_inverse=distinct["settlement"].to_numpy(str) == "inverse",
        is_dated=is_dated,
        time=time,
        strike=np.where(is_option, strike, 0.0),
        multiplier=distinct["multiplier"].to_numpy(np.float64),
        spot=spot,
        forward=forward,
        vol=vol,
        rate=market.rates_for(expiry),
    )


def mark_in_usd(table: InstrumentTable, codes: np.ndarray, mark: np.ndarray) -> np.ndarray:
    """Per-position mark prices in USD per coin (inverse option marks are quoted in coin)."""
    inverse_option = (table.is_inverse & table.is_option)[codes]
    return np.where(inverse_option, mark * table.spot[codes], mark)


def _check_marks(table: InstrumentTable, positions: pd.DataFrame, codes, problems) -> None:
    """Marks the market makes impossible (see the module docstring). Only the rows that give a
    mark are looked at: a book without marks costs one pass over the column."""
    marks = positions["mark_price"].to_numpy(np.float64)
    rows = np.flatnonzero(np.isfinite(marks))
    if not len(rows):
        return
    at = np.zeros(len(marks), np.int64)  # a marked row's place among the marked rows
    at[rows] = np.arange(len(rows))
    code = codes[rows]
    mark = marks[rows]
    option = table.is_option[code] & (table.time > 0)[code]
    inverse = table.is_inverse[code]
    spot = table.spot[code]
    forward, strike = table.forward[code], table.strike[code]
    discount = np.exp(-table.rate * np.maximum(table.time, 0.0))[code]
    call = table.is_call[code]
    per_usd = np.where(option & inverse, 1.0 / spot, 1.0)  # quote units per USD
    upper = discount * np.where(call, forward, strike) * per_usd
    lower = discount * np.maximum(np.where(call, forward - strike, strike - forward), 0.0) * per_usd

    def unit(i: int) -> str:
        return str(positions["underlying"].iloc[rows[i]]) if option[i] and inverse[i] else "USD"

    def above(r: int) -> str:
        i = at[r]
        text = (
            f"mark {mark[i]:g} is above the most this {'call' if call[i] else 'put'} can be "
            f"worth, {upper[i]:.6g} {unit(i)}"
        )
        if inverse[i]:
            text += (
                f"; an inverse option's mark is in {unit(i)}, not USD (as the exchange quotes "
                f"it: {mark[i]:g} USD would be {mark[i] / spot[i]:.4g} {unit(i)} at spot "
                f"{spot[i]:,.0f})"
            )
        return text

    def among(mask: np.ndarray) -> np.ndarray:
        """A mask over the marked rows as a mask over every position row."""
        full = np.zeros(len(marks), bool)
        full[rows[mask]] = True
        return full

    _report(
        problems,
        positions,
        among(option & (mark > upper * (1 + 1e-9))),
        "mark_price",
        above,
        "Check the mark and its unit.",
    )
    _report(
        problems,
        positions,
        among(option & inverse & (mark < lower - MARK_SLACK * spot * per_usd)),
        "mark_price",
        lambda r: (
            f"mark {mark[at[r]]:g} is below the option's intrinsic value {lower[at[r]]:.6g} "
            f"{unit(at[r])} on the market's forward {forward[at[r]]:,.6g}"
        ),
        "Check the mark, or the market's spot and forwards.",
    )
    _report(
        problems,
        positions,
        among(~table.is_option[code] & (mark < PRICE_MIN)),
        "mark_price",
        lambda r: f"mark {mark[at[r]]:g}: a {positions['kind'].iloc[r]}'s price must be > 0",
        "Give the observed price in USD per coin, or leave it empty.",
    )


def _fill_vols(table, distinct, positions, codes, market, problems) -> InstrumentTable:
    """Imply vols from ``mark_price`` for options the market gives no vol for."""
    needs = table.is_option & np.isnan(table.vol) & (table.time > 0)
    if not needs.any():
        return table
    chosen, chosen_at = _one_mark_per_instrument(table, positions, codes, needs, problems)
    missing = (needs & np.isnan(chosen))[codes]
    _report(
        problems,
        positions,
        missing,
        "vol",
        lambda r: (
            f"no implied vol for {positions['underlying'].iloc[r]} options in the "
            f"market {market.source} and no mark_price to imply one"
        ),
        "Add `vol:` (or a `smile:`) for that underlying under `underlyings:` in the market "
        "file, or give the position a mark_price.",
    )
    solve = needs & np.isfinite(chosen)
    vols = table.vol.copy()
    if solve.any():
        vols[solve] = implied_vol(
            chosen[solve],
            table.forward[solve],
            table.strike[solve],
            table.time[solve],
            np.exp(-table.rate[solve] * table.time[solve]),
            table.is_call[solve],
        )
        failed = np.zeros(len(positions), bool)
        failed[chosen_at[solve & np.isnan(vols)]] = True
        _report(
            problems,
            positions,
            failed,
            "mark_price",
            lambda r: (
                f"mark {positions['mark_price'].iloc[r]} is outside the no-arbitrage "
                "bounds of the option, so no vol can be implied"
            ),
            "Check the mark (inverse options are quoted in coin) or add a vol to the market.",
        )
    return replace(table, vol=vols)


def _one_mark_per_instrument(table, positions, codes, needs, problems):
    """The USD mark of each instrument in ``needs`` (the first position's) and that position's
    row (−1 where none); a position whose mark disagrees with it is a problem."""
    mark = mark_in_usd(table, codes, positions["mark_price"].to_numpy(np.float64))
    marked = pd.DataFrame({"code": codes, "mark": mark})[np.isfinite(mark) & needs[codes]]
    first = marked.groupby("code").head(1)  # one mark per instrument: the first position's
    chosen = np.full(len(table), np.nan)
    chosen_at = np.full(len(table), -1)
    chosen[first["code"].to_numpy()] = first["mark"].to_numpy()
    chosen_at[first["code"].to_numpy()] = first.index.to_numpy()
    disagree = np.zeros(len(positions), bool)
    disagree[marked.index.to_numpy()] = ~np.isclose(
        marked["mark"].to_numpy(), chosen[marked["code"].to_numpy()], rtol=1e-9, atol=0.0
    )
    _report(
        problems,
        positions,
        disagree,
        "mark_price",
        lambda r: (
            "disagrees with the mark of the same instrument at "
            f"{positions['source'].iloc[chosen_at[codes[r]]]}"
        ),
        "Give one mark per instrument.",
    )
    return chosen, chosen_at
