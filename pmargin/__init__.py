"""pmargin: stress tests and portfolio margin for crypto derivatives books.

Library first; the ``pmargin`` command is a thin layer over these functions::

    import pandas as pd
    from pmargin import Market, Portfolio, compute_margin, run_stress

    book = Portfolio.from_frame(pd.DataFrame({"instrument": ["BTC-PERPETUAL"], "quantity": [-100]}))
    market = Market.from_dict({"as_of": "2024-11-25", "underlyings": {"BTC": {"spot": 95000}}})
    compute_margin(book, market, "deribit").to_frame()
    run_stress(book, market, "crash").to_dict()["worst"]

This module is the public API: it joins the loaders of :mod:`pmargin.io` and the reports of
:mod:`pmargin.report` to the library. Every function takes a portfolio as a
:class:`Portfolio`, a DataFrame with the portfolio CSV's columns or a file path; a market as a
:class:`Market`, a dict with the market YAML's structure or a file path; a model as a bundled
name, a model YAML path or a :class:`MarginModel`.

The domain classes never import the loaders (the layout's border), so the entry points that
need them are installed here: ``Portfolio.from_frame``, ``Market.from_dict``, and ``to_dict()`` /
``to_frame()`` on :class:`MarginResult`, :class:`StressResult`, :class:`CheckResult`,
:class:`LiquidationResult`, :class:`WhatIfResult`, :class:`Attribution` and :class:`Breakeven` (the
same data ``--format json`` and ``--format csv`` print).

Names are imported on first use (``__version__`` included), so ``import pmargin`` costs almost
nothing and ``pmargin --version`` / ``--help`` import neither pandas nor scipy. The entry points
are installed the first time any public name is used (a class, a loader, a function), so
``from pmargin import Portfolio`` gives a ``Portfolio`` that has ``from_frame``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    import pandas as pd

    from .attribution import Attribution
    from .errors import InputError, MarketDataError, PmarginError
    from .io.market_file import load_market
    from .io.model_file import load_model
    from .io.portfolio_file import load_portfolio
    from .io.scenario_file import load_scenarios
    from .limits import CheckResult, Limits
    from .liquidation import LiquidationResult
    from .liquidation_price import LiquidationPrice
    from .margin import MarginModel
    from .market import Market
    from .portfolio import Portfolio
    from .portfolio_margin import MarginResult
    from .reverse_stress import Breakeven
    from .stress import StressResult
    from .whatif import WhatIfResult

    PortfolioLike = Portfolio | pd.DataFrame | str | Path
    MarketLike = Market | Mapping | str | Path
    ModelLike = str | MarginModel

#: public name -> the module that defines it (imported on first use)
_LAZY = {
    "InputError": ".errors",
    "MarketDataError": ".errors",
    "PmarginError": ".errors",
    "load_market": ".io.market_file",
    "load_model": ".io.model_file",
    "load_portfolio": ".io.portfolio_file",
    "load_scenarios": ".io.scenario_file",
    "CheckResult": ".limits",
    "Limits": ".limits",
    "LiquidationResult": ".liquidation",
    "LiquidationPrice": ".liquidation_price",
    "DEFAULT_MODEL": ".margin",
    "MarginModel": ".margin",
    "Market": ".market",
    "Portfolio": ".portfolio",
    "MarginResult": ".portfolio_margin",
    "StressResult": ".stress",
    "load_trades": ".io.trades",
    "Attribution": ".attribution",
    "Breakeven": ".reverse_stress",
    "WhatIfResult": ".whatif",
}


class _DefaultModel:
    """The default margin model, :data:`pmargin.margin.DEFAULT_MODEL` (deribit), resolved when
    a function runs, so that importing pmargin loads no model."""

    def __repr__(self) -> str:
        return "DEFAULT_MODEL"


#: a model argument's default: :data:`pmargin.margin.DEFAULT_MODEL`
DEFAULT = _DefaultModel()


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from .version import VERSION

        globals()[name] = VERSION
        return VERSION
    if name in _LAZY:
        _install()
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pmargin' has no attribute {name!r}")


def compute_margin(
    portfolio: PortfolioLike,
    market: MarketLike,
    model: ModelLike = DEFAULT,
    *,
    compare: list[ModelLike] | None = None,
    engine=None,
    with_liquidation_prices: bool = False,
) -> MarginResult:
    """Margin of every account of ``portfolio`` under ``model`` and the totals over accounts
    (accounts never net); ``compare`` lists further models shown beside it; ``engine`` runs the
    per-account work (this process by default, or a :class:`pmargin.dask_engine.DaskEngine`).
    See :func:`pmargin.portfolio_margin.compute_margin`."""
    from .portfolio_margin import compute_margin as margin_of

    return margin_of(
        _portfolio(portfolio),
        _market(market),
        _model(model),
        compare=[_model(m) for m in compare] if compare else None,
        engine=engine,
        with_liquidation_prices=with_liquidation_prices,
    )


def run_stress(
    portfolio: PortfolioLike,
    market: MarketLike,
    scenarios: Any,
    *,
    model: ModelLike | None = DEFAULT,
    progress=None,
) -> StressResult:
    """P&L of ``portfolio`` under scenario sets: a bundled name (``"crash"``), a YAML path, a
    loaded set, or a list of them. For a book that states collateral, ``model`` (as
    ``pmargin stress --model``; None for P&L alone) gives each scenario's equity and whether an
    account falls into liquidation. See :func:`pmargin.stress.run_stress`."""
    from pathlib import Path

    from .io.scenario_file import load_scenarios
    from .stress import run_stress as stress_of

    items = [scenarios] if isinstance(scenarios, (str, Path)) else list(scenarios)
    sets = [load_scenarios(s) if isinstance(s, (str, Path)) else s for s in items]
    return stress_of(
        _portfolio(portfolio),
        _market(market),
        sets,
        progress=progress,
        model=None if model is None else _model(model),
    )


def check_limits(
    portfolio: PortfolioLike,
    market: MarketLike,
    limits: Limits | Mapping | str | Path,
    model: ModelLike | None = None,
) -> CheckResult:
    """``portfolio`` against risk limits: a :class:`Limits`, a dict with the limits file's
    structure (``{"limits": {"max_margin": 250000}}``; relative paths resolve against the current
    folder) or a limits YAML path. The model is ``model``, else the limits' ``model:``, else
    deribit. See :func:`pmargin.limits.check_limits`."""
    from collections.abc import Mapping
    from pathlib import Path

    from .io.limits_file import limits_from_document, load_limits
    from .limits import Limits
    from .limits import check_limits as check_of

    if isinstance(limits, Mapping):
        limits = limits_from_document(dict(limits), Path("limits"), "limits")
    elif not isinstance(limits, Limits):
        limits = load_limits(limits)
    chosen = model if model is not None else limits.model or DEFAULT
    return check_of(_portfolio(portfolio), _market(market), limits, _model(chosen))


def liquidate(
    portfolio: PortfolioLike,
    market: MarketLike,
    model: ModelLike = DEFAULT,
    *,
    target: str = "maintenance",
    buffer: float | None = None,
    mode: str = "risk-reducing",
) -> LiquidationResult:
    """Liquidation plans per account of ``portfolio`` (which must state collateral) under
    ``model``. See :func:`pmargin.liquidation.liquidate`."""
    from .liquidation import liquidate as plans_of

    return plans_of(
        _portfolio(portfolio),
        _market(market),
        _model(model),
        target=target,
        buffer=buffer,
        mode=mode,
    )


def liquidation_prices(
    portfolio: PortfolioLike,
    market: MarketLike,
    model: ModelLike = DEFAULT,
    *,
    account: str | None = None,
) -> dict[str, LiquidationPrice]:
    """Per underlying, the spots at which an account's equity = maintenance margin. See
    :func:`pmargin.liquidation.liquidation_prices`."""
    from .liquidation import liquidation_prices as prices_of

    return prices_of(_portfolio(portfolio), _market(market), _model(model), account=account)


def what_if(
    portfolio: PortfolioLike,
    market: MarketLike,
    trades: list[str] | pd.DataFrame,
    model: ModelLike = DEFAULT,
    *,
    account: str = "",
) -> WhatIfResult:
    """Margin before and after ``trades`` and each trade's incremental margin alone. Trades are
    ``"INSTRUMENT:QUANTITY"`` strings or trade files (``--add``'s values, see
    :func:`pmargin.io.trades.load_trades`), or a DataFrame with the portfolio CSV's columns;
    ``account`` goes to trades that name none. See :func:`pmargin.whatif.what_if`."""
    import pandas as pd

    from .io.portfolio_file import portfolio_from_frame
    from .io.trades import load_trades
    from .portfolio import POSITION_COLUMNS
    from .whatif import what_if as what_if_of

    if not isinstance(trades, pd.DataFrame):
        rows = load_trades([str(t) for t in trades], account=account)
    elif set(POSITION_COLUMNS) <= set(trades.columns):  # already position rows
        rows = trades
    else:
        rows = portfolio_from_frame(trades, account=account, source="trades").positions
    return what_if_of(_portfolio(portfolio), _market(market), _model(model), rows)


def explain_margin(
    portfolio: PortfolioLike, market: MarketLike, model: ModelLike = DEFAULT
) -> Attribution:
    """Each position's contribution to the margin (adding up to it), its isolated margin and
    diversification benefit. See :func:`pmargin.attribution.explain_margin`."""
    from .attribution import explain_margin as explain_of

    return explain_of(_portfolio(portfolio), _market(market), _model(model))


def breakeven(
    portfolio: PortfolioLike,
    market: MarketLike,
    model: ModelLike = DEFAULT,
    *,
    loss: float | None = None,
    horizon_days: float | None = None,
) -> Breakeven:
    """Reverse stress: the smallest moves at which equity meets maintenance margin (or the loss
    reaches ``loss`` USD). See :func:`pmargin.reverse_stress.breakeven`."""
    from .reverse_stress import breakeven as breakeven_of

    return breakeven_of(
        _portfolio(portfolio), _market(market), _model(model), loss=loss, horizon_days=horizon_days
    )


def _portfolio(portfolio: PortfolioLike) -> Portfolio:
    from pathlib import Path

    import pandas as pd

    from .io.portfolio_file import load_portfolio, portfolio_from_frame
    from .portfolio import Portfolio

    _install()
    if isinstance(portfolio, Portfolio):
        return portfolio
    if isinstance(portfolio, pd.DataFrame):
        return portfolio_from_frame(portfolio)
    if isinstance(portfolio, (str, Path)):
        return load_portfolio(portfolio)
    raise _wrong_type("portfolio", portfolio, "a Portfolio, a DataFrame or a file path")


def _market(market: MarketLike) -> Market:
    from collections.abc import Mapping
    from pathlib import Path

    from .io.market_file import load_market, market_from_document
    from .market import Market

    if isinstance(market, Market):
        return market
    if isinstance(market, Mapping):
        return market_from_document(dict(market), "dict")
    if isinstance(market, (str, Path)):
        return load_market(market)
    raise _wrong_type("market", market, "a Market, a dict or a file path")


def _model(model: ModelLike | _DefaultModel) -> MarginModel:
    """``model`` as a model: a bundled name or YAML path is loaded; :data:`DEFAULT` is
    :data:`pmargin.margin.DEFAULT_MODEL`."""
    from .io.model_file import load_model
    from .margin import DEFAULT_MODEL

    if isinstance(model, _DefaultModel):
        model = DEFAULT_MODEL
    return load_model(model) if isinstance(model, str) else model


def _wrong_type(name: str, value: Any, expected: str) -> InputError:
    from .errors import InputError, Problem

    return InputError(
        Problem(f"`{name}`", f"expected {expected}, found {type(value).__name__}", "")
    )


# --- entry points installed on the domain classes (see the module docstring) ----------------

_INSTALLED = False


def _install() -> None:
    """Install the entry points on the domain classes (once)."""
    global _INSTALLED
    if _INSTALLED:
        return
    _INSTALLED = True
    from .attribution import Attribution
    from .limits import CheckResult
    from .liquidation import LiquidationResult
    from .market import Market
    from .portfolio import Portfolio
    from .portfolio_margin import MarginResult
    from .report.breakeven import breakeven_dict
    from .report.explain import explain_dict
    from .report.liquidation import liquidation_dict
    from .report.whatif import whatif_dict
    from .reverse_stress import Breakeven
    from .stress import StressResult
    from .whatif import WhatIfResult

    Portfolio.from_frame = classmethod(_portfolio_from_frame)
    Market.from_dict = classmethod(_market_from_dict)
    MarginResult.to_dict = _margin_dict
    MarginResult.to_frame = _margin_frame
    StressResult.to_dict = _stress_dict
    StressResult.to_frame = _stress_frame
    CheckResult.to_dict = _check_dict
    CheckResult.to_frame = _check_frame
    LiquidationResult.to_dict = liquidation_dict
    LiquidationResult.to_frame = _liquidation_frame
    WhatIfResult.to_dict = whatif_dict
    WhatIfResult.to_frame = _whatif_frame
    Attribution.to_dict = explain_dict
    Attribution.to_frame = _explain_frame
    Breakeven.to_dict = breakeven_dict
    Breakeven.to_frame = _breakeven_frame


def _portfolio_from_frame(
    cls, frame: pd.DataFrame, collateral: Mapping | None = None, *, account: str = ""
) -> Portfolio:
    """A portfolio from a DataFrame with the portfolio CSV's columns (``instrument`` or
    ``underlying`` + ``kind``, ``quantity``, ...), validated as a CSV file is; ``collateral`` is
    ``{currency: amount}`` or ``{account: {currency: amount}}``."""
    from .io.portfolio_file import portfolio_from_frame

    return portfolio_from_frame(frame, collateral, account=account)


def _market_from_dict(cls, document: Mapping, source: str = "dict") -> Market:
    """A market snapshot from the market YAML's structure: ``{"as_of": ..., "rate": ...,
    "underlyings": {"BTC": {"spot": ..., "vol": ...}}, "correlations": {...}}``."""
    from .io.market_file import market_from_document

    return market_from_document(dict(document), source)


_FRAME_ROWS = ("positions", "accounts", "models")


def _margin_dict(self: MarginResult, **options: Any) -> dict:
    """What ``pmargin compute --format json`` prints, as plain dicts and lists (``options`` as
    :func:`pmargin.report.margin.margin_dict` takes them: ``positions``, ``accounts``, ``top``)."""
    from .report import plain
    from .report.margin import margin_dict

    return plain(margin_dict(self, **options))


def _margin_frame(self: MarginResult, rows: str = "positions") -> pd.DataFrame:
    """One row per position (default), per account (``rows="accounts"``: largest initial margin
    first, parts as dotted columns ``components.scan_risk``, ``by_underlying.BTC``) or per model
    (``rows="models"``, with ``compare``). Columnar: no dict per row."""
    import pandas as pd

    from .report.margin import accounts_records, positions_records

    if rows not in _FRAME_ROWS:
        raise ValueError(f"`rows` must be one of {', '.join(_FRAME_ROWS)}, not {rows!r}")
    if rows == "positions":
        return positions_records(self.positions).frame.reset_index(drop=True)
    if rows == "accounts":
        return accounts_records(self.accounts).frame
    data = _margin_dict(self, positions=False)
    records = [{"model": name, **m} for name, m in (data.get("models") or {}).items()]
    return pd.DataFrame.from_records(records)


def _stress_dict(
    self: StressResult, top: int | None = None, by_position: bool = False, by_account=False
) -> dict:
    """What ``pmargin stress --format json`` prints (``top`` worst scenarios of each set; each
    account's worst scenarios with ``by_account``)."""
    from .report import plain
    from .report.stress import stress_dict

    return plain(stress_dict(self, top=top, by_position=by_position, by_account=by_account))


def _frame(rows) -> pd.DataFrame:
    """CSV rows as a DataFrame (large results, :class:`~pmargin.report.records.Records`, are
    columns already)."""
    import pandas as pd

    from .report.records import Records

    if isinstance(rows, Records):
        return rows.frame.reset_index(drop=True)
    return pd.DataFrame.from_records(rows)


def _stress_frame(self: StressResult, by_account: bool = False) -> pd.DataFrame:
    """One row per scenario: set, name, P&L, P&L and shocks per underlying (per account, its
    worst scenarios, with ``by_account``)."""
    from .report.stress import stress_dict, stress_rows

    return _frame(stress_rows(stress_dict(self, by_account=by_account)))


def _check_dict(self: CheckResult) -> dict:
    """What ``pmargin check --format json`` prints."""
    from .report import plain
    from .report.check import check_dict

    return plain(check_dict(self))


def _check_frame(self: CheckResult) -> pd.DataFrame:
    """One row per limit and account: value, limit, headroom, passed."""
    from .report.check import check_dict, check_rows

    return _frame(check_rows(check_dict(self)))


_LIQUIDATION_ROWS = ("steps", "accounts")


def _liquidation_frame(self: LiquidationResult, rows: str = "steps") -> pd.DataFrame:
    """One row per step of every account's plan (default; what ``--format csv`` prints) or per
    account (``rows="accounts"``: before and after, restored, fees, deposit to restore)."""
    import pandas as pd

    from .report.liquidation import STEP_KEYS, account_rows, liquidation_dict, liquidation_rows

    if rows not in _LIQUIDATION_ROWS:
        raise ValueError(f"`rows` must be one of {', '.join(_LIQUIDATION_ROWS)}, not {rows!r}")
    data = liquidation_dict(self)
    if rows == "accounts":
        return pd.DataFrame.from_records(account_rows(data))
    return pd.DataFrame.from_records(liquidation_rows(data), columns=["account", *STEP_KEYS])


_WHATIF_ROWS = ("trades", "accounts")


def _whatif_frame(self: WhatIfResult, rows: str = "trades") -> pd.DataFrame:
    """One row per trade with its incremental margin alone (default; what ``--format csv``
    prints) or per account (``rows="accounts"``: before, after and the change)."""
    import pandas as pd

    from .report import flat
    from .report.whatif import whatif_dict
    from .whatif import TRADE_COLUMNS

    if rows not in _WHATIF_ROWS:
        raise ValueError(f"`rows` must be one of {', '.join(_WHATIF_ROWS)}, not {rows!r}")
    data = whatif_dict(self)
    if rows == "trades":
        return pd.DataFrame.from_records(data["trades"], columns=list(TRADE_COLUMNS))
    parts = data.get("accounts") or [{"account": None, **data}]
    records = [flat({k: v for k, v in part.items() if k != "trades"}) for part in parts]
    return pd.DataFrame.from_records(records)


def _explain_frame(self: Attribution) -> pd.DataFrame:
    """One row per position, largest contribution first (what ``--format csv`` prints)."""
    import pandas as pd

    from .attribution import POSITION_COLUMNS
    from .report.explain import explain_dict

    return pd.DataFrame.from_records(
        explain_dict(self)["positions"], columns=list(POSITION_COLUMNS)
    )


def _breakeven_frame(self: Breakeven) -> pd.DataFrame:
    """One row per searched move (what ``--format csv`` prints): account, move, side, value,
    distance (the joint move's)."""
    import pandas as pd

    from .report.breakeven import breakeven_dict, breakeven_rows

    return pd.DataFrame.from_records(breakeven_rows(breakeven_dict(self)))


__all__ = [
    "Attribution",
    "Breakeven",
    "CheckResult",
    "InputError",
    "Limits",
    "LiquidationPrice",
    "LiquidationResult",
    "MarginModel",
    "MarginResult",
    "Market",
    "MarketDataError",
    "PmarginError",
    "Portfolio",
    "StressResult",
    "WhatIfResult",
    "__version__",
    "breakeven",
    "check_limits",
    "compute_margin",
    "explain_margin",
    "liquidate",
    "liquidation_prices",
    "load_market",
    "load_model",
    "load_portfolio",
    "load_scenarios",
    "load_trades",
    "run_stress",
    "what_if",
]
