"""pmargin: stress tests and portfolio margin for crypto derivatives books.

Library first; the ``pmargin`` command is a thin layer over these functions::

    from pmargin import load_portfolio, load_market, compute_margin
    result = compute_margin(load_portfolio("book.csv"), load_market("market.yaml"), "deribit")
    result.portfolio_margin, result.isolated_margin

This module is the public API: it joins the loaders of :mod:`pmargin.io` to the library, so a
model may be named here (``"deribit"``, ``"my_model.yaml"``) where the library takes a model.
Names are imported on first use (``__version__`` included), so ``import pmargin`` costs almost
nothing and ``pmargin --version`` imports neither pandas nor scipy.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .errors import InputError, MarketDataError, PmarginError
    from .io.market_file import load_market
    from .io.model_file import load_model
    from .io.portfolio_file import load_portfolio
    from .io.scenario_file import load_scenarios
    from .liquidation import LiquidationResult
    from .liquidation_price import LiquidationPrice
    from .margin import MarginModel
    from .market import Market
    from .portfolio import Portfolio
    from .portfolio_margin import MarginResult

#: public name -> the module that defines it (imported on first use)
_LAZY = {
    "InputError": ".errors",
    "MarketDataError": ".errors",
    "PmarginError": ".errors",
    "load_market": ".io.market_file",
    "load_model": ".io.model_file",
    "load_portfolio": ".io.portfolio_file",
    "load_scenarios": ".io.scenario_file",
    "LiquidationResult": ".liquidation",
    "LiquidationPrice": ".liquidation_price",
    "DEFAULT_MODEL": ".margin",
    "MarginModel": ".margin",
    "Market": ".market",
    "Portfolio": ".portfolio",
    "MarginResult": ".portfolio_margin",
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pmargin")
    except PackageNotFoundError:  # running from a source tree
        return "0.0.0+source"


def __getattr__(name: str):
    if name == "__version__":
        globals()[name] = value = _version()
        return value
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pmargin' has no attribute {name!r}")


def compute_margin(
    portfolio: Portfolio,
    market: Market,
    model: str | MarginModel | None = None,
    *,
    by_account: bool = False,
    compare: list[str | MarginModel] | None = None,
    with_liquidation_prices: bool = False,
) -> MarginResult:
    """Portfolio margin of ``portfolio`` under ``model`` (a bundled name, a YAML path or a
    model; by default :data:`~pmargin.margin.DEFAULT_MODEL`); ``compare`` lists further models
    shown beside it. See :func:`pmargin.portfolio_margin.compute_margin`."""
    from .portfolio_margin import compute_margin as margin_of

    return margin_of(
        portfolio,
        market,
        _model(model),
        by_account=by_account,
        compare=[_model(m) for m in compare] if compare else None,
        with_liquidation_prices=with_liquidation_prices,
    )


def liquidate(
    portfolio: Portfolio,
    market: Market,
    model: str | MarginModel | None = None,
    *,
    target: str = "maintenance",
    buffer: float | None = None,
    mode: str = "risk-reducing",
) -> LiquidationResult:
    """Liquidation plans per account of ``portfolio`` under ``model`` (a bundled name, a YAML
    path or a model; by default :data:`~pmargin.margin.DEFAULT_MODEL`). See
    :func:`pmargin.liquidation.liquidate`."""
    from .liquidation import liquidate as plans_of

    return plans_of(portfolio, market, _model(model), target=target, buffer=buffer, mode=mode)


def liquidation_prices(
    portfolio: Portfolio,
    market: Market,
    model: str | MarginModel | None = None,
    *,
    account: str | None = None,
) -> dict[str, LiquidationPrice]:
    """Per underlying, the spots at which an account's equity = maintenance margin. See
    :func:`pmargin.liquidation.liquidation_prices`."""
    from .liquidation import liquidation_prices as prices_of

    return prices_of(portfolio, market, _model(model), account=account)


def _model(model: str | MarginModel | None) -> MarginModel:
    """``model`` as a model: a bundled name or YAML path is loaded; None is the default."""
    from .io.model_file import load_model
    from .margin import DEFAULT_MODEL

    if model is None:
        model = DEFAULT_MODEL
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
