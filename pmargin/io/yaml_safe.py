"""Every YAML file pmargin reads goes through :func:`load_yaml`: safe loading only, and strict.

:class:`StrictLoader` is PyYAML's ``SafeLoader`` (no Python objects, ever) with what safe loading
alone does not give:

* **Duplicate keys are an error** naming the key and both lines. Plain YAML keeps the last value
  silently, so ``spot:`` written twice would price the book at whichever came second. Keys are
  compared as the values YAML reads, so ``90000`` and ``90000.0`` (the same number) are
  duplicates too. Keys that a loader treats case-insensitively (``BTC``/``btc``) are checked by
  that loader (see :func:`pmargin.values.same_key_problems`); for that, every mapping remembers
  the line of each of its keys (:class:`LineMapping`).
* **Impossible dates** (``2024-02-30``, month 13) are a problem naming the key and the line, not a
  ``ValueError`` from YAML's timestamp constructor.
* **Numbers and booleans as YAML 1.2 writes them, in decimal.** PyYAML follows YAML 1.1, where
  ``010`` is 8 (octal), ``0x10`` 16, ``1:30`` 90 (base 60), ``1_000`` 1000 and ``yes``/``no``/
  ``on``/``off`` are booleans: a quantity or an underlying (``NO``) would silently become
  another value. Here a plain scalar is an integer only as ``[-+]?[0-9]+`` (``010`` is 10), a
  float only in decimal or exponent form (``1e5`` included) or ``.inf``/``.nan``, a boolean only
  ``true``/``false``; anything else stays text, which the field's own check then refuses with
  its message (``expected a number, found '0x10'``). An integer too long for Python to read
  (over 4,300 digits) is a problem naming the key and the line.
* **Bounded work**: at most :data:`MAX_DEPTH` levels of nesting (deeper is an error, not a
  ``RecursionError``), at most :data:`MAX_ALIASES` alias uses, and at most
  :data:`MAX_EXPANDED_NODES` nodes once every alias is expanded (an "alias bomb" of nine lists of
  nine aliases ten levels deep would be 3.5 billion nodes; it is refused while composing, before
  anything is built from it).

Every problem of a file is reported at once.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from ..errors import InputError, Problem
from .common import read_text

#: deepest nesting of mappings and lists a file may have (pmargin's formats need 5)
MAX_DEPTH = 32
#: alias uses (``*name``) a file may have
MAX_ALIASES = 1_000
#: nodes (mappings, lists, scalars) a file may hold once every alias is expanded
MAX_EXPANDED_NODES = 1_000_000
_MERGE_TAG = "tag:yaml.org,2002:merge"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_BOOL_TAG, _INT_TAG, _FLOAT_TAG = (f"tag:yaml.org,2002:{t}" for t in ("bool", "int", "float"))
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^[-+]?[0-9]+$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


class LineMapping(dict):
    """A mapping read from YAML that remembers the (1-based) line of each of its keys."""

    __slots__ = ("key_lines",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.key_lines: dict[Any, int] = {}


def key_line(mapping: Any, key: Any) -> int | None:
    """The line of ``key`` in a mapping read by :func:`load_yaml`, or None if not known."""
    lines = getattr(mapping, "key_lines", None)
    return None if lines is None else lines.get(key)


class StrictLoader(yaml.SafeLoader):
    """``SafeLoader`` that records duplicate keys and impossible dates as problems and bounds
    nesting and alias expansion (see the module docstring)."""

    def __init__(self, stream, where: str = "<yaml>"):
        super().__init__(stream)
        self.where = where
        self.problems: list[Problem] = []
        self._depth = 0
        self._aliases = 0
        self._sizes: dict[int, int] = {}
        self._key_of: dict[int, str] = {}

    # --- composing: depth, aliases and expanded size -----------------------------------------

    def compose_node(self, parent, index):
        if self.check_event(AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _TooLarge(
                    None,
                    None,
                    f"has more than {MAX_ALIASES:,} aliases (*name)",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooLarge(
                    None,
                    None,
                    f"is nested deeper than {MAX_DEPTH} levels",
                    self.peek_event().start_mark,
                )
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        size = 1 + sum(self._sizes.get(id(child), 1) for child in _children(node))
        self._sizes[id(node)] = size
        if size > MAX_EXPANDED_NODES:
            raise _TooLarge(
                None,
                None,
                f"expands to more than {MAX_EXPANDED_NODES:,} values through aliases (*name)",
                node.start_mark,
            )
        return node

    # --- constructing: duplicate keys and dates ----------------------------------------------

    def construct_mapping(self, node, deep=False):
        if not isinstance(node, MappingNode):
            return super().construct_mapping(node, deep=deep)
        own = {id(k) for k, _ in node.value if k.tag != _MERGE_TAG}
        self.flatten_mapping(node)
        mapping = LineMapping()
        seen: dict[Any, ScalarNode] = {}
        parent = self._key_of.get(id(node))
        for key_node, value_node in node.value:
            self._key_of[id(key_node)] = f"a key of {parent}" if parent else "a top-level key"
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "found unhashable key",
                    key_node.start_mark,
                )
            self._key_of[id(value_node)] = f"`{_text(key_node)}`"
            if id(key_node) in own:
                first = seen.get(key)
                if first is not None:
                    self._duplicate(first, key_node)
                seen[key] = key_node
            mapping[key] = self.construct_object(value_node, deep=deep)
            mapping.key_lines[key] = key_node.start_mark.line + 1
        return mapping

    def construct_yaml_map(self, node):
        data = LineMapping()
        yield data
        value = self.construct_mapping(node)
        data.update(value)
        data.key_lines.update(value.key_lines)

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            self._problem(
                node,
                f"impossible date {node.value!r} ({exc})",
                "Write a real calendar date as YYYY-MM-DD.",
            )
            return node.value

    def construct_yaml_int(self, node):
        value = self.construct_scalar(node)
        if _INT.match(value):
            try:
                return int(value)
            except ValueError:  # past Python's 4,300-digit limit on reading integers
                self._problem(
                    node,
                    f"an integer {len(value):,} digits long",
                    "No value pmargin reads needs more than a few digits; check the number.",
                )
                return value
        # only an explicit !!int tag brings another form here
        self._problem(node, f"{value!r} is not a decimal integer", "Write it in decimal.")
        return value

    def _problem(self, node, what: str, fix: str) -> None:
        key = self._key_of.get(id(node))
        where = f"{key}: " if key is not None else ""
        self.problems.append(Problem(f"{self.where}:{node.start_mark.line + 1}", where + what, fix))

    def _duplicate(self, first: Any, second: Any) -> None:
        line1, line2 = first.start_mark.line + 1, second.start_mark.line + 1
        same = (
            f"`{_text(second)}`"
            if _text(first) == _text(second)
            else f"`{_text(second)}` (the same key as `{_text(first)}`)"
        )
        lines = f"both on line {line1}" if line1 == line2 else f"lines {line1} and {line2}"
        self.problems.append(
            Problem(
                f"{self.where}:{line2}",
                f"duplicate key {same} ({lines} of one mapping); YAML would silently keep only "
                "the second",
                "Keep one of them.",
            )
        )


# YAML 1.2's plain numbers and booleans in place of YAML 1.1's (see the module docstring); the
# other implicit types (null, timestamps, merge keys) stay as SafeLoader reads them
StrictLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL_TAG, _INT_TAG, _FLOAT_TAG)
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StrictLoader.add_implicit_resolver(_BOOL_TAG, _BOOL, list("tTfF"))
StrictLoader.add_implicit_resolver(_INT_TAG, _INT, list("-+0123456789"))  # before floats: 12 is int
StrictLoader.add_implicit_resolver(_FLOAT_TAG, _FLOAT, list("-+.0123456789"))
StrictLoader.add_constructor(_INT_TAG, StrictLoader.construct_yaml_int)
StrictLoader.add_constructor(_TIMESTAMP_TAG, StrictLoader.construct_yaml_timestamp)
StrictLoader.add_constructor("tag:yaml.org,2002:map", StrictLoader.construct_yaml_map)


class _TooLarge(ComposerError):
    """A file past one of the bounds on work (depth, aliases, expanded size)."""


def _children(node) -> list:
    if isinstance(node, SequenceNode):
        return node.value
    if isinstance(node, MappingNode):
        return [child for pair in node.value for child in pair]
    return []


def _text(node) -> str:
    """How a key was written in the file (a short form for a mapping or list used as a key)."""
    return str(node.value) if isinstance(node, ScalarNode) else node.id


def load_yaml(path: str | Path, what: str) -> Any:
    """Read a YAML file with :class:`StrictLoader`; malformed YAML, duplicate keys, impossible
    dates and unbounded structures become one InputError naming the lines."""
    text = read_text(path, what)
    loader = StrictLoader(text, str(path))
    try:
        document = loader.get_single_data()
    except _TooLarge as exc:
        mark = exc.problem_mark
        raise InputError(
            Problem(
                f"{path}:{mark.line + 1}",
                f"refused: the file {exc.problem}",
                "pmargin's files need far less; write the values out plainly.",
            )
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise InputError(
            [
                *loader.problems,
                Problem(
                    f"{path}{line}",
                    f"malformed YAML: {exc.problem or exc}",
                    "Check indentation, colons and quotes on that line.",
                ),
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(Problem(str(path), f"malformed YAML: {exc}")) from None
    finally:
        loader.dispose()
    if loader.problems:
        raise InputError(sorted(loader.problems, key=_line_order))
    return document


def _line_order(problem: Problem) -> int:
    _, _, line = problem.where.rpartition(":")
    return int(line) if line.isdigit() else 0
