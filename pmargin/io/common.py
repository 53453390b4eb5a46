"""What every loader shares: reading a text file with a clear error, and resolving paths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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
