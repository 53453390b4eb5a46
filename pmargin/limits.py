"""Risk limits for CI: check a portfolio against a limits file (``pmargin check``).

The file's format and its loader live in :mod:`pmargin.io.limits_file`, which builds the
:class:`Limits` defined here.

What each limit bounds (a limit holds when the stated comparison is true):

========================  =======================================================================
``max_margin``            initial (portfolio) margin under the model, USD; margin ≤ limit
``max_margin_to_equity``  initial margin / equity (a ratio); needs collateral; breached when
                          equity ≤ 0
``max_loss``              worst loss over every scenario of the listed sets, USD (a positive
                          number; 0 when no scenario loses); P&L is unweighted; loss ≤ limit
``max_delta``             a number: Σ over underlyings of |net delta × spot|, USD;
                          ``{BTC: 25}``: |net BTC delta| in BTC; key ``total``: the USD number
``max_gamma``             a number: Σ over underlyings of |net gamma × spot² / 100|, USD (change
                          of USD delta for a 1% move); ``{BTC: x}``: |net gamma| in coins per USD
``max_vega``              a number: Σ over underlyings of |net vega|, USD per 1.00 vol;
                          ``{BTC: x}``: |net BTC vega|, USD per 1.00 vol
``min_excess``            equity − initial margin, USD; needs collateral; excess ≥ limit
========================  =======================================================================

A plain number for a greek is a *gross* total: offsets between underlyings do not count (a long
BTC and a short ETH delta add up), since coins do not add and underlyings do not move one for one.
Greeks are net within an underlying (over expiries, strikes and coin collateral). Open orders are
margined as if filled (the worse of filled and not filled), so greek limits use whichever of
"with open orders" and "without" has the larger absolute value. Scenario P&L counts orders as
filled.

With ``by_account`` every limit is checked for each account (all accounts at once, as arrays);
otherwise once for the whole portfolio: margin, equity and excess are the sums over accounts
(accounts never net), the loss is the portfolio's total P&L and the greeks are net over it; the
check's ``account`` is then the portfolio's one account, or None when it has several. ``headroom``
is limit − |value| for max limits (the greeks bound the absolute net value; ``value`` keeps its
sign) and value − limit for ``min_excess``; a check passes when headroom ≥ 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .account_engine import Engine
from .accounts import Accounts
from .book import Book, bind
from .errors import InputError, Problem
from .greeks import unit_greeks
from .margin import MarginModel
from .market import Market
from .portfolio import Portfolio
from .portfolio_margin import MarginResult, margin_for_book
from .stress import stress_book

__all__ = ["CHECK_COLUMNS", "CheckResult", "GreekLimit", "Limits", "check_limits"]

GREEK_LIMITS = ("max_delta", "max_gamma", "max_vega")
LIMIT_NAMES = (
    "max_margin",
    "max_margin_to_equity",
    "max_loss",
    "max_delta",
    "max_gamma",
    "max_vega",
    "min_excess",
)
TOTAL = "total"


@dataclass(frozen=True)
class GreekLimit:
    """Bounds on a greek: ``per_underlying`` in the greek's own units, ``total`` gross in USD."""

    per_underlying: dict[str, float] = field(default_factory=dict)
    total: float | None = None


@dataclass(frozen=True)
class Limits:
    """A loaded limits file. ``scenario_sets`` are loaded sets for ``max_loss``."""

    source: str
    model: str | None = None
    scenario_sets: tuple = ()
    max_margin: float | None = None
    max_margin_to_equity: float | None = None
    max_loss: float | None = None
    max_delta: GreekLimit | None = None
    max_gamma: GreekLimit | None = None
    max_vega: GreekLimit | None = None
    min_excess: float | None = None

    def with_scenarios(self, scenario_sets) -> Limits:
        return replace(self, scenario_sets=tuple(scenario_sets))

    @property
    def names(self) -> list[str]:
        return [n for n in LIMIT_NAMES if getattr(self, n) is not None]


#: greek limit -> (greek per underlying, its unit, USD greek for the total)
_GREEK_UNITS = {
    "max_delta": ("delta", "{u}", "delta_usd"),
    "max_gamma": ("gamma", "{u}/USD", "gamma_usd"),
    "max_vega": ("vega", "USD/vol", "vega"),
}
_TOTAL_UNITS = {"max_delta": "USD", "max_gamma": "USD/1%", "max_vega": "USD/vol"}


#: the columns of :attr:`CheckResult.checks`, one row per limit (and account)
CHECK_COLUMNS = (
    "name",
    "account",
    "underlying",
    "value",
    "limit",
    "headroom",
    "passed",
    "unit",
    "detail",
)


