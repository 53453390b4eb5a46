"""Margin models as plain data (``pmargin models list | show``): header keys, the YAML file and
every parameter, flattened for CSV and tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..margin import MarginModel
from . import clean, markdown_table

#: keys every model YAML has; the rest are the method's parameters
HEADER_KEYS = ("name", "method", "description", "source")


def model_row(model: MarginModel) -> dict[str, Any]:
    """One line of ``models list``."""
    return {
        "name": model.name,
        "method": model.method,
        "description": model.description,
        "source": model.source,
    }


def model_dict(model: MarginModel, file: Path) -> dict[str, Any]:
    """``models show``: the header keys, the YAML file and the method's parameters."""
    parameters = {k: v for k, v in model.parameters.items() if k not in HEADER_KEYS}
    return clean({**model_row(model), "file": str(file), "parameters": parameters})


def parameter_rows(parameters: Any, prefix: str = "") -> list[dict[str, str]]:
    """Nested parameters flattened to ``{"parameter": "a.b[0].c", "value": "0.5"}`` rows."""
    if isinstance(parameters, dict):
        rows = []
        for key, value in parameters.items():
            rows += parameter_rows(value, f"{prefix}.{key}" if prefix else str(key))
        return rows
    if isinstance(parameters, list) and any(isinstance(v, (dict, list)) for v in parameters):
        rows = []
        for i, value in enumerate(parameters):
            rows += parameter_rows(value, f"{prefix}[{i}]")
        return rows
    return [{"parameter": prefix, "value": _text(parameters)}]


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def models_markdown(rows: list[dict[str, Any]]) -> str:
    """``models list`` as a markdown table."""
    return markdown_table(HEADER_KEYS, [[r[h] for h in HEADER_KEYS] for r in rows])


def model_markdown(data: dict[str, Any]) -> str:
    rows = [[r["parameter"], r["value"]] for r in parameter_rows(data["parameters"])]
    return (
        f"## Model `{data['name']}` (method `{data['method']}`)\n\n"
        f"{data['description']}\n\n**Source:** {data['source']}\n\n**File:** `{data['file']}`\n\n"
        + markdown_table(["parameter", "value"], rows)
    )
