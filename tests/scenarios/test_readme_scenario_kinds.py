"""Every scenario kind is documented in the README with an example that loads as written."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml

from pmargin import load_scenarios
from pmargin.io.scenario_file import KINDS

ROOT = Path(__file__).resolve().parents[2]


def readme_examples() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n### Scenario sets\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```yaml\n(.*?)```", section, flags=re.DOTALL)


def test_every_kind_has_a_readme_example_that_loads(tmp_path):
    shutil.copy(ROOT / "scenarios" / "btc_eth_daily_close.csv", tmp_path)
    kinds = set()
    for index, example in enumerate(readme_examples()):
        path = tmp_path / f"example_{index}.yaml"
        path.write_text(example, encoding="utf-8")
        loaded = load_scenarios(path)
        kind = yaml.safe_load(example).get("kind", "explicit")
        assert loaded.kind == kind
        assert loaded.count > 0
        kinds.add(kind)
    assert kinds == set(KINDS)


def test_a_grid_and_a_montecarlo_set_are_bundled():
    assert load_scenarios("spot_vol_grid").kind == "grid"
    assert load_scenarios("montecarlo_2day").kind == "montecarlo"
