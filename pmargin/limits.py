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

When the portfolio names accounts every limit is checked per account; otherwise once for the
whole portfolio (account None). ``headroom`` is limit − |value| for max limits (the greeks bound the
absolute net value; ``value`` keeps its sign) and value − limit for ``min_excess``; a check passes
when headroom ≥ 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .book import bind
from .errors import InputError, Problem
from .greeks import GREEKS, position_greeks
from .margin import MarginModel
from .market import Market
from .portfolio import Portfolio
from .portfolio_margin import MarginResult, margin_for_book
from .stress import stress_book

__all__ = ["CheckResult", "GreekLimit", "LimitCheck", "Limits", "check_limits"]

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


@dataclass(frozen=True)
class LimitCheck:
    """One limit for one account. ``value`` None means it could not be measured (a breach)."""

    name: str
    account: str | None
    value: float | None
    limit: float
    unit: str
    underlying: str | None = None
    detail: str = ""

    @property
    def headroom(self) -> float | None:
        if self.value is None:
            return None
        if self.name == "min_excess":
            return self.value - self.limit
        return self.limit - abs(self.value)

    @property
    def passed(self) -> bool:
        return self.headroom is not None and self.headroom >= 0


@dataclass(frozen=True)
class CheckResult:
    """Every check of a limits file: per account, each in SPEC §3 order of the limits."""

    checks: list[LimitCheck]
    model: str
    scenario_sets: list[str]
    limits_source: str
    warnings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def breaches(self) -> list[LimitCheck]:
        return [c for c in self.checks if not c.passed]


