"""``validate``: recognise a file's kind from its name and keys, and load it fully."""

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


def validate_file(path: str | Path) -> str:
    """Load ``path`` as whatever kind of file it is; return the kind, or raise InputError."""
    path = Path(path)
    if is_deribit_file(path):
        export = read_export(path)
        if export.of(BOOK):
            load_market(path)
            return "Deribit market export"
        load_portfolio(path)
        return "Deribit portfolio export"
    if path.suffix.lower() == ".csv":
        load_portfolio(path)
        return "portfolio"
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
                loader(path)
                return label
    raise InputError(
        Problem(
            str(path),
            "cannot tell what kind of file this is",
            "A market has `underlyings:`, a portfolio `positions:`, a scenario "
            "set `scenarios:` or `kind:`, a model `method:`, a limits file `limits:`, "
            "a pmargin.yaml `portfolio:`.",
        )
    )
