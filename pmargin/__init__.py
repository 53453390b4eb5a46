"""pmargin: stress tests and portfolio margin for crypto derivatives books.

Library first; the ``pmargin`` command is a thin layer over these functions::

    from pmargin import load_portfolio, load_market, compute_margin
    result = compute_margin(load_portfolio("book.csv"), load_market("market.yaml"), "deribit")
    result.portfolio_margin, result.isolated_margin

    what_if(book, market, ["BTC-27DEC24-60000-C:-5"]).trades     # what a trade adds
    explain_margin(book, market, "span").positions               # who uses the margin
    breakeven(book, market).all_together                          # how far before liquidation

This module is the public API: it joins the loaders of :mod:`pmargin.io` to the library, so a
model may be named here (``"deribit"``, ``"my_model.yaml"``) where the library takes a model.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pmargin")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+source"

import pandas as pd

from . import attribution, liquidation, portfolio_margin, reverse_stress, whatif
from .errors import InputError, MarketDataError, PmarginError
from .io.market_file import load_market
from .io.model_file import load_model
from .io.portfolio_file import load_portfolio
from .io.scenario_file import load_scenarios
from .io.trades import load_trades
from .liquidation import LiquidationResult
from .liquidation_price import LiquidationPrice
from .margin import DEFAULT_MODEL, MarginModel
from .market import Market
from .portfolio import Portfolio
from .portfolio_margin import MarginResult


def compute_margin(
    portfolio: Portfolio,
    market: Market,
    model: str | MarginModel = DEFAULT_MODEL,
    *,
    by_account: bool = False,
    compare: list[str | MarginModel] | None = None,
    with_liquidation_prices: bool = False,
) -> MarginResult:
    """Portfolio margin of ``portfolio`` under ``model`` (a bundled name, a YAML path or a
    model); ``compare`` lists further models shown beside it. See
    :func:`pmargin.portfolio_margin.compute_margin`."""
    return portfolio_margin.compute_margin(
        portfolio,
        market,
        _model(model),
        by_account=by_account,
        compare=[_model(m) for m in compare] if compare else None,
        with_liquidation_prices=with_liquidation_prices,
    )


def what_if(
    portfolio: Portfolio,
    market: Market,
    trades: list[str] | pd.DataFrame,
    model: str | MarginModel = DEFAULT_MODEL,
    *,
    account: str = "",
) -> whatif.WhatIfResult:
    """Margin before and after ``trades`` — ``"INSTRUMENT:QUANTITY"`` strings or trade files
    (see :func:`pmargin.io.trades.load_trades`), or position rows — and each trade's
    incremental margin alone. See :func:`pmargin.whatif.what_if`."""
    if not isinstance(trades, pd.DataFrame):
        trades = load_trades(list(trades), account=account)
    return whatif.what_if(portfolio, market, _model(model), trades)


def explain_margin(
    portfolio: Portfolio, market: Market, model: str | MarginModel = DEFAULT_MODEL
) -> attribution.Attribution:
    """Each position's contribution to the margin (Euler allocation). See
    :func:`pmargin.attribution.explain_margin`."""
    return attribution.explain_margin(portfolio, market, _model(model))


def breakeven(
    portfolio: Portfolio,
    market: Market,
    model: str | MarginModel = DEFAULT_MODEL,
    *,
    loss: float | None = None,
    horizon_days: float | None = None,
) -> reverse_stress.Breakeven:
    """Reverse stress: the smallest moves at which equity meets maintenance margin (or the loss
    reaches ``loss``). See :func:`pmargin.reverse_stress.breakeven`."""
    return reverse_stress.breakeven(
        portfolio, market, _model(model), loss=loss, horizon_days=horizon_days
    )


def liquidate(
    portfolio: Portfolio,
    market: Market,
    model: str | MarginModel = DEFAULT_MODEL,
    *,
    target: str = "maintenance",
    buffer: float | None = None,
    mode: str = "risk-reducing",
) -> LiquidationResult:
    """Liquidation plans per account of ``portfolio`` under ``model`` (a bundled name, a YAML
    path or a model). See :func:`pmargin.liquidation.liquidate`."""
    return liquidation.liquidate(
        portfolio, market, _model(model), target=target, buffer=buffer, mode=mode
    )


def liquidation_prices(
    portfolio: Portfolio,
    market: Market,
    model: str | MarginModel = DEFAULT_MODEL,
    *,
    account: str | None = None,
) -> dict[str, LiquidationPrice]:
    """Per underlying, the spots at which an account's equity = maintenance margin. See
    :func:`pmargin.liquidation.liquidation_prices`."""
    return liquidation.liquidation_prices(portfolio, market, _model(model), account=account)


def _model(model: str | MarginModel) -> MarginModel:
    return load_model(model) if isinstance(model, str) else model


__all__ = [
    "InputError",
    "LiquidationPrice",
    "LiquidationResult",
    "MarginResult",
    "MarketDataError",
    "PmarginError",
    "__version__",
    "breakeven",
    "compute_margin",
    "explain_margin",
    "liquidate",
    "liquidation_prices",
    "load_market",
    "load_model",
    "load_portfolio",
    "load_scenarios",
    "load_trades",
    "what_if",
]
