"""The explicit package list in pyproject.toml names every package of the source tree."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_installed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {
        ".".join(module.parent.relative_to(ROOT).parts)
        for module in (ROOT / "pmargin").rglob("*.py")
    }
    assert found <= listed, f"add {sorted(found - listed)} to [tool.setuptools] packages"
    assert config["package-dir"]["pmargin.scenario_library"] == "scenarios"


def test_the_installed_version_is_the_one_the_package_prints():
    from importlib.metadata import version

    from pmargin.version import VERSION

    assert version("pmargin") == VERSION
