"""Portfolio loaders: CSV (one position a row) and YAML (account, collateral, positions, orders).

CSV format (SPEC §3): a header row, then one position a row; columns in any order; lines starting
with ``#`` and blank lines are skipped; line numbers in messages are the file's own. Columns:
``instrument`` (exchange symbol) or ``underlying`` + ``kind``; ``expiry`` (YYYY-MM-DD = 08:00 UTC,
or ISO 8601 UTC), ``strike``, ``right`` for options; ``quantity`` (required, signed);
``multiplier``, ``settlement``, ``mark_price``, ``entry_price``, ``account``, ``id`` optional.
Two rows may not share an ``id``.

A CSV is read in blocks of about :data:`CHUNK_BYTES` (whole lines), each parsed and validated on
its distinct values (:mod:`pmargin.io.position_rows`), so the file's text is never in memory at
once; the problems reported are exactly those of a whole read.

A folder of such files is a set of accounts, one per file: a file's positions belong to the
account the file names (a CSV ``account`` column, a YAML ``account:``), else to an account named
after the file (``alice.csv`` -> ``alice``). ``market.yaml``, ``pmargin.yaml`` and YAML files of
other kinds (markets, limits, scenario sets, models) in the folder are not portfolios.

YAML format::

    account: desk-1
    market: market.yaml                 # optional; relative to this file
    collateral: {USD: 250000, BTC: 3.0}
    positions:
      - {instrument: BTC-27DEC24-60000-C, quantity: -10}
    orders:                             # margined as if filled
      - {instrument: BTC-PERPETUAL, quantity: 20000, price: 61000}

An order's ``price`` is its entry price (giving both is an error); collateral coins are
case-insensitive (``BTC`` and ``btc`` twice is an error).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, Problem, ProblemCollector
from ..portfolio import USD_LIKE, Portfolio, columns_frame, empty_positions
from ..values import (
    QUANTITY_MAX,
    describe,
    finite_number,
    same_key_problems,
    unknown_key_problem,
    upper_key,
)
from .common import byte_blocks, resolve_beside
from .deribit_export import AUTO, is_deribit_file, load_deribit_portfolio
from .position_rows import (
    KNOWN_COLUMNS,
    MAX_ROW_PROBLEMS,
    RowProblems,
    build_positions,
    check_columns,
    position_columns,
    positions_from_frame,
)
from .yaml_safe import load_yaml

YAML_KEYS = ("account", "market", "collateral", "positions", "orders", "description", "name")
#: files of a portfolio folder that are not portfolios, by name
NOT_PORTFOLIOS = ("market.yaml", "market.yml", "pmargin.yaml", "pmargin.yml")
#: top-level keys of the YAML files of other kinds (market, limits, scenario set, model, config)
OTHER_KINDS = ("underlyings", "limits", "scenarios", "method", "portfolio")
PORTFOLIO_SUFFIXES = (".csv", ".yaml", ".yml")
#: bytes of CSV read, parsed and validated at a time
CHUNK_BYTES = 16 * 2**20
_BLANK_LINE = re.compile(rb"(?:^|\n)[ \t\r]*(?:\n|$)")
_BLANK_LINE_START = re.compile(rb"\n[\n\r \t]")  # where a blank line may begin


def load_portfolio(
    path: str | Path, file_format: str = AUTO, *, as_of: datetime | None = None
) -> Portfolio:
    """Load a portfolio from ``.csv`` or ``.yaml``/``.yml``, a folder of them (one account per
    file), or a Deribit export (JSON, recognised by its content, or any file with
    ``file_format="deribit"``: see :mod:`pmargin.io.deribit_export`); raise InputError listing
    problems.

    With ``as_of`` (the market's), contracts expired at that instant are problems in the same
    list as the file's others.
    """
    path = Path(path)
    if path.is_dir():
        return load_portfolio_folder(path, as_of=as_of)
    suffix = path.suffix.lower()
    if is_deribit_file(path, file_format):
        return load_deribit_portfolio(path, as_of=as_of)
    if suffix == ".csv":
        return load_portfolio_csv(path, as_of=as_of)
    if suffix in (".yaml", ".yml"):
        return load_portfolio_yaml(path, as_of=as_of)
    raise InputError(
        Problem(
            str(path),
            f"unknown portfolio format {suffix or '(none)'!r}",
            "Use a .csv or .yaml file, or a Deribit export (.json).",
        )
    )


def portfolio_market(path: str | Path, file_format: str = AUTO) -> str | None:
    """The market a portfolio file names (a YAML book's ``market:``, resolved beside it); None
    for a CSV or a Deribit export, which name none. For a folder of portfolio files, the market
    its files name, else ``market.yaml`` in it (:func:`load_portfolio_folder` checks they agree)."""
    path = Path(path)
    if path.is_dir():
        named = sorted(
            {m for p in _portfolio_files(path) if (m := portfolio_market(p, file_format))}
        )
        beside = path / "market.yaml"
        return named[0] if named else (str(beside) if beside.exists() else None)
    if path.suffix.lower() not in (".yaml", ".yml") or is_deribit_file(path, file_format):
        return None
    document = load_yaml(path, "portfolio")
    market = document.get("market") if isinstance(document, dict) else None
    return str(resolve_beside(path, market)) if isinstance(market, str) and market else None


def load_portfolio_csv(
    path: str | Path, *, as_of: datetime | None = None, chunk_bytes: int = CHUNK_BYTES
) -> Portfolio:
    """Read a CSV portfolio in blocks of about ``chunk_bytes`` (see the module docstring)."""
    path = Path(path)
    problems = ProblemCollector()
    rows = RowProblems(problems)
    strings: dict[str, str] = {}
    header: list[str] | None = None
    pieces, offset, misshapen = [], 0, False
    for first_line, raw in byte_blocks(path, "portfolio", chunk_bytes):
        numbers, lines, body = _data_lines(first_line, raw)
        if header is None:
            if not len(numbers):
                continue
            header_line = _first(lines, body)
            header = [name.strip().lower() for name in next(csv.reader([header_line]))]
            if not check_columns(header, f"{path}:{numbers[0]}", problems):
                problems.raise_if_any()
            numbers, lines, body = _rest(numbers, lines, body)
        if not len(numbers):
            continue
        frame = _read_rows(numbers, lines, body, header, path, problems)
        misshapen = misshapen or frame is None
        if misshapen:
            continue
        ids = _labels(f"{path.name}:", numbers)  # the default ids, `name:line`
        folder = str(path)[: -len(path.name)]  # a source is the id under the path's folder
        sources = np.add(np.array(folder, dtype=object), ids) if folder else ids
        piece = position_columns(
            frame,
            sources,
            problems,
            default_ids=ids,
            as_of=as_of,
            rows=rows,
            offset=offset,
            strings=strings,
        )
        pieces.append(piece)
        offset += len(numbers)
    if header is None:
        raise InputError(
            Problem(
                str(path),
                "no header row and no positions",
                "Add a header such as `instrument,quantity`.",
            )
        )
    if not misshapen:
        rows.flush()
        problems.raise_if_any()
        table = _concat(pieces) if pieces else empty_positions()
        if "id" in header:  # default ids (`file:line`) are distinct
            _check_ids(table, problems)
    problems.raise_if_any()
    return Portfolio(table, {}, str(path))


def _concat(pieces: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    """The chunks' columns in one frame, joined a column at a time, each chunk's copy freed as
    it is joined (a plain concat would hold every chunk and the result at once)."""
    if len(pieces) == 1:  # one block: its columns as they are
        return columns_frame(pieces[0])
    return columns_frame(
        {
            column: np.concatenate([piece.pop(column) for piece in pieces])
            for column in list(pieces[0])
        }
    )


def _labels(prefix: str, numbers: np.ndarray) -> np.ndarray:
    """``prefix + line`` for each line number (a source or a default id)."""
    return np.array([f"{prefix}{number}" for number in numbers.tolist()], dtype=object)


def _data_lines(first_line: int, raw: bytes) -> tuple[np.ndarray, list[str] | None, bytes]:
    """The line numbers of a block's data lines (not blank, not ``#`` comments) and either the
    lines themselves (``None`` when the block is all data: then ``body`` is its bytes)."""
    body = raw[:-1] if raw.endswith(b"\n") else raw
    if b"#" not in body and b'"' not in body and not _has_blank_line(body):
        return first_line + np.arange(body.count(b"\n") + 1), None, body
    numbered = [
        (number, line.rstrip("\r"))
        for number, line in enumerate(body.decode("utf-8").split("\n"), start=first_line)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    return np.array([n for n, _ in numbered], dtype=np.int64), [t for _, t in numbered], b""


def _has_blank_line(body: bytes) -> bool:
    """Whether a block (its final newline removed) has an empty or all-space line; the regex
    runs only when a cheap search finds a candidate."""
    end = body.find(b"\n")
    if not (body if end < 0 else body[:end]).strip(b" \t\r"):
        return True
    if not _BLANK_LINE_START.search(body):
        return False
    return bool(_BLANK_LINE.search(body))


def _first(lines: list[str] | None, body: bytes) -> str:
    if lines is not None:
        return lines[0]
    return body.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")


def _rest(numbers, lines, body):
    """Everything after the first data line."""
    if lines is not None:
        return numbers[1:], lines[1:], body
    parts = body.split(b"\n", 1)
    return numbers[1:], None, parts[1] if len(parts) > 1 else b""


def _read_rows(
    numbers: np.ndarray, lines: list[str] | None, body: bytes, header: list[str], path, problems
) -> pd.DataFrame | None:
    """The data rows as a frame of text cells, or None when a row's field count differs from
    the header's (each such row is a problem).

    Blocks without quotes are split by pandas' C parser; lines with quotes go through the csv
    module, cell by cell. Cells are stripped later, once per distinct value.
    """
    width = len(header)
    quoted = lines is not None and any('"' in line for line in lines)
    if quoted:
        unclosed = [i for i, line in enumerate(lines) if line.count('"') % 2]
        for i in unclosed:  # a quoted field across lines, or a stray quote
            problems.add(
                f"{path}:{numbers[i]}",
                'has a quote (") that is not closed on the same line',
                "Close the quote on that line: a position is one line, and a line break "
                "inside quotes is not read.",
            )
        if unclosed:
            return None
        cells = list(csv.reader(lines, skipinitialspace=True))
        counts = np.array([len(row) for row in cells])
    elif lines is not None:
        counts = np.array([line.count(",") + 1 for line in lines])
    else:
        frame = _read_well_formed(body, header, len(numbers))
        if frame is not None:
            return frame
        counts = _field_counts(body)
    bad = np.flatnonzero(counts != width)
    for i in bad:
        problems.add(
            f"{path}:{numbers[i]}",
            f"has {counts[i]} field{'' if counts[i] == 1 else 's'}, the header has {width}",
            "Check for a missing or extra comma.",
        )
    if len(bad):
        return None
    if quoted:
        return pd.DataFrame(cells, columns=header, dtype=object)
    return _parse(io.BytesIO(body) if lines is None else io.StringIO("\n".join(lines)), header)


def _parse(source, header: list[str]) -> pd.DataFrame:
    """Rows of text cells by pandas' C parser (no quotes, field counts already known)."""
    return pd.read_csv(
        source,
        header=None,
        names=header,
        dtype=object,
        keep_default_na=False,
        na_filter=False,
        skip_blank_lines=False,
        engine="c",
    )


def _read_well_formed(body: bytes, header: list[str], count: int) -> pd.DataFrame | None:
    """The rows of a block without quotes when every line has the header's field count, else
    None (then the lines are counted one by one, for the messages).

    Two counts show it without looking at each line: the first line has ``width - 1`` commas and
    the block ``count * (width - 1)``. A line with too few fields then needs one with too many to
    keep the total, and on a line with more fields than the first pandas' parser stops.
    """
    commas = len(header) - 1
    first = body.find(b"\n")
    if (body[:first] if first >= 0 else body).count(b",") != commas:
        return None
    if body.count(b",") != commas * count:
        return None
    try:
        return _parse(io.BytesIO(body), header)
    except pd.errors.ParserError:  # a line with too many fields: count them all
        return None


def _field_counts(body: bytes) -> np.ndarray:
    """Commas + 1 on each line of ``body``, counted with numpy (no Python loop over lines)."""
    data = np.frombuffer(body, dtype=np.uint8)
    commas = np.flatnonzero(data == ord(","))
    ends = np.append(np.flatnonzero(data == ord("\n")), len(data))
    return np.diff(np.searchsorted(commas, ends), prepend=0) + 1


def _check_ids(table: pd.DataFrame, problems: ProblemCollector) -> None:
    """Two rows (positions or orders) with the same ``id``: each later one is a problem."""
    repeated = table["id"].duplicated(keep="first").to_numpy()
    if not repeated.any():
        return
    first_source = dict(
        zip(table["id"][~repeated].to_numpy(), table["source"][~repeated].to_numpy())
    )
    rows = np.flatnonzero(repeated)
    for row in rows[:MAX_ROW_PROBLEMS]:
        name = table["id"].iat[row]
        problems.add(
            f"{table['source'].iat[row]}: column `id`",
            f"id {describe(name)} is already the id of {first_source[name]}",
            "Give every position its own id (or leave it empty for `<file>:<line>`).",
        )
    if len(rows) > MAX_ROW_PROBLEMS:
        more = f"... and {len(rows) - MAX_ROW_PROBLEMS} more rows like these"
        problems.add("column `id`", more)


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
                f"quantity: 1}}, found {describe(record)}",
            )
            continue
        row = {}
        for name, value in record.items():
            name = str(name).strip().lower()
            if name not in KNOWN_COLUMNS + extra:
                problems.append(unknown_key_problem(where, name, KNOWN_COLUMNS + extra))
                continue
            row[name] = "" if value is None else str(value).strip()
        if row.get("price") and row.get("entry_price"):
            problems.add(
                where,
                "has both `price` and `entry_price`",
                "An order's `price` is its entry price; give one of them.",
            )
        rows.append(row)
        sources.append(where)
    frame = pd.DataFrame(rows, dtype=object).fillna("")
    if frame.empty:
        frame = pd.DataFrame(columns=["quantity", "instrument"], dtype=object)
    for column in ("quantity", "instrument"):
        if column not in frame.columns:
            frame[column] = ""
    return frame, pd.Series(sources, dtype=object)


def _short_ids(sources: pd.Series, path: Path) -> pd.Series:
    """``book.yaml:positions[3]`` from ``dir/book.yaml: positions[3]``."""
    return sources.str.replace(f"{path}: ", f"{path.name}:", regex=False)


def load_portfolio_folder(folder: str | Path, *, as_of: datetime | None = None) -> Portfolio:
    """The portfolio files in ``folder`` (not its sub-folders) as one portfolio of accounts.

    Each file's positions and collateral go to the account it names, else to the account named
    by its file name without the suffix. Positions of one account may come from several files;
    its collateral from one. The market is the one the files' ``market:`` keys agree on, else
    ``market.yaml`` in the folder (else the usual lookup beside the folder).
    """
    folder = Path(folder)
    portfolios = []
    for path in _portfolio_files(folder):
        if path.suffix.lower() == ".csv":
            portfolios.append(_named_by_file(load_portfolio_csv(path, as_of=as_of), path))
            continue
        document = load_yaml(path, "portfolio")
        if isinstance(document, dict) and _other_kind(document):
            continue
        portfolios.append(_named_by_file(_portfolio_from_yaml(document, path, as_of), path))
    if not portfolios:
        raise InputError(
            Problem(
                str(folder),
                "holds no portfolio files",
                "Put one .csv or .yaml portfolio per account in the folder.",
            )
        )
    return _joined(portfolios, folder)


def _portfolio_files(folder: Path) -> list[Path]:
    """The .csv, .yaml and .yml files of ``folder`` (not its sub-folders), by name, without the
    market and project files."""
    return [
        path
        for path in sorted(folder.iterdir())
        if path.is_file()
        and path.suffix.lower() in PORTFOLIO_SUFFIXES
        and path.name.lower() not in NOT_PORTFOLIOS
    ]


def _other_kind(document: dict) -> bool:
    """A YAML document of another kind (market, limits, ...) rather than a portfolio."""
    keys = {str(k) for k in document}
    return bool(keys & set(OTHER_KINDS)) and not keys & {"positions", "orders", "collateral"}


def _named_by_file(portfolio: Portfolio, path: Path) -> Portfolio:
    """The portfolio with positions and collateral of no account given to ``path``'s stem."""
    positions = portfolio.positions
    unnamed = positions["account"] == ""
    if unnamed.any():
        positions = positions.assign(account=positions["account"].where(~unnamed, path.stem))
    collateral = {
        account or path.stem: amounts for account, amounts in portfolio.collateral.items()
    }
    return Portfolio(positions, collateral, portfolio.source, portfolio.market_path)


def _joined(portfolios: list[Portfolio], folder: Path) -> Portfolio:
    """One portfolio of every file's accounts; collateral stated twice for one account or
    market files that disagree are problems."""
    problems = ProblemCollector()
    collateral: dict[str, dict[str, float]] = {}
    stated_in: dict[str, str] = {}
    for portfolio in portfolios:
        for account, amounts in portfolio.collateral.items():
            if account in collateral:
                problems.add(
                    f"{portfolio.source}: collateral",
                    f"account {account!r} already states its collateral in {stated_in[account]}",
                    "State each account's collateral in one file.",
                )
                continue
            collateral[account], stated_in[account] = amounts, portfolio.source
    markets = sorted({p.market_path for p in portfolios if p.market_path})
    if len(markets) > 1:
        problems.add(
            str(folder),
            f"the files name different markets ({', '.join(markets)})",
            "Name one market (or none: market.yaml in the folder is used).",
        )
    problems.raise_if_any()
    beside = folder / "market.yaml"
    market = markets[0] if markets else (str(beside) if beside.exists() else None)
    positions = pd.concat([p.positions for p in portfolios], ignore_index=True)
    return Portfolio(positions, collateral, str(folder), market)


def load_portfolio_yaml(path: str | Path, *, as_of: datetime | None = None) -> Portfolio:
    path = Path(path)
    return _portfolio_from_yaml(load_yaml(path, "portfolio"), path, as_of)


def _portfolio_from_yaml(document, path: Path, as_of: datetime | None) -> Portfolio:
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
    account = _account_name(document.get("account"), path, problems)
    market = document.get("market")
    if market is not None and not (isinstance(market, str) and market.strip()):
        problems.add(
            f"{path}: market",
            f"expected a file name, found {market!r}",
            "e.g. `market: market.yaml`",
        )
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
                as_of=as_of,
            )
        )
    frame, sources = _records_frame(orders, "orders", path, problems, extra=("price",))
    if len(frame):
        if "price" in frame.columns:
            frame["entry_price"] = frame["price"].where(
                frame["price"] != "", frame.get("entry_price", "")
            )
            frame = frame.drop(columns="price")
        frames.append(
            build_positions(
                frame,
                sources,
                problems,
                default_account=account,
                is_order=True,
                default_ids=_short_ids(sources, path),
                as_of=as_of,
            )
        )
    collateral = _collateral(document.get("collateral"), path, problems)
    problems.raise_if_any()
    table = pd.concat(frames, ignore_index=True) if frames else empty_positions()
    _check_ids(table, problems)
    problems.raise_if_any()
    market_path = str(resolve_beside(path, market)) if market else None
    return Portfolio(table, {account: collateral} if collateral else {}, str(path), market_path)


def _account_name(value, path: Path, problems: ProblemCollector) -> str:
    """The file's ``account:`` as text ("" when absent or empty); a number is its text, as in a
    CSV cell; a list, mapping or true/false is a problem."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        problems.add(
            f"{path}: account", f"expected a name, found {value!r}", "e.g. `account: desk-1`"
        )
        return ""
    return str(value)


def _collateral(value, path: str | Path, problems: ProblemCollector) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.add(f"{path}: collateral", "expected a mapping such as {USD: 250000, BTC: 3}")
        return {}
    problems.extend(same_key_problems(value, f"{path}: collateral", "currency"))
    amounts = {}
    for currency, amount in value.items():
        code = upper_key(currency)
        minimum = -QUANTITY_MAX if code in USD_LIKE else 0  # a negative cash balance is a debit
        number = finite_number(
            amount,
            f"{path}: collateral.{currency}",
            problems,
            minimum=minimum,
            maximum=QUANTITY_MAX,
        )
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
    if not problems:
        _check_ids(positions, problems)
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
