"""Portfolio loaders: CSV (one position a row) and YAML (account, collateral, positions, orders).

CSV format (SPEC §3): a header row, then one position a row; columns in any order; lines starting
with ``#`` and blank lines are skipped; line numbers in messages are the file's own. Columns:
``instrument`` (exchange symbol) or ``underlying`` + ``kind``; ``expiry`` (YYYY-MM-DD = 08:00 UTC,
or ISO 8601 UTC), ``strike``, ``right`` for options; ``quantity`` (required, signed);
``multiplier``, ``settlement``, ``mark_price``, ``entry_price``, ``account``, ``id`` optional.

YAML format::

    account: desk-1
    market: market.yaml                 # optional; relative to this file
    collateral: {USD: 250000, BTC: 3.0}
    positions:
      - {instrument: BTC-27DEC24-60000-C, quantity: -10}
    orders:                             # margined as if filled
      - {instrument: BTC-PERPETUAL, quantity: 20000, price: 61000}
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError, Problem, ProblemCollector
from ..portfolio import USD_LIKE, Portfolio, empty_positions
from ..values import finite_number, unknown_key_problem
from .common import read_text, resolve_beside
from .deribit_export import AUTO, is_deribit_file, load_deribit_portfolio
from .position_rows import KNOWN_COLUMNS, build_positions, check_columns, positions_from_frame
from .yaml_safe import load_yaml

_SPACES_AROUND_COMMAS = re.compile(r"[ \t]*,[ \t]*")
_SPACES_AT_LINE_ENDS = re.compile(r"^[ \t]+|[ \t]+$", re.MULTILINE)
YAML_KEYS = ("account", "market", "collateral", "positions", "orders", "description", "name")


def load_portfolio(path: str | Path, file_format: str = AUTO) -> Portfolio:
    """Load a portfolio from ``.csv`` or ``.yaml``/``.yml``, or a Deribit export (JSON, recognised
    by its content, or any file with ``file_format="deribit"``: see
    :mod:`pmargin.io.deribit_export`); raise InputError listing problems."""
    path = Path(path)
    suffix = path.suffix.lower()
    if is_deribit_file(path, file_format):
        return load_deribit_portfolio(path)
    if suffix == ".csv":
        return load_portfolio_csv(path)
    if suffix in (".yaml", ".yml"):
        return load_portfolio_yaml(path)
    raise InputError(
        Problem(
            str(path),
            f"unknown portfolio format {suffix or '(none)'!r}",
            "Use a .csv or .yaml file, or a Deribit export (.json).",
        )
    )


def load_portfolio_csv(path: str | Path) -> Portfolio:
    text = read_text(path, "portfolio")
    numbered = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not numbered:
        raise InputError(
            Problem(
                str(path),
                "no header row and no positions",
                "Add a header such as `instrument,quantity`.",
            )
        )
    problems = ProblemCollector()
    header = [name.strip().lower() for name in next(csv.reader([numbered[0][1]]))]
    if not check_columns(header, f"{path}:{numbered[0][0]}", problems):
        problems.raise_if_any()
    numbers, frame = _read_rows(numbered[1:], len(header), header, path, problems)
    problems.raise_if_any()
    name = Path(path).name
    sources = pd.Series([f"{path}:{n}" for n in numbers], dtype=str)
    ids = pd.Series([f"{name}:{n}" for n in numbers], dtype=str)
    positions = build_positions(frame, sources, problems, default_ids=ids)
    problems.raise_if_any()
    return Portfolio(positions, {}, str(path))


def _read_rows(
    numbered: list[tuple[int, str]], width: int, header: list[str], path, problems
) -> tuple[list[int], pd.DataFrame]:
    """The data rows as a frame of stripped strings, with their line numbers.

    Rows whose field count differs from the header's are problems. Files without quotes (the
    usual case) are split by pandas' C parser after spaces around commas are removed in one
    regex pass; files with quotes go through the csv module, cell by cell.
    """
    numbers = [number for number, _ in numbered]
    lines = [line for _, line in numbered]
    if any('"' in line for line in lines):
        rows = list(csv.reader(lines, skipinitialspace=True))
        counts = [len(row) for row in rows]
    else:
        rows = None
        counts = [line.count(",") + 1 for line in lines]
    bad = [i for i, count in enumerate(counts) if count != width]
    for i in bad:
        problems.add(
            f"{path}:{numbers[i]}",
            f"has {counts[i]} fields, the header has {width}",
            "Check for a missing or extra comma.",
        )
    if bad:
        return numbers, pd.DataFrame()
    if rows is not None:
        body = [[cell.strip() for cell in row] for row in rows]
        return numbers, pd.DataFrame(body, columns=header, dtype=str)
    text = _SPACES_AT_LINE_ENDS.sub("", _SPACES_AROUND_COMMAS.sub(",", "\n".join(lines)))
    frame = pd.read_csv(
        io.StringIO(text),
        header=None,
        names=header,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        skip_blank_lines=False,
        engine="c",
    )
    return numbers, frame


def _records_frame(
    records: list, key: str, path: Path, problems: ProblemCollector, extra: tuple[str, ...] = ()
) -> tuple[pd.DataFrame, pd.Series]:
    rows, sources = [], []
    for index, record in enumerate(records):
        where = f"{path}: {key}[{index}]"
        if not isinstance(record, dict):
            problems.add(
                where,
                f"expected a mapping such as {{instrument: BTC-PERPETUAL, "
                f"quantity: 1}}, found {record!r}",
            )
            continue
        row = {}
        for name, value in record.items():
            name = str(name).strip().lower()
            if name not in KNOWN_COLUMNS + extra:
                problems.append(unknown_key_problem(where, name, KNOWN_COLUMNS + extra))
                continue
            row[name] = "" if value is None else str(value).strip()
        rows.append(row)
        sources.append(where)
    frame = pd.DataFrame(rows, dtype=str).fillna("")
    if frame.empty:
        frame = pd.DataFrame(columns=["quantity", "instrument"], dtype=str)
    for column in ("quantity", "instrument"):
        if column not in frame.columns:
            frame[column] = ""
    return frame, pd.Series(sources, dtype=str)


def _short_ids(sources: pd.Series, path: Path) -> pd.Series:
    """``book.yaml:positions[3]`` from ``dir/book.yaml: positions[3]``."""
    return sources.str.replace(f"{path}: ", f"{path.name}:", regex=False)


def load_portfolio_yaml(path: str | Path) -> Portfolio:
    path = Path(path)
    document = load_yaml(path, "portfolio")
    if not isinstance(document, dict):
        raise InputError(
            Problem(
                str(path),
                "expected a mapping with `positions:`",
                "See the YAML portfolio format in the README.",
            )
        )
    problems = ProblemCollector()
    for key in document:
        if key not in YAML_KEYS:
            problems.append(unknown_key_problem(f"{path}", str(key), YAML_KEYS))
    account = str(document.get("account") or "")
    positions = document.get("positions") or []
    orders = document.get("orders") or []
    for key, value in (("positions", positions), ("orders", orders)):
        if not isinstance(value, list):
            problems.add(f"{path}: {key}", "expected a list of positions")
    problems.raise_if_any()
    frames = []
    frame, sources = _records_frame(positions, "positions", path, problems)
    if len(frame):
        frames.append(
            build_positions(
                frame,
                sources,
                problems,
                default_account=account,
                default_ids=_short_ids(sources, path),
            )
        )
    frame, sources = _records_frame(orders, "orders", path, problems, extra=("price",))
    if len(frame):
        if "price" in frame.columns:
            frame["entry_price"] = frame["price"]
            frame = frame.drop(columns="price")
        frames.append(
            build_positions(
                frame,
                sources,
                problems,
                default_account=account,
                is_order=True,
                default_ids=_short_ids(sources, path),
            )
        )
    collateral = _collateral(document.get("collateral"), path, problems)
    problems.raise_if_any()
    table = pd.concat(frames, ignore_index=True) if frames else empty_positions()
    market = document.get("market")
    market_path = str(resolve_beside(path, market)) if market else None
    return Portfolio(table, {account: collateral} if collateral else {}, str(path), market_path)


def _collateral(value, path: str | Path, problems: ProblemCollector) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.add(f"{path}: collateral", "expected a mapping such as {USD: 250000, BTC: 3}")
        return {}
    amounts = {}
    for currency, amount in value.items():
        code = str(currency).strip().upper()
        minimum = None if code in USD_LIKE else 0  # a negative cash balance is a debit
        number = finite_number(amount, f"{path}: collateral.{currency}", problems, minimum=minimum)
        if number is not None:
            amounts[code] = number
    return amounts


def portfolio_from_frame(
    frame: pd.DataFrame,
    collateral: Mapping[str, Any] | None = None,
    *,
    account: str = "",
    source: str = "DataFrame",
) -> Portfolio:
    """A :class:`Portfolio` from a DataFrame with the CSV's columns (validated as a CSV is).

    ``collateral`` is ``{currency: amount}`` for ``account`` (default: none named), or
    ``{account: {currency: amount}}`` for several; coins are shocked with their underlying.
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError(
            Problem(
                source,
                f"expected a pandas DataFrame, found {type(frame).__name__}",
                "Pass a DataFrame with the portfolio CSV's columns (instrument, quantity, ...).",
            )
        )
    problems = ProblemCollector()
    positions = positions_from_frame(frame, problems, source=source)
    problems.raise_if_any()
    if account:
        positions["account"] = positions["account"].where(positions["account"] != "", account)
    nested = collateral and all(isinstance(v, Mapping) for v in collateral.values())
    by_account = dict(collateral) if nested else {account: collateral} if collateral else {}
    amounts = {
        str(name): _collateral(
            dict(balances), Path(f"{source} account {name or '(none)'}"), problems
        )
        for name, balances in by_account.items()
    }
    problems.raise_if_any()
    return Portfolio(positions, {k: v for k, v in amounts.items() if v}, source)
