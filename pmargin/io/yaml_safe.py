"""Every YAML file pmargin reads goes through :func:`load_yaml`: safe loading only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError, Problem
from .common import read_text


def load_yaml(path: str | Path, what: str) -> Any:
    """``yaml.safe_load`` a file; malformed YAML becomes an InputError naming the line."""
    text = read_text(path, what)
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise InputError(
            Problem(
                f"{path}{line}",
                f"malformed YAML: {exc.problem or exc}",
                "Check indentation, colons and quotes on that line.",
            )
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(Problem(str(path), f"malformed YAML: {exc}")) from None
