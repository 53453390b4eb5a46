"""Deribit API v2 exports as inputs: positions and balances as a portfolio, a book summary as a
market snapshot.

A file holds the JSON that Deribit's API returned: one response, or a JSON array of responses
(``jq -s . positions.json btc_summary.json > export.json``). A response is the JSON-RPC envelope
``{"jsonrpc": "2.0", "result": ...}`` or its bare ``result``; each is recognised by its content:

=================================================  ==========================================
``private/get_positions`` (or ``get_position``)    records with ``instrument_name`` and
                                                   ``size``/``size_currency``/``direction``
``private/get_account_summary`` (or ``...ies``)    ``currency`` and ``balance`` (or a list
                                                   under ``summaries``)
``public/get_book_summary_by_currency``            records with ``instrument_name`` and
                                                   ``mark_price`` but no size
=================================================  ==========================================

With ``--from deribit`` a CSV with the same column names (``instrument_name,size,direction,...``)
is read the same way.

Positions (SPEC §1: quantity is signed contracts):

* ``size`` is in the contract's own unit: **USD** for inverse futures and perpetuals, coins for
  options and linear (USDC) contracts. ``quantity = size / multiplier``: a ``BTC-PERPETUAL`` size
  of −250,000 USD is −25,000 contracts of 10 USD; ``ETH-PERPETUAL`` contracts are 1 USD; an
  option's size is its number of 1-coin contracts.
* ``size_currency`` (futures: the size in coins) stands in when ``size`` is absent
  (USD size = ``size_currency × mark_price`` for inverse contracts); when both are given they must
  agree within 1%.
* ``direction``: ``sell`` makes a positive size short, ``zero`` (a flat position) is skipped, and a
  negative size with ``buy`` is an error.
* ``mark_price`` is kept as the position's mark (coin for inverse options, USD otherwise);
  ``average_price`` becomes ``entry_price`` for options and spot. Futures and perpetuals carry no
  entry price: Deribit settles their P&L into the balance, and the part since the last settlement
  is in the account summary's session P&L, which the collateral below includes.
* Combinations (``future_combo``, ``option_combo``) are an error: margin their legs.

Balances: each account summary gives collateral in its ``currency`` of
``balance + futures_session_upl + futures_session_rpl`` — Deribit's margin balance, so that
pmargin's equity (collateral + option marks) reproduces the summary's ``equity``
(= margin balance + ``options_value``).

The market export is read by :mod:`pmargin.io.deribit_market`.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError, Problem, ProblemCollector
from ..instruments import parse_symbol
from ..portfolio import Portfolio, empty_positions
from ..values import QUANTITY_MAX, finite_number
from .common import load_json, read_text
from .formats import AUTO, DERIBIT
from .position_rows import build_positions

POSITIONS, SUMMARY, BOOK = "positions", "account summary", "book summary"
COMBO_KINDS = ("future_combo", "option_combo")
DIRECTIONS = ("buy", "sell", "zero")
#: largest relative disagreement allowed between ``size`` and ``size_currency``
SIZE_TOLERANCE = 0.01


@dataclass
class Export:
    """The records of a Deribit export, by kind; ``where`` strings locate each record."""

    records: dict[str, list[tuple[str, dict]]] = field(default_factory=lambda: defaultdict(list))
    server_times: list[float] = field(default_factory=list)  # envelopes' usOut, microseconds

    def of(self, kind: str) -> list[tuple[str, dict]]:
        return self.records.get(kind, [])


def is_deribit_file(path: str | Path, file_format: str = AUTO, *, yaml_wins: bool = False) -> bool:
    """Whether ``path`` is read as a Deribit export: named so (``--from deribit``; a YAML market
    still reads as YAML when ``yaml_wins``), a ``.json`` file, or a file of another suffix whose
    content is JSON."""
    suffix = Path(path).suffix.lower()
    if file_format == DERIBIT:
        return not (yaml_wins and suffix in (".yaml", ".yml"))
    if suffix == ".json":
        return True
    if suffix in (".csv", ".yaml", ".yml") or not Path(path).is_file():
        return False
    return read_text(path, "input").lstrip()[:1] in ("{", "[")


def read_export(path: str | Path) -> Export:
    """Every response in a Deribit export file, its records sorted by kind."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        return _csv_export(path)
    document = load_json(path, "Deribit export")
    export = Export()
    problems = ProblemCollector()
    if isinstance(document, list) and document and not all(_is_record(d) for d in document):
        for index, response in enumerate(document):
            _add_response(export, response, f"{path}: [{index}]", problems)
    else:
        _add_response(export, document, str(path), problems)
    problems.raise_if_any()
    return export


