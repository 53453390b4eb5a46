"""Every file pmargin writes (``--output``, ``--junit``, the CI step summary, the snapshot of
``market estimate --output`` and ``liquidate --positions-after``) is written here, atomically:
the new content goes to a temporary file in the same folder, is flushed to disk and then renamed
over the target, so a failure half way (a full disk, Ctrl-C) leaves the old file whole and never
a truncated one. A rename within one folder is atomic on POSIX and Windows.

Appending (the GitHub step summary) is the same: the old content and the new are written to a
temporary file that replaces the old one, so a reader sees the summary before or after, never
half of the new table. The file keeps its permission bits.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from ..errors import InputError, Problem


def _target(path: Path, label: str) -> Path:
    """The file to replace: a symlink's target (the link stays), never a folder."""
    target = path.resolve() if path.is_symlink() else path
    if target.is_dir():
        raise InputError(Problem(label, "is a folder", "Name a file to write."))
    return target


def write_atomic(
    path: str | Path, content: str | bytes, *, label: str | None = None, what: str = ""
) -> None:
    """Replace ``path`` with ``content`` (text is UTF-8) in one rename; ``label`` names the file
    in messages (e.g. ``--junit out.xml``), ``what`` what it holds (``the market snapshot``). An
    OSError becomes an InputError naming it."""
    path = Path(path)
    label = label or str(path)
    data = content.encode("utf-8") if isinstance(content, str) else content
    target = _target(path, label)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            if target.exists():
                os.chmod(temporary, stat.S_IMODE(target.stat().st_mode))
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise InputError(
            Problem(
                label,
                f"cannot write{' ' + what if what else ''}: {exc.strerror or exc}",
                "Check the folder exists, is writable and has space.",
            )
        ) from None


def append_atomic(path: str | Path, text: str, *, label: str | None = None) -> None:
    """Append ``text`` to ``path`` (created if missing) by replacing the whole file."""
    path = Path(path)
    label = label or str(path)
    try:
        old = _target(path, label).read_bytes() if path.exists() else b""
    except OSError as exc:
        raise InputError(Problem(label, f"cannot read: {exc.strerror or exc}")) from None
    write_atomic(path, old + text.encode("utf-8"), label=label)


def same_file(first: str | Path, second: str | Path) -> bool:
    """Whether two paths name the same file (after links and ``..``)."""
    first, second = Path(first), Path(second)
    try:
        if first.exists() and second.exists():
            return os.path.samefile(first, second)
    except OSError:
        return False
    return first.resolve() == second.resolve()