@dataclass(frozen=True)
class CheckResult:
    """Every check of a limits file, per account in the order of the accounts, each in SPEC §3
    order of the limits: ``checks`` has :data:`CHECK_COLUMNS`. ``value`` and ``headroom`` are NaN
    where a limit could not be measured (a breach); ``underlying`` is None except on greek
    limits; ``detail`` is "" when there is nothing to add."""

    checks: pd.DataFrame
    model: str
    scenario_sets: list[str]
    limits_source: str
    warnings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.checks["passed"].all())

    @property
    def breaches(self) -> pd.DataFrame:
        return self.checks[~self.checks["passed"].to_numpy(bool)]


@dataclass(frozen=True)
class _Scope:
    """What the limits are checked on: each account (``by_account``) or the whole portfolio."""

    accounts: Accounts
    labels: np.ndarray  # the ``account`` of each scope's checks (None: several accounts)
    margin: np.ndarray
    equity: np.ndarray  # NaN: no collateral stated
    excess: np.ndarray

    @classmethod
    def of(cls, book: Book, margin: MarginResult, by_account: bool) -> _Scope:
        if by_account:
            accounts = Accounts.of(book)
            table = margin.accounts
            return cls(
                accounts,
                np.where(accounts.names == "", None, accounts.names),
                table["portfolio_margin"].to_numpy(),
                table["equity"].to_numpy(np.float64),
                table["excess"].to_numpy(np.float64),
            )
        names = margin.accounts["account"].tolist()
        label = names[0] if len(names) == 1 and names[0] else None
        whole = Accounts(np.array([label], dtype=object), np.zeros(len(book.quantity), np.int64))
        return cls(
            whole,
            np.array([label], dtype=object),
            np.array([margin.portfolio_margin]),
            np.array([np.nan if margin.equity is None else margin.equity]),
            np.array([np.nan if margin.excess is None else margin.excess]),
        )

    def __len__(self) -> int:
        return len(self.labels)


def check_limits(
    portfolio: Portfolio,
    market: Market,
    limits: Limits,
    margin_model: MarginModel,
    *,
    by_account: bool = False,
    engine: Engine | None = None,
) -> CheckResult:
    """Check ``portfolio`` against ``limits`` under ``margin_model``, for each account with
    ``by_account``, else for the whole portfolio. (Which model applies — ``--model``, the limits
    file's ``model:``, the project config's, deribit — is the caller's choice.)
    """
    if limits.max_loss is not None and not limits.scenario_sets:
        raise InputError(
            Problem(
                f"{limits.source}: limits.max_loss",
                "needs scenario sets, and none are listed",
                "Add e.g. `scenarios: [crash]` to the limits file (or to pmargin.yaml).",
            )
        )
    book = bind(portfolio, market)
    scope = _Scope.of(book, margin_for_book(book, margin_model, engine=engine), by_account)
    warnings = _missing_underlyings(limits, book.instruments.underlyings)
    parts: list[pd.DataFrame] = []

    def add(name: str, value, unit: str, *, limit=None, underlying=None, detail="") -> None:
        parts.append(
            pd.DataFrame(
                {
                    "scope": np.arange(len(scope)),
                    "order": len(parts),
                    "name": name,
                    "account": scope.labels,
                    "underlying": underlying,
                    "value": value,
                    "limit": getattr(limits, name) if limit is None else limit,
                    "unit": unit,
                    "detail": detail,
                }
            )
        )

    if limits.max_margin is not None:
        add("max_margin", scope.margin, "USD")
    if limits.max_margin_to_equity is not None:
        equity = _equity(scope, limits, "max_margin_to_equity")
        positive = equity > 0
        add(
            "max_margin_to_equity",
            np.where(positive, scope.margin / np.where(positive, equity, 1.0), np.nan),
            "ratio",
            detail=_equity_notes(equity),
        )
    if limits.max_loss is not None:
        loss, labels = _worst_losses(book, limits, scope, warnings)
        add("max_loss", loss, "USD", detail="worst: " + labels)
    if any(getattr(limits, g) is not None for g in GREEK_LIMITS):
        _greek_checks(limits, _net_greeks(book, scope), add)
    if limits.min_excess is not None:
        equity = _equity(scope, limits, "min_excess")
        add("min_excess", equity - scope.margin, "USD")
    return CheckResult(
        checks=_check_table(parts),
        model=margin_model.name,
        scenario_sets=[s.name for s in limits.scenario_sets],
        limits_source=limits.source,
        warnings=warnings,
    )


def _equity_notes(equity: np.ndarray) -> np.ndarray:
    """``equity -1,234 USD ≤ 0`` where equity is not positive, else ""."""
    notes = np.full(len(equity), "", dtype=object)
    bad = np.flatnonzero(equity <= 0)
    notes[bad] = [f"equity {value:,.0f} USD ≤ 0" for value in equity[bad]]
    return notes


