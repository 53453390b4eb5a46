"""Margin methodologies: each a bundled YAML parameter set plus the method that reads it.

``load_model("deribit")`` reads ``pmargin/models/deribit.yaml``; ``load_model("my.yaml")`` reads
a user's copy. The YAML's ``method:`` key picks the implementation.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem, ProblemCollector
from ..io.common import expect_mapping, load_yaml
from . import deribit, span, standard, tims, var
from .base import MarginModel, Requirement

#: method name -> builder(document, where, problems) -> model
METHODS: dict[str, Callable[[dict, str, ProblemCollector], Any]] = {
    "deribit": deribit.build,
    "span": span.build,
    "tims": tims.build,
    "var": var.build,
    "standard": standard.build,
}

DEFAULT_MODEL = "deribit"

__all__ = ["DEFAULT_MODEL", "METHODS", "MarginModel", "Requirement", "bundled_models", "load_model"]


def _models_dir() -> Path:
    return Path(str(resources.files("pmargin") / "models"))


def bundled_models() -> list[str]:
    """Names of the bundled models, e.g. ``["deribit", "span", ...]``."""
    return sorted(p.stem for p in _models_dir().glob("*.yaml"))


def load_model(name_or_path: str | Path) -> MarginModel:
    """A bundled model by name, or a model YAML file by path."""
    text = str(name_or_path)
    path = _models_dir() / f"{text}.yaml"
    if not path.exists():
        path = Path(text)
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
                f"unknown method {method!r}",
                f"Use one of {', '.join(sorted(METHODS))}.",
            )
        )
    problems = ProblemCollector()
    model = METHODS[method](document, where, problems)
    problems.raise_if_any()
    return model
