"""Write a portfolio as a file :func:`~pmargin.io.portfolio_file.load_portfolio` reads back.

``.yaml``/``.yml``: one account with its ``collateral``, ``positions`` and ``orders`` and, when
given, a ``market:`` path relative to the file. ``.csv``: the positions of every account (with an
``account`` column); a CSV holds neither collateral nor orders, so :func:`write_portfolio` says
what it left out. Positions are written with every instrument field (an exchange symbol alone
would lose a contract size or expiry time that differs from the venue's default). The file is
written atomically (:func:`pmargin.io.output_file.write_atomic`): to a temporary file beside it,
then renamed over it.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..errors import InputError, Problem
from ..portfolio import Portfolio
from .output_file import write_atomic
from .position_rows import KNOWN_COLUMNS

#: columns written per position, in this order (empty ones left out in YAML)
FIELDS = ("id", "account", *(c for c in KNOWN_COLUMNS if c not in ("id", "account")))


def write_portfolio(
    path: str | Path,
    portfolio: Portfolio,
    *,
    market: str | None = None,
    label: str | None = None,
) -> list[str]:
    """Write ``portfolio`` to ``path`` (.yaml/.yml or .csv); return what the format left out.

    ``market`` is a market snapshot file the YAML names (as a path relative to ``path``);
    ``label`` names the file in messages (default: the path), e.g. ``--positions-after x.yaml``.
    """
    path = Path(path)
    if portfolio_format(path, label) == "yaml":
        text, omitted = _yaml_text(path, portfolio, market), []
    else:
        text, omitted = _csv_text(portfolio)
    write_atomic(path, text, label=label)
    return omitted


def portfolio_format(path: str | Path, label: str | None = None) -> str:
    """``yaml`` or ``csv``, as the name of ``path`` ends; an InputError for any other ending
    (so a command can refuse the name before it computes what it would write)."""
    suffix = Path(path).suffix.lower()
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix == ".csv":
        return "csv"
    raise InputError(
        Problem(
            label or str(path),
            f"unknown portfolio format {suffix or '(none)'!r}",
            "Use .yaml or .csv.",
        )
    )


def _records(positions: pd.DataFrame) -> list[dict]:
    """Positions as plain dicts of the written fields; NaN and empty values left out."""
    frame = positions[list(FIELDS)].copy()
    expiry = pd.to_datetime(frame["expiry"])
    frame["expiry"] = expiry.dt.strftime("%Y-%m-%dT%H:%M:%SZ").where(expiry.notna(), None)
    records = []
    for row in frame.itertuples(index=False, name=None):  # a portfolio file, written once
        record = {}
        for key, value in zip(FIELDS, row):
            if value is None or value == "" or (isinstance(value, float) and np.isnan(value)):
                continue
            record[key] = float(value) if isinstance(value, (float, np.floating)) else str(value)
        records.append(record)
    return records


def _yaml_text(path: Path, portfolio: Portfolio, market: str | None) -> str:
    accounts = portfolio.accounts
    if len(accounts) > 1:
        raise InputError(
            Problem(
                str(path),
                f"a YAML portfolio holds one account; this one has {len(accounts)}",
                "Write a .csv (positions of every account), or liquidate one account's file.",
            )
        )
    account = accounts[0] if accounts else ""
    positions = portfolio.positions
    document: dict = {}
    if account:
        document["account"] = account
    if market is not None and Path(market).is_file():
        market_path = Path(market).resolve()
        relative = os.path.relpath(market_path, path.resolve().parent)
        document["market"] = str(market_path) if relative.startswith("..") else relative
    document["collateral"] = dict(portfolio.collateral.get(account, {}))
    for key, rows in (("positions", ~positions["is_order"]), ("orders", positions["is_order"])):
        records = _records(positions[rows.to_numpy(bool)])
        if not records and key == "orders":
            continue
        for record in records:
            record.pop("account", None)
            if key == "orders" and "entry_price" in record:
                record["price"] = record.pop("entry_price")
        document[key] = records
    header = f"# Written by pmargin from {portfolio.source or 'a portfolio'}\n"
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def _csv_text(portfolio: Portfolio) -> tuple[str, list[str]]:
    positions = portfolio.positions
    orders = positions["is_order"].to_numpy(bool)
    omitted = []
    if portfolio.collateral:
        omitted.append("collateral (a CSV portfolio has none; write a .yaml to keep it)")
    if orders.any():
        omitted.append(f"{int(orders.sum())} open orders (write a .yaml to keep them)")
    fields = list(FIELDS)
    if (positions["account"].astype(str) == "").all():
        fields.remove("account")  # no account column rather than an empty one
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(
        {k: v for k, v in record.items() if k in fields} for record in _records(positions[~orders])
    )
    return buffer.getvalue(), omitted
