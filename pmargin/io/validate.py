"""``validate``: recognise a file's kind from its name and keys, and load it fully.

A portfolio is only recognised here: ``pmargin validate`` loads it against the market that
``compute`` would use (``pmargin.commands.validate``), so that every check ``compute`` runs
(expiries against the market's ``as_of``, underlyings, vols, marks) runs there too.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError, Problem
from .deribit_export import BOOK, is_deribit_file, read_export
from .limits_file import load_limits
from .market_file import load_market
from .model_file import load_model
from .portfolio_file import load_portfolio
from .project_config import load_config
from .scenario_file import load_scenarios
from .yaml_safe import load_yaml

DERIBIT_MARKET, DERIBIT_PORTFOLIO = "Deribit market export", "Deribit portfolio export"
#: the YAML top-level key that identifies each kind of file, checked in this order: a model's
#: `method:` first (a model may have per-underlying parameters); pmargin.yaml names its
#: `portfolio:` (a portfolio YAML has `positions:`); a limits file has `limits:` (checked before
#: `scenarios:`, which both may have)
SIGNATURES = (
    ("method", "margin model", load_model),
    ("portfolio", "project config", load_config),
    ("limits", "limits file", load_limits),
    ("underlyings", "market snapshot", load_market),
    ("positions", "portfolio", load_portfolio),
    ("scenarios", "scenario set", load_scenarios),
    ("kind", "scenario set", load_scenarios),
)


def file_kind(path: str | Path) -> str:
    """What kind of file ``path`` is (``portfolio``, ``market snapshot``, ...), or InputError."""
    return _recognise(Path(path))[0]


def validate_file(path: str | Path) -> str:
    """Load ``path`` as whatever kind of file it is; return the kind, or raise InputError."""
    return load_any(path)[0]


def load_any(path: str | Path) -> tuple[str, tuple[str, ...]]:
    """Load ``path`` as whatever kind of file it is; its kind and any warnings (a historical
    set's gaps), or InputError. A portfolio is loaded alone (see the module docstring)."""
    kind, loader = _recognise(Path(path))
    loaded = loader(path)
    return kind, tuple(getattr(loaded, "warnings", ()))


def is_portfolio(kind: str) -> bool:
    """Whether a file of ``kind`` (:func:`file_kind`) is a portfolio (a file or an export)."""
    return kind in ("portfolio", DERIBIT_PORTFOLIO)


def _recognise(path: Path):
    if is_deribit_file(path):
        if read_export(path).of(BOOK):
            return DERIBIT_MARKET, load_market
        return DERIBIT_PORTFOLIO, load_portfolio
    if path.suffix.lower() == ".csv":
        return "portfolio", load_portfolio
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise InputError(
            Problem(
                str(path),
                "unknown file type",
                "pmargin reads .csv portfolios, .yaml files and Deribit exports (.json).",
            )
        )
    document = load_yaml(path, "YAML")
    if isinstance(document, dict):
        for key, label, loader in SIGNATURES:
            if key in document:
                return label, loader
    raise InputError(
        Problem(
            str(path),
            "cannot tell what kind of file this is",
            "A market has `underlyings:`, a portfolio `positions:`, a scenario "
            "set `scenarios:` or `kind:`, a model `method:`, a limits file `limits:`, "
            "a pmargin.yaml `portfolio:`.",
        )
    )
