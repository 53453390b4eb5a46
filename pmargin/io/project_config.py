"""The project config ``pmargin.yaml``: defaults for the command line.

``pmargin.yaml`` in the current directory or the nearest parent up to the repository root (or the
file named by ``--config``) sets defaults so that
``pmargin check`` and ``pmargin stress --scenario crash.yaml`` run with no other arguments.
Command-line arguments always win. Format (every key optional)::

    portfolio: hedged_btc_options.csv     # default PORTFOLIO
    market: market.yaml                   # default --market (see below)
    model: deribit                        # default --model: a bundled name or a model YAML
    scenarios: [crash, my_crash.yaml]     # default --scenario sets (bundled names or files)
    limits: limits.yaml                   # default --limits of `pmargin check`

Relative paths resolve against the folder of ``pmargin.yaml``, not the current directory. Every
file it names must exist, and an unknown key is an error that suggests the closest valid one.

Market lookup with a config: ``--market``, then the portfolio YAML's own ``market:`` key, then the
config's ``market``, then ``market.yaml`` beside the portfolio, then the bundled demo snapshot.
Model lookup for ``pmargin check``: ``--model``, then the limits file's ``model:``, then the
config's ``model``, then ``deribit``.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem, ProblemCollector
from ..margin import DEFAULT_MODEL
from ..values import unknown_key_problem
from .common import resolve_beside
from .model_file import bundled_models
from .yaml_safe import load_yaml

CONFIG_NAME = "pmargin.yaml"
CONFIG_KEYS = ("portfolio", "market", "model", "scenarios", "limits")


@dataclass(frozen=True)
class ProjectConfig:
    """Defaults from ``pmargin.yaml``; paths already resolved against the config's folder.

    ``path`` is None when no config file was found (every default is then unset).
    """

    path: Path | None = None
    portfolio: Path | None = None
    market: Path | None = None
    model: str | None = None
    scenarios: tuple[str, ...] = ()
    limits: Path | None = None

    def model_or_default(self, *choices: str | None) -> str:
        """The first of ``choices`` that is set (``--model``, a limits file's ``model:``), else
        this config's ``model``, else ``deribit``."""
        for name in (*choices, self.model):
            if name:
                return name
        return DEFAULT_MODEL


def find_config(explicit: str | Path | None = None, start: str | Path = ".") -> Path | None:
    """``explicit`` (``--config``; it must exist), else the nearest ``pmargin.yaml`` in ``start``
    (the current folder) or a parent of it, up to the repository root (a folder holding
    ``.git``) or the filesystem root. A config found above the current folder is returned
    relative to it (``../pmargin.yaml``), so messages name it as a user would."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            what = "is a folder" if path.is_dir() else "not found"
            raise InputError(
                Problem(f"--config {path}", f"config file {what}", "Name a pmargin.yaml file.")
            )
        return path
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return Path(os.path.relpath(candidate, Path.cwd()))
        if (folder / ".git").exists():  # the repository root: look no further up
            return None
    return None


def project_config(explicit: str | Path | None = None) -> ProjectConfig:
    """The project config in force: ``--config FILE``, the nearest ``pmargin.yaml`` (see
    :func:`find_config`), or no defaults."""
    path = find_config(explicit)
    return ProjectConfig() if path is None else load_config(path)


def load_config(path: str | Path) -> ProjectConfig:
    """Load and check a ``pmargin.yaml``; every problem names the file and the key."""
    path = Path(path)
    where = str(path)
    document = load_yaml(path, "config")
    if document is None:
        return ProjectConfig(path=path)
    if not isinstance(document, dict):
        raise InputError(
            Problem(
                where,
                f"expected a mapping of {', '.join(CONFIG_KEYS)}, found {type(document).__name__}",
                "See `Project config` in the README.",
            )
        )
    problems = ProblemCollector()
    for key in document:
        if key not in CONFIG_KEYS:
            problems.append(unknown_key_problem(f"{where}: {key}", str(key), CONFIG_KEYS))
    files = {
        key: _existing_file(path, document[key], f"{where}: {key}", key, problems)
        for key in ("portfolio", "market", "limits")
        if document.get(key) is not None
    }
    model = None
    if document.get("model") is not None:
        model = resolve_model_reference(path, document["model"], f"{where}: model", problems)
    scenarios = scenario_references(
        path, document.get("scenarios"), f"{where}: scenarios", problems
    )
    problems.raise_if_any()
    return ProjectConfig(
        path=path,
        portfolio=files.get("portfolio"),
        market=files.get("market"),
        model=model,
        scenarios=tuple(scenarios),
        limits=files.get("limits"),
    )


def _existing_file(
    base: Path, value: Any, where: str, what: str, problems: ProblemCollector
) -> Path | None:
    if not isinstance(value, str) or not value.strip():
        problems.add(where, f"expected a file name, found {value!r}", f"e.g. `{what}: file.yaml`")
        return None
    path = resolve_beside(base, value)
    if not path.is_file():
        problems.add(
            where,
            f"{what} file {path} not found",
            f"Paths are relative to the folder of {base.name}.",
        )
        return None
    return path


def _looks_like_path(text: str) -> bool:
    return text.endswith((".yaml", ".yml")) or "/" in text or "\\" in text


def resolve_model_reference(
    base: Path, value: Any, where: str, problems: ProblemCollector
) -> str | None:
    """A bundled model name, or a model YAML path resolved beside ``base``; None on a problem."""
    if not isinstance(value, str) or not value.strip():
        problems.add(where, f"expected a model name or file, found {value!r}", "e.g. `deribit`.")
        return None
    if not _looks_like_path(value):
        models = bundled_models()
        if value in models:
            return value
        close = difflib.get_close_matches(value, models, n=1)
        fix = f"Did you mean `{close[0]}`?" if close else f"Use one of {', '.join(models)}."
        problems.add(where, f"unknown model {value!r}", fix + " Or give a model YAML file.")
        return None
    path = resolve_beside(base, value)
    if not path.is_file():
        problems.add(
            where, f"model file {path} not found", f"Paths are relative to the folder of {base}."
        )
        return None
    return str(path)


def scenario_references(
    base: Path, value: Any, where: str, problems: ProblemCollector
) -> list[str]:
    """Scenario sets named in ``base`` (a YAML file): a list, or one name, of bundled set names or
    files relative to ``base``'s folder. Returns what :func:`load_scenarios` accepts."""
    if value is None:
        return []
    entries = [value] if isinstance(value, str) else value
    if not isinstance(entries, list):
        problems.add(where, f"expected a list of scenario sets, found {type(value).__name__}")
        return []
    from .scenario_file import bundled_dir, bundled_sets  # only a config naming scenario sets

    resolved = []
    for index, entry in enumerate(entries):
        key = f"{where}[{index}]"
        if not isinstance(entry, str) or not entry.strip():
            problems.add(key, f"expected a scenario set name or file, found {entry!r}")
            continue
        beside = resolve_beside(base, entry)
        bundled = bundled_dir() / f"{entry.removesuffix('.yaml')}.yaml"
        if beside.is_file():
            resolved.append(str(beside))
        elif Path(entry).parent == Path(".") and bundled.is_file():
            resolved.append(entry)
        else:
            names = bundled_sets()
            close = difflib.get_close_matches(entry.removesuffix(".yaml"), names, n=1)
            fix = f"Did you mean `{close[0]}`?" if close else f"Bundled sets: {', '.join(names)}."
            problems.add(
                key,
                f"unknown scenario set {entry!r}: no bundled set of that name and no file {beside}",
                fix + f" Files are relative to the folder of {base}.",
            )
    return resolved
