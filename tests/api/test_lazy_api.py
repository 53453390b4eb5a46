"""``import pmargin`` loads nothing heavy; the first public name used installs the entry points
(``Portfolio.from_frame``, ``to_dict()``), in a fresh interpreter each time."""

from __future__ import annotations

import subprocess
import sys

import pytest


def run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_import_pmargin_imports_neither_pandas_nor_scipy_nor_the_models():
    printed = run(
        "import sys, pmargin\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'scipy'}),"
        " 'pmargin.margin' in sys.modules, pmargin.__version__ != '')"
    )
    assert printed == "[] False True"


@pytest.mark.parametrize(
    "first_use",
    ["from pmargin import Portfolio", "import pmargin; pmargin.load_market", "import pmargin"],
)
def test_the_entry_points_are_there_after_the_first_public_name(first_use):
    code = (
        f"{first_use}\n"
        "import pandas as pd\n"
        "from pmargin import Market, Portfolio, compute_margin\n"
        "book = Portfolio.from_frame(pd.DataFrame({'instrument': ['BTC-PERPETUAL'],"
        " 'quantity': [-100]}))\n"
        "market = Market.from_dict({'as_of': '2024-11-25', 'underlyings': {'BTC':"
        " {'spot': 95000}}})\n"
        "print(compute_margin(book, market).to_dict()['portfolio_margin'] > 0)"
    )
    assert run(code) == "True"


def test_the_default_model_is_deribit_and_none_means_no_model():
    import pmargin
    from pmargin.margin import DEFAULT_MODEL

    assert repr(pmargin.DEFAULT) == "DEFAULT_MODEL" and DEFAULT_MODEL == "deribit"
    assert pmargin._model(pmargin.DEFAULT).name == "deribit"
