"""Margin methodologies: each a YAML parameter set plus the method that reads it.

A model is built from a parsed YAML document by its method's ``build(document, where,
problems)``; the YAML's ``method:`` key picks the implementation in :data:`METHODS`. Reading the
bundled or a user's model file is :func:`pmargin.io.model_file.load_model`'s job.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import deribit, derive, span, standard, tims, var
from .base import MarginModel, Requirement

#: method name -> builder(document, where, problems, **inputs) -> model
METHODS: dict[str, Callable[..., Any]] = {
    "deribit": deribit.build,
    "derive": derive.build,
    "span": span.build,
    "tims": tims.build,
    "var": var.build,
    "standard": standard.build,
}

DEFAULT_MODEL = "deribit"

__all__ = ["DEFAULT_MODEL", "METHODS", "MarginModel", "Requirement"]
