"""Options converted without pydantic (:class:`pmargin.commands.common.DirectCoercion`) get
exactly the value typer's own coercion gives, for every option of every command; everything else
still goes through typer (its messages included); a plain run never imports pydantic."""

from __future__ import annotations

import subprocess
import sys
from enum import Enum
from pathlib import Path

import pytest
import typer

from pmargin.cli import app
from pmargin.commands.common import DirectCoercion

#: typer's own coercion (a private module: another typer skips these tests, and pmargin then
#: leaves its options to typer, see :func:`pmargin.commands.common.direct_coercion`)
build_runtime_param = pytest.importorskip("typer._coercion").build_runtime_param

#: values a command line gives (text), and values typer passes on as they are (defaults)
SAMPLES = ("json", "table", "JSON", "csv", "local", "dask", "USD", "deribit", "book.csv", "")


def _commands(group, ctx, prefix=()):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if hasattr(command, "list_commands"):
            yield from _commands(command, typer.Context(command, parent=ctx), (*prefix, name))
        else:
            yield (*prefix, name), command, typer.Context(command, parent=ctx)


def _options():
    root = typer.main.get_command(app)
    context = typer.Context(root)
    for path, command, ctx in _commands(root, context):
        for param in command.get_params(ctx):
            if hasattr(param, "type_descriptor"):
                yield " ".join(path), param, ctx


OPTIONS = list(_options())


def test_every_option_has_the_direct_coercion():
    assert OPTIONS
    assert all(isinstance(param._runtime_param, DirectCoercion) for _, param, _ in OPTIONS)


@pytest.mark.parametrize(
    "command, param, ctx", [pytest.param(*o, id=f"{o[0]}:{o[1].name}") for o in OPTIONS]
)
def test_a_direct_conversion_is_what_typer_gives(command, param, ctx, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "book.csv").write_text("instrument,quantity\n")
    direct = DirectCoercion(param.type_descriptor, build_runtime_param)
    typer_own = build_runtime_param(param.type_descriptor)
    samples = [*SAMPLES, param.default]
    decided = 0
    for value in samples:
        converted = direct._direct(value) if value is not None else None
        if converted is None:
            continue  # typer decides
        expected = typer_own.coerce(value, param=param, ctx=ctx)
        assert converted == expected and type(converted) is type(expected), (command, value)
        decided += 1
    annotation = param.type_descriptor.annotation
    plain = annotation in (str, Path) or (
        isinstance(annotation, type) and issubclass(annotation, Enum)
    )
    if not decided:  # nothing compared: only for the kinds DirectCoercion always leaves to typer
        assert not plain or param.type_descriptor.parameter_info.parser is not None, command


def test_what_is_not_plain_still_goes_through_typer():
    descriptor = next(p for c, p, _ in OPTIONS if c == "compute" and p.name == "format")
    direct = DirectCoercion(descriptor.type_descriptor, build_runtime_param)
    assert direct._direct("JSON") is None  # case-insensitive choice: typer matches it
    top = next(p for c, p, _ in OPTIONS if c == "compute" and p.name == "top")
    assert (
        DirectCoercion(top.type_descriptor, build_runtime_param)._direct("5") is None
    )  # a number with a minimum


def test_a_bad_choice_keeps_typer_message(tmp_path):
    (tmp_path / "book.csv").write_text("instrument,quantity\nBTC-PERPETUAL,1\n")
    done = subprocess.run(
        [sys.executable, "-m", "pmargin", "compute", "book.csv", "--format", "xml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "xml is not one of" in done.stderr


def test_a_run_does_not_import_pydantic(tmp_path):
    (tmp_path / "book.csv").write_text("instrument,quantity\nBTC-PERPETUAL,1\n")
    probe = (  # main() ends the process; its atexit hooks still run, so one reports
        "import atexit, sys\n"
        "atexit.register(lambda: print('pydantic' in sys.modules, file=sys.stderr))\n"
        "sys.argv = ['pmargin', 'compute', 'book.csv', '--format', 'json', '-o', 'out.json']\n"
        "from pmargin.__main__ import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "False"
    assert Path(tmp_path / "out.json").stat().st_size > 0