def _check_table(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The checks by scope (account), each in limit order, with headroom and passed."""
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CHECK_COLUMNS})
    table = pd.concat(parts, ignore_index=True).sort_values(["scope", "order"], kind="stable")
    value, limit = table["value"].to_numpy(np.float64), table["limit"].to_numpy(np.float64)
    minimum = (table["name"] == "min_excess").to_numpy()
    table["headroom"] = np.where(minimum, value - limit, limit - np.abs(value))
    table["passed"] = table["headroom"].to_numpy() >= 0  # NaN (not measured) fails
    return table[list(CHECK_COLUMNS)].reset_index(drop=True)


def _worst_losses(book: Book, limits: Limits, scope: _Scope, warnings: list[str]):
    """Each scope's worst loss (≥ 0, USD) over every scenario of the listed sets, and its
    ``set: scenario`` label. The sets' own warnings are added to ``warnings``."""
    stress = stress_book(book, list(limits.scenario_sets))
    warnings += [w for s in stress.sets for w in s.warnings if w not in warnings]
    labels = np.array([f"{s.name}: {n}" for s in stress.sets for n in s.names], dtype=object)
    pnl = np.hstack([s.valuation.instrument_pnl for s in stress.sets])  # (I, S) per contract
    holdings = scope.accounts.holdings(book)
    worst_pnl, worst = np.zeros(len(scope)), np.zeros(len(scope), np.int64)
    for rows in holdings.chunks(pnl.shape[1]):
        account_pnl = holdings.rows(rows).net(pnl)  # (accounts, S)
        worst[rows] = np.argmin(account_pnl, axis=1)
        worst_pnl[rows] = account_pnl[np.arange(len(account_pnl)), worst[rows]]
    return np.maximum(-worst_pnl, 0.0), labels[worst]


def _missing_underlyings(limits: Limits, present: tuple[str, ...]) -> list[str]:
    warnings = []
    for name in GREEK_LIMITS:
        bound: GreekLimit | None = getattr(limits, name)
        for underlying in bound.per_underlying if bound else ():
            if underlying not in present:
                warnings.append(
                    f"{limits.source}: limits.{name}.{underlying}: the portfolio holds no "
                    f"{underlying} (it has {', '.join(present) or 'nothing'}); the limit holds "
                    "trivially"
                )
    return warnings


def _equity(scope: _Scope, limits: Limits, name: str) -> np.ndarray:
    """Each scope's equity; an InputError when one states no collateral."""
    missing = np.flatnonzero(np.isnan(scope.equity))
    if len(missing):
        label = scope.labels[missing[0]]
        which = f"account {label!r}" if label is not None else "the portfolio"
        more = f" (and {len(missing) - 1:,} more accounts)" if len(missing) > 1 else ""
        raise InputError(
            Problem(
                f"{limits.source}: limits.{name}",
                f"needs equity, and {which}{more} states no collateral",
                "Add `collateral:` (e.g. {USD: 250000}) to the portfolio YAML, or drop the limit.",
            )
        )
    return scope.equity


def _net_greeks(book: Book, scope: _Scope) -> dict[bool, dict[str, np.ndarray]]:
    """Net greeks per scope and underlying (A, U), with open orders (True) and without."""
    unit = unit_greeks(book.instruments)
    spot = np.array([book.market.spot(u) for u in book.instruments.underlyings])
    greeks = {}
    for include_orders in (True, False):
        holdings = scope.accounts.holdings(book, include_orders=include_orders)
        delta = holdings.by_underlying(unit.delta)
        gamma = holdings.by_underlying(unit.gamma)
        greeks[include_orders] = {
            "delta": delta,
            "delta_usd": delta * spot,
            "gamma": gamma,
            "gamma_usd": gamma * spot**2 / 100.0,
            "vega": holdings.by_underlying(unit.vega),
            "underlyings": list(book.instruments.underlyings),
        }
    return greeks


def _greek_checks(limits: Limits, net_greeks, add) -> None:
    """Add each greek limit: per underlying (the worse of with and without open orders) and the
    gross total over underlyings."""
    underlyings = net_greeks[True]["underlyings"]
    for name in GREEK_LIMITS:
        bound: GreekLimit | None = getattr(limits, name)
        if bound is None:
            continue
        greek, unit, usd_greek = _GREEK_UNITS[name]
        for underlying, limit in bound.per_underlying.items():
            if underlying in underlyings:
                column = underlyings.index(underlying)
                with_orders, without = (net_greeks[o][greek][:, column] for o in (True, False))
                value = np.where(np.abs(with_orders) >= np.abs(without), with_orders, without)
            else:
                value = np.zeros(len(net_greeks[True][greek]))
            add(name, value, unit.format(u=underlying), limit=limit, underlying=underlying)
        if bound.total is not None:
            gross = np.maximum(
                *(np.abs(net_greeks[o][usd_greek]).sum(axis=1) for o in (True, False))
            )
            add(
                name,
                gross,
                _TOTAL_UNITS[name],
                limit=bound.total,
                underlying=TOTAL,
                detail="Σ |net| over underlyings",
            )