def _is_record(item: Any) -> bool:
    return isinstance(item, dict) and "instrument_name" in item


def _add_response(export: Export, response: Any, where: str, problems: ProblemCollector) -> None:
    if isinstance(response, dict) and "error" in response:
        error = response["error"] if isinstance(response["error"], dict) else {}
        problems.add(
            where,
            f"holds a Deribit API error ({error.get('code', '?')}: "
            f"{error.get('message', response['error'])}), not data",
            "Save a successful response.",
        )
        return
    if isinstance(response, dict) and "result" in response:
        if isinstance(response.get("usOut"), (int, float)):
            export.server_times.append(float(response["usOut"]))
        where = f"{where}.result" if where.endswith("]") else f"{where}: result"
        response = response["result"]
    kind, records = _classify(response)
    if kind is None:
        problems.add(
            where,
            "not a Deribit response pmargin reads",
            "Give the JSON of private/get_positions, private/get_account_summary or "
            "public/get_book_summary_by_currency.",
        )
        return
    many = isinstance(response, list) or (isinstance(response, dict) and "summaries" in response)
    for index, record in enumerate(records):
        at = f"{where}[{index}]" if many else where
        export.records[kind].append((at, record))


def _classify(result: Any) -> tuple[str | None, list[dict]]:
    """The kind of one response's ``result`` and its records."""
    if isinstance(result, dict) and isinstance(result.get("summaries"), list):
        return SUMMARY, [s for s in result["summaries"] if isinstance(s, dict)]
    records = result if isinstance(result, list) else [result]
    if not records:
        return POSITIONS, []  # an account without positions
    if not all(isinstance(r, dict) for r in records):
        return None, []
    if all("currency" in r and ("balance" in r or "equity" in r) for r in records):
        return SUMMARY, records
    if not all("instrument_name" in r for r in records):
        return None, []
    if any(key in r for r in records for key in ("size", "size_currency", "direction")):
        return POSITIONS, records
    if any("mark_price" in r for r in records):
        return BOOK, records
    return None, []


