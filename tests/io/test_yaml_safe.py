"""The strict YAML loader every file goes through: safe, no duplicate keys, real dates, bounded."""

from __future__ import annotations

import datetime

import pytest

from pmargin import InputError
from pmargin.io.yaml_safe import MAX_DEPTH, key_line, load_yaml


def problems(write, text: str) -> list[str]:
    path = write("f.yaml", text)
    with pytest.raises(InputError) as caught:
        load_yaml(path, "test")
    return [str(p).replace(str(path), "f.yaml") for p in caught.value.problems]


def test_a_good_file_loads_and_keeps_the_line_of_each_key(write):
    document = load_yaml(write("f.yaml", "a: 1\nb:\n  c: [1, 2]\n  d: {e: 3}\n"), "test")
    assert document == {"a": 1, "b": {"c": [1, 2], "d": {"e": 3}}}
    assert key_line(document, "b") == 2
    assert key_line(document["b"], "d") == 4
    assert key_line(document["b"]["d"], "e") == 4


def test_duplicate_keys_name_the_key_and_both_lines(write):
    found = problems(write, "a: 1\nb: 2\na: 3\nc:\n  x: 1\n  x: 2\n")
    assert len(found) == 2
    assert found[0].startswith("f.yaml:3: duplicate key `a` (lines 1 and 3 of one mapping)")
    assert found[1].startswith("f.yaml:6: duplicate key `x` (lines 5 and 6 of one mapping)")


def test_the_same_number_written_two_ways_is_a_duplicate(write):
    (found,) = problems(write, "smile:\n  90000: 0.5\n  90000.0: 0.6\n")
    assert "duplicate key `90000.0` (the same key as `90000`)" in found


def test_a_merge_key_may_be_overridden(write):
    text = "base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  x: 3\n"
    assert load_yaml(write("f.yaml", text), "test")["d"] == {"x": 3, "y": 2}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("as_of: 2024-02-30\n", "f.yaml:1: `as_of`: impossible date '2024-02-30'"),
        ("x: {2024-13-01: 5}\n", "f.yaml:1: a key of `x`: impossible date '2024-13-01'"),
        ("- 2023-02-29\n", "f.yaml:1: impossible date '2023-02-29'"),
    ],
)
def test_impossible_dates_name_the_key(write, text, expected):
    assert any(p.startswith(expected) for p in problems(write, text))


def test_real_dates_stay_dates(write):
    document = load_yaml(write("f.yaml", "a: 2024-02-29\nb: 2024-02-29T08:00:00Z\n"), "test")
    assert document["a"] == datetime.date(2024, 2, 29)
    assert document["b"].tzinfo is not None


def test_nesting_deeper_than_the_limit_is_refused(write):
    ok = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert load_yaml(write("ok.yaml", ok), "test") is not None
    (found,) = problems(write, "[" * 100_000 + "]" * 100_000)
    assert f"nested deeper than {MAX_DEPTH} levels" in found


def test_an_alias_bomb_is_refused_before_it_is_built(write):
    lines = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    (found,) = problems(write, "\n".join(lines) + "\n")
    assert "expands to more than 1,000,000 values" in found


def test_a_few_aliases_are_fine(write):
    text = "vt: &vt {ref_days: 30}\nsets:\n  - {vol_term: *vt}\n  - {vol_term: *vt}\n"
    assert load_yaml(write("f.yaml", text), "test")["sets"][1] == {"vol_term": {"ref_days": 30}}


def test_python_objects_are_never_built(write):
    (found,) = problems(write, "a: !!python/object/apply:os.system ['true']\n")
    assert "malformed YAML" in found


@pytest.mark.parametrize(
    "text, expected",
    [
        # YAML 1.2 (decimal) where PyYAML's YAML 1.1 reads another value
        ("010", 10),  # 1.1: 8 (octal)
        ("0x10", "0x10"),  # 1.1: 16
        ("0o10", "0o10"),
        ("1:30", "1:30"),  # 1.1: 90 (base 60)
        ("1_000", "1_000"),  # 1.1: 1000
        ("yes", "yes"),  # 1.1: True
        ("NO", "NO"),  # 1.1: False (an underlying, say)
        ("on", "on"),
        ("Off", "Off"),
        ("1e5", 100000.0),  # 1.1: the text "1e5" (no dot)
        # the same in both
        ("12", 12),
        ("-3", -3),
        ("+3", 3),
        ("1.5", 1.5),
        (".5", 0.5),
        ("-2.5e-3", -0.0025),
        ("true", True),
        ("False", False),
        ("~", None),
        ("abc", "abc"),
    ],
)
def test_numbers_and_booleans_are_read_as_yaml_1_2_decimal(write, text, expected):
    value = load_yaml(write("f.yaml", f"a: {text}\n"), "test")["a"]
    assert value == expected
    assert type(value) is type(expected)


def test_infinity_and_nan_are_still_numbers_for_the_fields_to_refuse(write):
    document = load_yaml(write("f.yaml", "a: .inf\nb: -.inf\nc: .nan\n"), "test")
    assert document["a"] == float("inf") and document["b"] == float("-inf")
    assert document["c"] != document["c"]


def test_an_integer_too_long_to_read_names_the_key_and_line(write):
    found = problems(write, "a: 1\nb:\n  spot: " + "9" * 4301 + "\n")
    assert found == [
        "f.yaml:3: `spot`: an integer 4,301 digits long. No value pmargin reads needs more than "
        "a few digits; check the number."
    ]
    assert load_yaml(write("g.yaml", "spot: " + "9" * 4300 + "\n"), "test")["spot"] > 0
