"""Margin model files: the bundled parameter sets (``pmargin/models/*.yaml``) and users' copies.

``load_model("deribit")`` reads the bundled ``deribit.yaml``; ``load_model("my.yaml")`` a user's
file. The YAML's ``method:`` picks the builder in :data:`pmargin.margin.METHODS`. Files a model
names (the var model's CSV of daily closes) are read here and handed to the builder: as a replay
(``scenarios: historical``), and as an estimate of vols and correlations for Monte Carlo draws
(``montecarlo: {estimate: {...}}``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError, Problem, ProblemCollector
from ..margin import METHODS, MarginModel
from ..values import DAYS_MAX, describe, expect_mapping
from .common import resolve_beside
from .yaml_safe import load_yaml

if TYPE_CHECKING:
    from ..estimate import PriceHistory
    from ..historical import HistoricalSet


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
    if method == "var" and _wants_estimate(document):
        inputs["estimated_inputs"] = _var_estimate(document, where, problems)
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
    whole = isinstance(horizon, (int, float)) and not isinstance(horizon, bool)
    if not whole or not 1 <= horizon <= DAYS_MAX or horizon != int(horizon):
        return None
    horizon = int(horizon)
    history = _var_closes(document, where, problems)
    if history is None:
        return None
    if len(history.dates) <= horizon:
        problems.add(
            f"{where}: horizon_days",
            f"{history.source} has {len(history.dates)} rows of closes; horizon_days {horizon} "
            f"needs at least {horizon + 1}",
            "Add more rows of daily closes.",
        )
        return None
    from ..historical import historical_set  # only the var model replays history

    name = str(document.get("name", "var"))
    return historical_set(
        name,
        history.dates,
        history.closes,
        horizon_days=horizon,
        source=where,
        prices=history.source,
    )


def _wants_estimate(document: dict[str, Any]) -> bool:
    """True for a Monte Carlo var model with a ``montecarlo.estimate`` block."""
    block = document.get("montecarlo")
    monte_carlo = document.get("scenarios", "montecarlo") == "montecarlo"
    return monte_carlo and isinstance(block, dict) and "estimate" in block


def _var_estimate(document: dict[str, Any], where: str, problems: ProblemCollector):
    """Vols and correlations estimated from the ``historical:`` closes (``montecarlo.estimate``),
    so the Monte Carlo and historical variants of the model draw on the same file; or None."""
    from ..estimate import estimate, estimate_options  # only the var model estimates

    block = document["montecarlo"]["estimate"]
    options = estimate_options(block, f"{where}: montecarlo.estimate", problems)
    history = _var_closes(document, where, problems)
    if history is None or problems:
        return None
    try:
        return estimate(history, **options)
    except InputError as exc:
        problems.extend(exc.problems)
        return None


def _var_closes(
    document: dict[str, Any], where: str, problems: ProblemCollector
) -> PriceHistory | None:
    """The closes of the var model's ``historical: {prices, date_column}``, or None."""
    block = document.get("historical")
    if not isinstance(block, dict):
        block = {}
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
    from .price_history import read_price_history  # only the var model reads closes

    return read_price_history(
        prices, date_column, f"`historical.date_column:` in {where}", problems
    )