def _csv_export(path: Path) -> Export:
    """A CSV with Deribit's field names (``--from deribit``): one position record a row."""
    lines = [
        (number, line)
        for number, line in enumerate(read_text(path, "portfolio").splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    export = Export()
    if not lines:
        return export
    reader = csv.reader(io.StringIO("\n".join(line for _, line in lines)), skipinitialspace=True)
    rows = list(reader)
    header = [name.strip().lower() for name in rows[0]]
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:  # a record keeps one value per field: the other would be lost
        raise InputError(
            Problem(
                f"{path}:{lines[0][0]}: header",
                f"column {', '.join(f'`{name}`' for name in repeated)} appears more than once "
                "(names are read in any case)",
                "Keep one.",
            )
        )
    for (number, _), row in zip(lines[1:], rows[1:]):
        record = {k: v.strip() for k, v in zip(header, row) if v.strip() != ""}
        export.records[POSITIONS].append((f"{path}:{number}", record))
    return export


# --- portfolio -----------------------------------------------------------------------------


def load_deribit_portfolio(path: str | Path, *, as_of: datetime | None = None) -> Portfolio:
    """A :class:`Portfolio` from a Deribit positions export (plus account summaries, if any);
    with ``as_of`` (the market's), a contract expired by then is a problem, as in a CSV."""
    path = Path(path)
    export = read_export(path)
    problems = ProblemCollector()
    if not export.of(POSITIONS) and not export.of(SUMMARY):
        fix = (
            "This is a market export: pass it with `--market`."
            if export.of(BOOK)
            else "Give the JSON of private/get_positions."
        )
        raise InputError(Problem(str(path), "holds no Deribit positions or balances", fix))
    rows, sources = [], []
    seen: dict[str, str] = {}
    for where, record in export.of(POSITIONS):
        row = _position_row(where, record, problems)
        if row is None:
            continue
        if row["instrument"] in seen:
            problems.add(
                where,
                f"{row['instrument']} appears twice (also at {seen[row['instrument']]})",
                "Export each account's positions once.",
            )
            continue
        seen[row["instrument"]] = where
        rows.append(row)
        sources.append(where)
    collateral = _collateral(export.of(SUMMARY), problems)
    problems.raise_if_any()
    positions = empty_positions()
    if rows:
        frame = pd.DataFrame(rows, dtype=str)
        positions = build_positions(frame, pd.Series(sources, dtype=str), problems, as_of=as_of)
        problems.raise_if_any()
    return Portfolio(positions, {"": collateral} if collateral else {}, str(path))


def _position_row(where: str, record: dict, problems: ProblemCollector) -> dict | None:
    """One position record as the text fields of a portfolio row; None when it holds nothing
    (``direction: zero``, size 0) or has a problem (recorded)."""
    name = str(record.get("instrument_name", "")).strip().upper()
    if not name:
        problems.add(where, "no `instrument_name`", "Each position needs its instrument.")
        return None
    kind = str(record.get("kind", "")).strip().lower()
    if kind in COMBO_KINDS:
        problems.add(
            f"{where} ({name})",
            f"a {kind.replace('_', ' ')} is not margined as one instrument",
            "Export the legs as positions.",
        )
        return None
    try:
        fields = parse_symbol(name)
    except ValueError as exc:
        problems.add(f"{where}: `instrument_name`", str(exc))
        return None
    direction = str(record.get("direction", "")).strip().lower()
    if direction and direction not in DIRECTIONS:
        problems.add(
            f"{where}: `direction`", f"unknown direction {direction!r}", "Use buy or sell."
        )
        return None
    if direction == "zero":
        return None
    mark = optional_number(record, "mark_price", where, problems)
    size = _size(record, fields, mark, f"{where} ({name})", problems)
    if size is None:
        return None
    if direction == "sell" and size > 0:
        size = -size
    elif direction == "buy" and size < 0:
        problems.add(
            f"{where}: `size`",
            f"negative size {size:g} with direction buy",
            "Give a positive size for a long position, or direction sell.",
        )
        return None
    if size == 0:
        return None
    dated_or_perpetual = fields["kind"] in ("future", "perpetual")
    entry = (
        None if dated_or_perpetual else optional_number(record, "average_price", where, problems)
    )
    return {
        "id": name,
        "instrument": name,
        "quantity": repr(size / float(fields["multiplier"])),
        "mark_price": "" if mark is None else repr(mark),
        "entry_price": "" if entry is None else repr(entry),
    }


def _size(
    record: dict, fields: dict, mark: float | None, where: str, problems: ProblemCollector
) -> float | None:
    """The position's size in the contract's unit (USD for inverse futures, else coins)."""
    size = optional_number(record, "size", where, problems)
    in_coins = optional_number(record, "size_currency", where, problems)
    inverse = fields["settlement"] == "inverse" and fields["kind"] in ("future", "perpetual")
    if size is None and in_coins is None:
        if all(record.get(key) in (None, "") for key in ("size", "size_currency")):
            problems.add(where, "no `size` and no `size_currency`", "Export the position's size.")
        return None  # else the bad number is the problem, already recorded
    if size is not None and in_coins is not None and fields["kind"] in ("future", "perpetual"):
        expected = size / mark if inverse and mark else size if not inverse else None
        if expected is not None and abs(in_coins - expected) > SIZE_TOLERANCE * abs(expected):
            problems.add(
                where,
                f"`size` {size:g} and `size_currency` {in_coins:g} disagree "
                f"({'size / mark_price' if inverse else 'size'} is {expected:g})",
                "Export both from the same response.",
            )
            return None
    if size is not None:
        return size
    assert in_coins is not None
    if not inverse:
        return in_coins
    if not mark:
        problems.add(
            where,
            "only `size_currency` is given and there is no `mark_price` to turn it into USD",
            "Export `size` (USD) or `mark_price`.",
        )
        return None
    return in_coins * mark


def optional_number(record: dict, key: str, where: str, problems) -> float | None:
    value = record.get(key)
    if value is None or value == "":
        return None
    return finite_number(value, f"{where}: `{key}`", problems)


def _collateral(summaries: list[tuple[str, dict]], problems: ProblemCollector) -> dict[str, float]:
    """Collateral per currency: balance + the futures' session P&L (Deribit's margin balance)."""
    collateral: dict[str, float] = {}
    for where, summary in summaries:
        currency = str(summary.get("currency", "")).strip().upper()
        if not currency:
            problems.add(where, "an account summary without `currency`")
            continue
        if currency in collateral:
            problems.add(where, f"a second account summary for {currency}", "Give each once.")
            continue
        if summary.get("balance") is None:
            problems.add(f"{where}: `balance`", "missing", "Export the full account summary.")
            continue
        parts = [
            finite_number(
                summary.get(key, 0.0),
                f"{where}: `{key}`",
                problems,
                minimum=-QUANTITY_MAX,
                maximum=QUANTITY_MAX,
            )
            for key in ("balance", "futures_session_upl", "futures_session_rpl")
        ]
        if None not in parts:
            collateral[currency] = float(sum(parts))
    return collateral
