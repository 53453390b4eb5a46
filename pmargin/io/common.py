"""What every loader shares: reading a text file with a clear error, and resolving paths."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem


def check_file(path: Path, what: str) -> None:
    """An InputError unless ``path`` is an existing file (not a folder), naming ``what``."""
    if not path.exists():
        raise InputError(Problem(str(path), f"{what} file not found", "Check the path."))
    if path.is_dir():
        raise InputError(Problem(str(path), f"is a folder, not a {what} file", "Name a file."))


def read_text(path: str | Path, what: str) -> str:
    """Read a UTF-8 text file or raise an :class:`InputError` that names it and the fix."""
    path = Path(path)
    check_file(path, what)
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


def byte_blocks(path: str | Path, what: str, size: int) -> Iterator[tuple[int, bytes]]:
    """A UTF-8 text file in blocks of whole lines, about ``size`` bytes each (at least one
    line), with the number of each block's first line; memory holds one block at a time. Each
    block is checked to be UTF-8 (a leading byte-order mark is dropped).

    Errors are those of :func:`read_text` (a byte offset counts from the start of the file).
    """
    path = Path(path)
    check_file(path, what)
    line, offset = 1, 0
    try:
        with path.open("rb") as stream:
            while True:
                raw = stream.read(max(size, 1))
                if not raw:
                    return
                if not raw.endswith(b"\n"):
                    raw += stream.readline()
                start = offset
                offset += len(raw)
                if start == 0 and raw.startswith(b"\xef\xbb\xbf"):
                    raw, start = raw[3:], 3
                if not raw.isascii():
                    try:
                        raw.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        raise InputError(
                            Problem(
                                str(path),
                                f"is not UTF-8 text (byte {start + exc.start})",
                                "Save it as UTF-8.",
                            )
                        ) from None
                yield line, raw
                line += raw.count(b"\n")
    except OSError as exc:
        raise InputError(Problem(str(path), f"cannot be read: {exc.strerror}")) from None


#: the deepest nesting of a JSON document pmargin reads (a Deribit response is 4 levels deep)
MAX_JSON_DEPTH = 32


class _Refused(ValueError):
    """A JSON value pmargin refuses while parsing (a key written twice, NaN or Infinity)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise _Refused(f"duplicate key `{key}` in one object; JSON would keep only the last")
        document[key] = value
    return document


def _no_constant(name: str) -> float:
    raise _Refused(f"{name} is not a number pmargin reads")


def load_json(path: str | Path, what: str) -> Any:
    """Parse a JSON file strictly: malformed JSON, a key written twice in one object, ``NaN`` or
    ``Infinity``, an integer too long to read, or nesting deeper than :data:`MAX_JSON_DEPTH` is an
    InputError naming the file (and, for malformed JSON, the line and column)."""
    text = read_text(path, what)
    try:
        document = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InputError(
            Problem(
                f"{path}:{exc.lineno}",
                f"malformed JSON at column {exc.colno}: {exc.msg}",
                "Save the API response as it came (one JSON document).",
            )
        ) from None
    except _Refused as exc:
        raise InputError(Problem(str(path), str(exc), "Save the response as it came.")) from None
    except ValueError:  # Python refuses to read an integer of thousands of digits
        raise InputError(
            Problem(str(path), "holds an integer too long to read", "Save the response as it came.")
        ) from None
    except RecursionError:
        document = None
        depth = MAX_JSON_DEPTH + 1
    else:
        depth = _depth(document)
    if depth > MAX_JSON_DEPTH:
        raise InputError(
            Problem(
                str(path),
                f"is nested deeper than {MAX_JSON_DEPTH} levels",
                "Give the API response as it came.",
            )
        )
    return document


def _depth(document: Any) -> int:
    """How deeply ``document``'s lists and objects nest (without recursion)."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, level)
            if level <= MAX_JSON_DEPTH:
                stack.extend((item, level + 1) for item in value)
    return deepest
