"""Margin model files: the bundled parameter sets (``pmargin/models/*.yaml``) and users' copies.

``load_model("deribit")`` reads the bundled ``deribit.yaml``; ``load_model("my.yaml")`` a user's
file. The YAML's ``method:`` picks the builder in :data:`pmargin.margin.METHODS`. Files a model
names (the var model's CSV of daily closes) are read here and handed to the builder.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, Problem, ProblemCollector
from ..historical import HistoricalSet, historical_set
from ..margin import METHODS, MarginModel
from ..values import DAYS_MAX, describe, expect_mapping
from .common import resolve_beside
from .historical_file import read_closes
from .yaml_safe import load_yaml


def models_dir() -> Path:
    return Path(str(resources.files("pmargin") / "models"))


def bundled_models() -> list[str]:
    """Names of the bundled models, e.g. ``["deribit", "span", ...]``."""
    return sorted(p.stem for p in models_dir().glob("*.yaml"))


def model_file(name_or_path: str | Path) -> Path:
    """The YAML behind a bundled model name, or the path itself."""
    bundled = models_dir() / f"{name_or_path}.yaml"
    return bundled if bundled.exists() else Path(name_or_path)


def load_model(name_or_path: str | Path) -> MarginModel:
    """A bundled model by name, or a model YAML file by path."""
    text = str(name_or_path)
    path = model_file(text)
    if not path.exists():
        known = ", ".join(bundled_models())
        raise InputError(
            Problem(
                f"--model {text}",
                "no such model or file",
                f"Use one of {known}, or a path to a model YAML.",
            )
        )
    where = str(path)
    document = expect_mapping(load_yaml(path, "model"), where, "a margin model")
    method = document.get("method")
    if method not in METHODS:
        raise InputError(
            Problem(
                f"{where}: method",
                f"unknown method {describe(method)}",
                f"Use one of {', '.join(sorted(METHODS))}.",
            )
        )
    problems = ProblemCollector()
    inputs = {}
    if method == "var" and document.get("scenarios") == "historical":
        inputs["price_history"] = _var_price_history(document, where, problems)
    model = METHODS[method](document, where, problems, **inputs)
    problems.raise_if_any()
    return model


def _var_price_history(
    document: dict[str, Any], where: str, problems: ProblemCollector
) -> HistoricalSet | None:
    """The var model's ``historical:`` CSV of daily closes as a replay (gaps allowed), or None.

    Nothing is read while ``horizon_days`` is not a whole number (the builder reports that).
    """
    horizon = document.get("horizon_days", 2)
    block = document.get("historical")
    number = isinstance(horizon, (int, float)) and not isinstance(horizon, bool)
    if not number or not 1 <= horizon <= DAYS_MAX or horizon != int(horizon):
        return None
    if not isinstance(block, dict):
        block = {}
    horizon = int(horizon)
    if not isinstance(block.get("prices"), str):
        problems.add(
            f"{where}: historical.prices",
            "missing: the CSV of daily closes",
            "Give `historical: {prices: closes.csv}` (resolved beside this file).",
        )
        return None
    prices = resolve_beside(where, block["prices"])
    if not prices.is_file():
        problems.add(
            f"{where}: historical.prices",
            f"file not found: {prices}",
            "Check the path; a relative path is read from the model file's folder.",
        )
        return None
    date_column = str(block.get("date_column", "date"))
    table = read_closes(prices, date_column, f"{where}: historical", problems)
    if table is None:
        return None
    if len(table.dates) <= horizon:
        problems.add(
            f"{where}: horizon_days",
            f"{prices} has {len(table.dates)} rows of closes; horizon_days {horizon} needs at "
            f"least {horizon + 1}",
            "Add more rows of daily closes.",
        )
        return None
    closes = {
        c.upper(): _closes(raw, table.lines, prices, c, problems)
        for c, raw in table.columns.items()
    }
    if problems:
        return None
    name = str(document.get("name", "var"))
    return historical_set(
        name, table.dates, closes, horizon_days=horizon, source=where, prices=str(prices)
    )


def _closes(
    raw: np.ndarray, lines: np.ndarray, prices: Path, column: str, problems: ProblemCollector
) -> np.ndarray:
    """One column's closes (USD); an empty cell is a missing close (NaN)."""
    text = pd.Series(raw, dtype=str).str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(np.float64)
    blank = (text == "").to_numpy()
    bad = np.flatnonzero(~blank & ~(np.isfinite(values) & (values > 0)))
    for row in bad:
        problems.add(
            f"{prices}:{lines[row]}: `{column}`",
            f"expected a positive price, found {describe(text.iloc[row])}",
            "Leave the cell empty for a missing close.",
        )
    return np.where(blank, np.nan, values)
