"""Margin methodologies: each a YAML parameter set plus the method that reads it.

A model is built from a parsed YAML document by its method's ``build(document, where,
problems)``; the YAML's ``method:`` key picks the implementation in :data:`METHODS`. Reading the
bundled or a user's model file is :func:`pmargin.io.model_file.load_model`'s job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from importlib import import_module
from typing import Any

from .base import MarginModel, Requirement


class _Methods(Mapping[str, Callable[..., Any]]):
    """Method name -> its module's ``build``, each module imported when its method is first
    asked for (a run pays for the methods it uses, not for all six)."""

    modules = ("deribit", "derive", "span", "tims", "var", "standard")  # module = method name

    def __getitem__(self, method: str) -> Callable[..., Any]:
        if method not in self.modules:
            raise KeyError(method)
        return import_module(f"{__name__}.{method}").build

    def __iter__(self) -> Iterator[str]:
        return iter(self.modules)

    def __len__(self) -> int:
        return len(self.modules)


#: method name -> builder(document, where, problems, **inputs) -> model
METHODS: Mapping[str, Callable[..., Any]] = _Methods()

DEFAULT_MODEL = "deribit"

__all__ = ["DEFAULT_MODEL", "METHODS", "MarginModel", "Requirement"]