def check_limits(
    portfolio: Portfolio,
    market: Market,
    limits: Limits,
    margin_model: MarginModel,
) -> CheckResult:
    """Check ``portfolio`` against ``limits`` under ``margin_model``, per account when it names
    accounts. (Which model applies — ``--model``, the limits file's ``model:``, the project
    config's, deribit — is the caller's choice.)
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
    accounts = [a for a in portfolio.accounts if a != ""]
    per_account = bool(accounts)
    names: list[str | None] = list(portfolio.accounts) if per_account else [None]
    margin = margin_for_book(book, margin_model, by_account=per_account)
    margins = {a.account: a for a in margin.accounts} if per_account else {None: margin}
    warnings = _missing_underlyings(limits, book.instruments.underlyings)
    losses = _worst_losses(book, limits, names, warnings)
    has_greek_limits = any(getattr(limits, g) is not None for g in GREEK_LIMITS)
    net_greeks = _net_greeks(book, per_account) if has_greek_limits else None
    checks: list[LimitCheck] = []
    for account in names:
        checks += _account_checks(
            limits, account, margins[account], losses.get(account), net_greeks
        )
    return CheckResult(
        checks=checks,
        model=margin_model.name,
        scenario_sets=[s.name for s in limits.scenario_sets],
        limits_source=limits.source,
        warnings=warnings,
    )


def _worst_losses(book, limits: Limits, names: list[str | None], warnings: list[str]) -> dict:
    """account -> (worst loss ≥ 0 in USD, 'set: scenario') over every listed scenario set.

    The sets' own warnings (an underlying held but not shocked, ...) are added to ``warnings``.
    """
    if limits.max_loss is None:
        return {}
    stress = stress_book(book, list(limits.scenario_sets))
    warnings += [w for s in stress.sets for w in s.warnings if w not in warnings]
    labels = [f"{s.name}: {n}" for s in stress.sets for n in s.names]
    if names == [None]:
        pnl = np.concatenate([s.pnl for s in stress.sets])[None, :]
    else:
        per_set = [s.valuation.by_account() for s in stress.sets]
        found = per_set[0][0]
        matrix = np.hstack([m for _, m in per_set])
        pnl = np.zeros((len(names), matrix.shape[1]))
        for row, account in enumerate(names):
            if account in found:
                pnl[row] = matrix[found.index(account)]
    worst = np.argmin(pnl, axis=1)
    return {
        account: (max(-float(pnl[row, worst[row]]), 0.0), labels[worst[row]])
        for row, account in enumerate(names)
    }


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


def _account_checks(
    limits: Limits, account: str | None, margin: MarginResult, loss, net_greeks
) -> list[LimitCheck]:
    checks: list[LimitCheck] = []

    def add(name: str, value: float | None, unit: str, **extra) -> None:
        checks.append(LimitCheck(name, account, value, getattr(limits, name), unit, **extra))

    if limits.max_margin is not None:
        add("max_margin", margin.portfolio_margin, "USD")
    if limits.max_margin_to_equity is not None:
        equity = _equity(margin, limits, account, "max_margin_to_equity")
        if equity > 0:
            add("max_margin_to_equity", margin.portfolio_margin / equity, "ratio")
        else:
            add("max_margin_to_equity", None, "ratio", detail=f"equity {equity:,.0f} USD ≤ 0")
    if limits.max_loss is not None:
        worst_loss, scenario = loss
        add("max_loss", worst_loss, "USD", detail=f"worst: {scenario}")
    if net_greeks is not None:
        checks += _greek_checks(limits, account, net_greeks)
    if limits.min_excess is not None:
        equity = _equity(margin, limits, account, "min_excess")
        add("min_excess", equity - margin.portfolio_margin, "USD")
    return checks


def _equity(margin: MarginResult, limits: Limits, account: str | None, name: str) -> float:
    if margin.equity is None:
        scope = f"account {account!r}" if account is not None else "the portfolio"
        raise InputError(
            Problem(
                f"{limits.source}: limits.{name}",
                f"needs equity, and {scope} states no collateral",
                "Add `collateral:` (e.g. {USD: 250000}) to the portfolio YAML, or drop the limit.",
            )
        )
    return margin.equity


def _net_greeks(book, per_account: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Net greeks per (account, underlying) with and without open orders, in one pass each.

    The account level is "" when the whole portfolio is checked at once.
    """
    tables = []
    for include_orders in (True, False):
        rows = position_greeks(book, include_orders=include_orders)
        if not per_account:
            rows["account"] = ""
        tables.append(rows.groupby(["account", "underlying"])[list(GREEKS)].sum())
    return tables[0], tables[1]


def _net(table: pd.DataFrame, account: str, underlying: str, greek: str) -> float:
    key = (account, underlying)
    return float(table.at[key, greek]) if key in table.index else 0.0


def _gross(table: pd.DataFrame, account: str, greek: str) -> float:
    """Σ over the account's underlyings of |net greek|."""
    if account not in table.index.get_level_values("account"):
        return 0.0
    return float(table.loc[account, greek].abs().sum())


def _greek_checks(limits: Limits, account: str | None, net_greeks) -> list[LimitCheck]:
    key = account if account is not None else ""
    checks = []
    for name in GREEK_LIMITS:
        bound: GreekLimit | None = getattr(limits, name)
        if bound is None:
            continue
        greek, unit, usd_greek = _GREEK_UNITS[name]
        for underlying, limit in bound.per_underlying.items():
            with_orders, without = (_net(t, key, underlying, greek) for t in net_greeks)
            checks.append(
                LimitCheck(
                    name,
                    account,
                    _larger(with_orders, without),
                    limit,
                    unit.format(u=underlying),
                    underlying=underlying,
                )
            )
        if bound.total is not None:
            checks.append(
                LimitCheck(
                    name,
                    account,
                    max(_gross(t, key, usd_greek) for t in net_greeks),
                    bound.total,
                    _TOTAL_UNITS[name],
                    underlying=TOTAL,
                    detail="Σ |net| over underlyings",
                )
            )
    return checks


def _larger(a: float, b: float) -> float:
    return a if abs(a) >= abs(b) else b
