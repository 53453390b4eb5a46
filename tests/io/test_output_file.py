"""Atomic writes: a write that fails half way leaves the old file whole, and no temporary file."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from pmargin import InputError
from pmargin.io import output_file
from pmargin.io.output_file import append_atomic, same_file, write_atomic


def leftovers(folder) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_write_replaces_the_file(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    write_atomic(target, '{"new": 1}\n')
    assert target.read_text() == '{"new": 1}\n'
    assert leftovers(tmp_path) == []


def test_a_full_disk_half_way_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "out.json"
    target.write_text('{"old": "and whole"}\n')

    def full(_descriptor):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(output_file.os, "fsync", full)
    with pytest.raises(InputError, match=r"out\.json: cannot write: No space left on device"):
        write_atomic(target, "x" * 1_000_000)
    assert target.read_text() == '{"old": "and whole"}\n'
    assert leftovers(tmp_path) == []


def test_ctrl_c_half_way_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "out.json"
    target.write_text("old")

    def interrupted(_descriptor):
        raise KeyboardInterrupt

    monkeypatch.setattr(output_file.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert leftovers(tmp_path) == []


def test_the_file_keeps_its_permissions(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    os.chmod(target, 0o640)
    write_atomic(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_symlink_stays_and_its_target_is_replaced(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_atomic(link, "new")
    assert link.is_symlink()
    assert real.read_text() == "new"


def test_append_adds_to_the_old_content(tmp_path):
    summary = tmp_path / "summary.md"
    append_atomic(summary, "first\n")
    append_atomic(summary, "second\n")
    assert summary.read_text() == "first\nsecond\n"


def test_same_file_sees_through_dots_and_links(tmp_path):
    (tmp_path / "a.csv").write_text("x")
    (tmp_path / "b.csv").symlink_to(tmp_path / "a.csv")
    assert same_file(tmp_path / "a.csv", tmp_path / "sub" / ".." / "a.csv")
    assert same_file(tmp_path / "b.csv", tmp_path / "a.csv")
    assert not same_file(tmp_path / "a.csv", tmp_path / "c.csv")
