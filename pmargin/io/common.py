"""What every loader shares: reading a text file with a clear error, and resolving paths."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem


def read_text(path: str | Path, what: str) -> str:
    """Read a UTF-8 text file or raise an :class:`InputError` that names it and the fix."""
    path = Path(path)
    if not path.exists():
        raise InputError(Problem(str(path), f"{what} file not found", "Check the path."))
    if path.is_dir():
        raise InputError(Problem(str(path), f"is a folder, not a {what} file", "Name a file."))
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            Problem(str(path), f"is not UTF-8 text (byte {exc.start})", "Save it as UTF-8.")
        ) from None
    except OSError as exc:
        raise InputError(Problem(str(path), f"cannot be read: {exc.strerror}")) from None


def resolve_beside(path: str | Path, reference: str | Path) -> Path:
    """Resolve ``reference`` relative to the folder of ``path`` (absolute paths unchanged)."""
    reference = Path(reference).expanduser()
    return reference if reference.is_absolute() else Path(path).parent / reference


def load_json(path: str | Path, what: str) -> Any:
    """Parse a JSON file; malformed JSON becomes an InputError naming the line and column."""
    text = read_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            Problem(
                f"{path}:{exc.lineno}",
                f"malformed JSON at column {exc.colno}: {exc.msg}",
                "Save the API response as it came (one JSON document).",
            )
        ) from None
