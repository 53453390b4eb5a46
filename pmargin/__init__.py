"""pmargin: stress tests and portfolio margin for crypto derivatives books.

Library first; the ``pmargin`` command is a thin layer over these functions::

    from pmargin import load_portfolio, load_market, compute_margin
    result = compute_margin(load_portfolio("book.csv"), load_market("market.yaml"), "deribit")
    result.portfolio_margin, result.isolated_margin
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pmargin")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+source"

from .compute import MarginResult, compute_margin
from .errors import InputError, MarketDataError, PmarginError
from .io.market_file import load_market
from .io.portfolio_files import load_portfolio
from .io.scenario_file import load_scenarios

__all__ = [
    "InputError",
    "MarginResult",
    "MarketDataError",
    "PmarginError",
    "__version__",
    "compute_margin",
    "load_market",
    "load_portfolio",
    "load_scenarios",
]
