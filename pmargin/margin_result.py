"""The result of ``compute``: :class:`MarginResult` (every account's margin and the totals over
them) and the margin status of an account."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .liquidation_price import LiquidationPrice

STATUS_OK, STATUS_MARGIN_CALL, STATUS_LIQUIDATION = "ok", "margin_call", "liquidation"
#: statuses from best to worst
STATUSES = (STATUS_OK, STATUS_MARGIN_CALL, STATUS_LIQUIDATION)
#: position columns that hold money (converted by ``--currency``); delta and gamma stay in coins
MONEY_COLUMNS = ("value", "isolated_margin", "vega", "theta")
#: account columns that hold money, besides ``components.*`` and ``by_underlying.*``
ACCOUNT_MONEY_COLUMNS = (
    "portfolio_margin",
    "maintenance_margin",
    "isolated_margin",
    "offset",
    "worst_scenario.pnl",
    "equity",
    "excess",
)
COMPONENT, BY_UNDERLYING = "components.", "by_underlying."
#: the account column of liquidation prices: ``{underlying: LiquidationPrice}`` or None
LIQUIDATION_PRICES = "liquidation_prices"


@dataclass
class MarginResult:
    """Margin of a book's accounts under one model, and the totals over them; money in USD.

    ``accounts`` has one row per account (sorted by name): ``account``, ``portfolio_margin``,
    ``maintenance_margin``, ``isolated_margin``, ``offset``, ``savings``, ``worst_scenario.name``,
    ``worst_scenario.pnl``, ``worst_scenario.weight``, ``equity``, ``excess``, ``status``,
    ``positions`` (rows), then ``components.<name>`` and ``by_underlying.<underlying>`` (NaN
    where a part does not apply to the account: an underlying it does not hold), and, when they
    were asked for, ``liquidation_prices`` (``{underlying: LiquidationPrice}``, None for an
    account without them). Missing values (equity without collateral, a model without
    scenarios) are NaN or None. ``liquidation_prices`` at the top is that of a portfolio of one
    account with collateral.
    """

    model: str
    portfolio_margin: float
    maintenance_margin: float
    isolated_margin: float
    worst_scenario: dict[str, Any] | None
    equity: float | None
    excess: float | None
    status: str | None
    components: dict[str, float]
    by_underlying: dict[str, float]
    positions: pd.DataFrame
    accounts: pd.DataFrame
    models: dict[str, MarginResult] = field(default_factory=dict)
    currency: str = "USD"
    liquidation_prices: dict[str, LiquidationPrice] | None = None

    @property
    def offset(self) -> float:
        """Isolated − portfolio margin: what netting saves (≥ 0 for the built-in models)."""
        return self.isolated_margin - self.portfolio_margin

    @property
    def savings(self) -> float | None:
        """Offset as a fraction of isolated margin, or None when isolated margin is 0."""
        return self.offset / self.isolated_margin if self.isolated_margin > 0 else None

    def in_currency(self, currency: str, usd_per_unit: float) -> MarginResult:
        """The same result with every money figure in ``currency`` (USD / ``usd_per_unit``).

        Deltas stay in coins of each underlying and gamma in coins per USD; the status is
        unchanged, since margin and equity convert alike.
        """
        if not usd_per_unit > 0:
            raise ValueError("`usd_per_unit` must be > 0")

        def convert(value):
            return None if value is None else value / usd_per_unit

        positions = self.positions.copy()
        for column in MONEY_COLUMNS:
            positions[column] = positions[column] / usd_per_unit
        accounts = self.accounts.copy()
        for column in accounts.columns:
            if column in ACCOUNT_MONEY_COLUMNS or column.startswith((COMPONENT, BY_UNDERLYING)):
                accounts[column] = accounts[column] / usd_per_unit
        worst = (
            None
            if self.worst_scenario is None
            else {**self.worst_scenario, "pnl": self.worst_scenario["pnl"] / usd_per_unit}
        )
        return replace(
            self,
            portfolio_margin=self.portfolio_margin / usd_per_unit,
            maintenance_margin=self.maintenance_margin / usd_per_unit,
            isolated_margin=self.isolated_margin / usd_per_unit,
            worst_scenario=worst,
            equity=convert(self.equity),
            excess=convert(self.excess),
            components={k: v / usd_per_unit for k, v in self.components.items()},
            by_underlying={k: v / usd_per_unit for k, v in self.by_underlying.items()},
            positions=positions,
            accounts=accounts,
            models={k: m.in_currency(currency, usd_per_unit) for k, m in self.models.items()},
            currency=currency,
        )

    def account_results(self) -> list[MarginResult]:
        """Every account's own result (:meth:`account`), in the order of ``accounts``; a loop
        over accounts, for a few of them (an API convenience, not ``compute``'s path)."""
        return [self.account(name) for name in self.accounts["account"].to_numpy(object)]

    def account(self, name: str) -> MarginResult:
        """The result of one account alone (its row of ``accounts`` and its positions)."""
        matches = np.flatnonzero(self.accounts["account"].to_numpy(object) == name)
        if not len(matches):
            raise KeyError(f"no account {name!r}")
        row = self.accounts.iloc[int(matches[0])]
        worst = None
        if pd.notna(row["worst_scenario.name"]):
            worst = {
                "name": row["worst_scenario.name"],
                "pnl": float(row["worst_scenario.pnl"]),
                "weight": float(row["worst_scenario.weight"]),
            }
        equity = None if pd.isna(row["equity"]) else float(row["equity"])
        positions = self.positions[self.positions["account"].to_numpy(object) == name]
        prices = row[LIQUIDATION_PRICES] if LIQUIDATION_PRICES in row.index else None
        return MarginResult(
            model=self.model,
            portfolio_margin=float(row["portfolio_margin"]),
            maintenance_margin=float(row["maintenance_margin"]),
            isolated_margin=float(row["isolated_margin"]),
            worst_scenario=worst,
            equity=equity,
            excess=None if equity is None else float(row["excess"]),
            status=row["status"],
            components=_prefixed(row, COMPONENT),
            by_underlying=_prefixed(row, BY_UNDERLYING),
            positions=positions.reset_index(drop=True),
            accounts=self.accounts.iloc[matches[:1]].reset_index(drop=True),
            currency=self.currency,
            liquidation_prices=prices,
        )


def _prefixed(row: pd.Series, prefix: str) -> dict[str, float]:
    """``{name: value}`` of the columns ``<prefix><name>`` of an account row that apply."""
    return {
        key[len(prefix) :]: float(value)
        for key, value in row.items()
        if key.startswith(prefix) and pd.notna(value)
    }


def margin_status(equity: float | None, initial: float, maintenance: float) -> str | None:
    """``liquidation`` below maintenance margin, ``margin_call`` below initial, else ``ok``;
    None when equity is unknown (no collateral stated)."""
    if equity is None:
        return None
    if equity < maintenance:
        return STATUS_LIQUIDATION
    if equity < initial:
        return STATUS_MARGIN_CALL
    return STATUS_OK


def account_status(equity: np.ndarray, initial: np.ndarray, maintenance: np.ndarray) -> np.ndarray:
    """``liquidation`` (equity < maintenance), ``margin_call`` (equity < initial), ``ok``; None
    where equity is unknown (NaN)."""
    status = np.select(
        [equity < maintenance, equity < initial],
        [STATUS_LIQUIDATION, STATUS_MARGIN_CALL],
        STATUS_OK,
    ).astype(object)
    status[np.isnan(equity)] = None
    return status


def worst_status(statuses: np.ndarray) -> str | None:
    known = [s for s in STATUSES if (statuses == s).any()]
    return known[-1] if known else None
