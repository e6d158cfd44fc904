"""`Multiply` and `Add`: the host built-ins' results and error messages, case by case."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pytest

from remotemedia.media import AudioFrame, to_json_form
from remotemedia.nodes import Add, Multiply
from remotemedia.nodes.arithmetic import I64_MAX, I64_MIN, brief, value_kind

OPS = {"Multiply": Multiply, "Add": Add}


@pytest.mark.parametrize(
    ("op", "operand", "item", "expected"),
    [
        ("Multiply", 3, 2, 6),
        ("Multiply", 2, -3, -6),
        ("Multiply", 3, 0.5, 1.5),
        ("Multiply", 0.5, 4, 2.0),
        ("Multiply", 2.0, 3, 6.0),
        ("Multiply", 0, I64_MAX, 0),
        ("Multiply", -1, I64_MAX, -I64_MAX),
        ("Multiply", 1, I64_MIN, I64_MIN),
        ("Multiply", 0.5, I64_MAX, I64_MAX * 0.5),
        ("Add", 1, 2, 3),
        ("Add", 1, I64_MAX - 1, I64_MAX),
        ("Add", -1, I64_MIN + 1, I64_MIN),
        ("Add", 1, 0.5, 1.5),
        ("Add", 0.5, 1, 1.5),
        ("Add", 1.0, 1, 2.0),
        ("Add", 0.5, I64_MAX, I64_MAX + 0.5),
        ("Add", 0, -0.0, -0.0),
    ],
)
def test_ints_stay_ints_and_a_float_on_either_side_gives_a_float(
    op: str, operand: float, item: float, expected: float
) -> None:
    result = OPS[op](operand).process(item)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("op", "operand", "item", "message"),
    [
        ("Multiply", 2, I64_MAX, f"Multiply: {I64_MAX} * 2 does not fit in a 64-bit integer"),
        ("Multiply", 2, I64_MIN, f"Multiply: {I64_MIN} * 2 does not fit in a 64-bit integer"),
        ("Multiply", -1, I64_MIN, f"Multiply: {I64_MIN} * -1 does not fit in a 64-bit integer"),
        ("Add", 1, I64_MAX, f"Add: {I64_MAX} + 1 does not fit in a 64-bit integer"),
        ("Add", -1, I64_MIN, f"Add: {I64_MIN} + -1 does not fit in a 64-bit integer"),
    ],
)
def test_int_results_outside_i64_raise_overflow_error(
    op: str, operand: int, item: int, message: str
) -> None:
    with pytest.raises(OverflowError, match=f"^{re.escape(message)}$"):
        OPS[op](operand).process(item)


LONG = "x" * 100


@pytest.mark.parametrize(
    ("item", "rendering"),
    [
        (True, "bool true"),
        (False, "bool false"),
        (None, "null null"),
        ("x", 'string "x"'),
        ("", 'string ""'),
        ([1, 2.5], "list [1,2.5]"),
        ((1, 2), "list [1,2]"),
        ({"a": 1, "b": [None]}, 'map {"a":1,"b":[null]}'),
        ("é", 'string "é"'),
        (LONG, 'string "' + "x" * 56 + "..."),
        # 60 bytes exactly is not cut.
        ("x" * 58, 'string "' + "x" * 58 + '"'),
        # The cut counts UTF-8 bytes and backs off to a character boundary, as the host does.
        ("a" + "é" * 40, 'string "a' + "é" * 27 + "..."),
    ],
)
@pytest.mark.parametrize("op", ["Multiply", "Add"])
def test_non_numbers_raise_type_error_with_kind_and_json(
    op: str, item: Any, rendering: str
) -> None:
    with pytest.raises(
        TypeError, match=f"^{re.escape(f'{op} expects a number, got {rendering}')}$"
    ):
        OPS[op](2).process(item)


def test_message_matches_the_host_word_for_word() -> None:
    # The host's own tests (host/src/node/builtin/multiply.rs, add.rs) expect these texts.
    with pytest.raises(TypeError) as error:
        Multiply(2).process("x")
    assert f"TypeError: {error.value}" == 'TypeError: Multiply expects a number, got string "x"'
    with pytest.raises(OverflowError) as overflow:
        Multiply(2).process(I64_MAX)
    assert f"OverflowError: {overflow.value}" == (
        "OverflowError: Multiply: 9223372036854775807 * 2 does not fit in a 64-bit integer"
    )


@pytest.mark.parametrize("bad", [True, False, None, "2", [2], {"v": 2}])
@pytest.mark.parametrize(("op", "param"), [("Multiply", "factor"), ("Add", "addend")])
def test_the_parameter_must_be_a_number_not_a_bool(op: str, param: str, bad: Any) -> None:
    with pytest.raises(TypeError, match=f"^{op} parameter {param} must be a number, got "):
        OPS[op](bad)


def test_an_int_parameter_outside_i64_is_read_as_a_float_as_the_host_does() -> None:
    node = Multiply(2**64)
    assert node.operand == float(2**64)
    assert node.process(1) == float(2**64)


def test_nodes_are_constructed_with_name_and_keyword_params() -> None:
    node = Add(name="offset", addend=10)
    assert (node.name, node.process(1)) == ("offset", 11)
    assert Multiply(factor=2).name == "Multiply"


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (None, "null"),
        (True, "bool"),
        (1, "int"),
        (1.0, "float"),
        ("s", "string"),
        ([], "list"),
        ((), "list"),
        ({}, "map"),
        (b"x", "bytes"),
        (np.zeros(3, np.float32), "array"),
        (np.zeros(3, np.float16), "array"),
        (AudioFrame(np.zeros(4, np.int16), 8000), "audio"),
        ({1}, "set"),
    ],
)
def test_value_kind_names_json_and_media_kinds(value: Any, kind: str) -> None:
    assert value_kind(value) == kind


def test_brief_falls_back_to_repr_for_values_json_cannot_hold() -> None:
    assert brief({1}) == "{1}"
    assert brief([np.zeros(2, np.float16)]).startswith("[array([0., 0.], dtype=float16)]")


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"x",
        bytes(range(256)),
        np.arange(3, dtype=np.int16),
        np.arange(100_000, dtype=np.float64).reshape(1000, 100),
        np.ones((), np.bool_),
        AudioFrame(np.zeros(960, np.float32), 48000, 0.02),
        AudioFrame(np.zeros((2, 2), np.int16), 8000),
        [np.arange(2, dtype=np.uint8), b"ab", {"k": np.arange(40, dtype=np.int64)}],
    ],
    ids=repr,
)
def test_brief_renders_media_values_in_their_json_form_as_the_host(value: Any) -> None:
    # The whole JSON text, cut as any other: encoding only the start of big data changes
    # nothing that shows.
    full = json.dumps(to_json_form(value), separators=(",", ":"))
    cut = full if len(full) <= 60 else full[:57] + "..."
    assert brief(value) == cut


@pytest.mark.parametrize("op", ["Multiply", "Add"])
@pytest.mark.parametrize(
    ("item", "kind"),
    [
        (b"\x00\x01", "bytes"),
        (np.ones(4, np.float32), "array"),
        (AudioFrame(np.zeros(4, np.int16), 8000), "audio"),
    ],
)
def test_media_values_are_not_numbers(op: str, item: Any, kind: str) -> None:
    with pytest.raises(TypeError, match=f'^{op} expects a number, got {kind} {{"\\$'):
        OPS[op](2).process(item)
