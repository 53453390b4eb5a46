"""Margin models as plain data (``pmargin models list | show``): header keys, the YAML file and
every parameter with its source, flattened for CSV and tables.

A parameter's source is that of the nearest block around it that states one (``source:`` and
``date:`` keys beside its values, as the deribit and standard YAMLs have), else the model's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..margin import MarginModel
from ..margin.base import SOURCE_KEYS
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


def parameter_rows(parameters: Any, prefix: str = "", source: str = "") -> list[dict[str, str]]:
    """Nested parameters flattened to ``{"parameter": "a.b[0].c", "value": "0.5", "source":
    ...}`` rows; ``source`` is the model's, replaced inside a block that states its own."""
    if isinstance(parameters, dict):
        source = _block_source(parameters) or source
        rows = []
        for key, value in parameters.items():
            if prefix and key in SOURCE_KEYS:
                continue
            rows += parameter_rows(value, f"{prefix}.{key}" if prefix else str(key), source)
        return rows
    if isinstance(parameters, list) and any(isinstance(v, (dict, list)) for v in parameters):
        rows = []
        for i, value in enumerate(parameters):
            rows += parameter_rows(value, f"{prefix}[{i}]", source)
        return rows
    return [{"parameter": prefix, "value": _text(parameters), "source": source}]


def model_parameter_rows(data: dict[str, Any]) -> list[dict[str, str]]:
    """Every parameter of a :func:`model_dict` with its source."""
    return parameter_rows(data["parameters"], source=data["source"])


def _block_source(block: dict) -> str:
    source = block.get("source")
    if not isinstance(source, str):
        return ""
    date = block.get("date")
    return f"{source}, {date}" if date is not None else source


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
    rows = [
        [
            r["parameter"],
            r["value"],
            "model source" if r["source"] == data["source"] else r["source"],
        ]
        for r in model_parameter_rows(data)
    ]
    return (
        f"## Model `{data['name']}` (method `{data['method']}`)\n\n"
        f"{data['description']}\n\n**Source:** {data['source']}\n\n**File:** `{data['file']}`\n\n"
        + markdown_table(["parameter", "value", "source"], rows)
    )
