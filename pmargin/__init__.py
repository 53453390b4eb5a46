"""pmargin: stress tests and portfolio margin for crypto derivatives books.

Library first; the ``pmargin`` command is a thin layer over these functions::

    from pmargin import load_portfolio, load_market, compute_margin
    result = compute_margin(load_portfolio("book.csv"), load_market("market.yaml"), "deribit")
    result.portfolio_margin, result.isolated_margin

This module is the public API: it joins the loaders of :mod:`pmargin.io` to the library, so a
model may be named here (``"deribit"``, ``"my_model.yaml"``) where the library takes a model.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pmargin")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+source"

from . import liquidation, portfolio_margin
from .errors import InputError, MarketDataError, PmarginError
from .io.market_file import load_market
from .io.model_file import load_model
from .io.portfolio_file import load_portfolio
from .io.scenario_file import load_scenarios
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
    compare: list[str | MarginModel] | None = None,
    engine=None,
    with_liquidation_prices: bool = False,
) -> MarginResult:
    """Margin of every account of ``portfolio`` under ``model`` (a bundled name, a YAML path or
    a model), and the totals over accounts; ``compare`` lists further models shown beside it;
    ``engine`` runs the per-account work (this process by default, or a
    :class:`pmargin.dask_engine.DaskEngine`). See :func:`pmargin.portfolio_margin.compute_margin`.
    """
    return portfolio_margin.compute_margin(
        portfolio,
        market,
        _model(model),
        compare=[_model(m) for m in compare] if compare else None,
        engine=engine,
        with_liquidation_prices=with_liquidation_prices,
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
    "compute_margin",
    "liquidate",
    "liquidation_prices",
    "load_market",
    "load_model",
    "load_portfolio",
    "load_scenarios",
]
