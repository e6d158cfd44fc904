"""`Multiply` and `Add`: the host's arithmetic built-ins, with the same results and errors.

Ints stay ints, checked: a result outside the signed 64-bit range is an `OverflowError` where
Python would grow the integer, because the Rust engine cannot carry it. A float on either side
makes a float. Anything else is a `TypeError`, booleans included, unlike Python's `bool`: a
manifest author who sends `true` meant a flag, not 1. Error messages match the host's
word for word, so a pipeline fails the same way whichever engine runs it.
"""

from __future__ import annotations

import json
from typing import Any

from remotemedia.manifest.params import media_kind
from remotemedia.node import Node

I64_MIN = -(2**63)
"""The smallest integer the Rust engine can carry."""

I64_MAX = 2**63 - 1
"""The largest integer the Rust engine can carry."""

_BRIEF_LIMIT = 60
_BRIEF_CUT = 57

Number = int | float
"""A number item or operand (never a `bool`)."""


def value_kind(value: Any) -> str:
    """Names a value's kind as the host's messages do.

    Args:
        value: Any item.

    Returns:
        One of null, bool, int, float, string, list, map, bytes, array, audio; for other
        values, the Python type name.
    """
    # bool before int: bool is a subclass of int.
    kinds: list[tuple[type | tuple[type, ...], str]] = [
        (type(None), "null"),
        (bool, "bool"),
        (int, "int"),
        (float, "float"),
        (str, "string"),
        ((list, tuple), "list"),
        (dict, "map"),
    ]
    for types, kind in kinds:
        if isinstance(value, types):
            return kind
    return media_kind(value) or type(value).__name__


def _media_form(value: Any) -> Any:
    """`json.dumps`'s fallback: a media value's JSON form, with only as much data as a brief
    can show."""
    if media_kind(value) is not None:
        from remotemedia import media  # noqa: PLC0415 -- numpy, only for media values

        return media.to_json_form(value, max_data_bytes=_BRIEF_LIMIT)
    raise TypeError(f"{type(value).__name__} has no JSON form")


def brief(value: Any) -> str:
    """Renders a value for an error message: its JSON text, cut after 60 characters.

    The JSON is compact (no spaces after separators, non-ASCII kept) and the cut counts UTF-8
    bytes and backs off to a character boundary, as the host's `serde_json` rendering does.
    Bytes, arrays and frames are rendered in their JSON form (`{"$array":{...}}`), as the
    host renders them; only the start of their data is encoded, which is all the cut keeps.

    Args:
        value: Any item.

    Returns:
        The JSON text (or `repr` for values JSON cannot hold), at most 60 bytes long.
    """
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_media_form)
    except (TypeError, ValueError, ImportError):
        text = repr(value)
    encoded = text.encode()
    if len(encoded) <= _BRIEF_LIMIT:
        return text
    # "ignore" drops a character split by the cut, which is the host's back-off to a boundary.
    return encoded[:_BRIEF_CUT].decode(errors="ignore") + "..."


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Arithmetic(Node):
    """Applies `item <symbol> operand` to every item; the subclass names the operator."""

    symbol = ""

    def __init__(self, param: str, operand: Number, name: str | None) -> None:
        super().__init__(name=name)
        if not _is_number(operand):
            raise TypeError(
                f"{self.type_name()} parameter {param} must be a number, "
                f"got {value_kind(operand)} {brief(operand)}"
            )
        # The host reads an integer parameter outside i64 as a float (serde_json's as_f64).
        in_range = isinstance(operand, float) or I64_MIN <= operand <= I64_MAX
        self.operand: Number = operand if in_range else float(operand)
        self._param = param

    @property
    def params(self) -> dict[str, Number]:
        """The constructor parameter, as a manifest writes it."""
        return {self._param: self.operand}

    def _apply(self, a: Number, b: Number) -> Number:
        raise NotImplementedError

    def process(self, data: Any) -> Number:
        """Applies the operator to one item.

        Args:
            data: An int or a float.

        Returns:
            An int when item and operand are ints, else a float.

        Raises:
            TypeError: The item is not a number (a `bool` is not one).
            OverflowError: An int result outside the signed 64-bit range.
        """
        if not _is_number(data):
            raise TypeError(
                f"{self.type_name()} expects a number, got {value_kind(data)} {brief(data)}"
            )
        b = self.operand
        if isinstance(data, int) and isinstance(b, int):
            a = int(data)  # an int subclass (IntEnum) would print its name in the message
            result = self._apply(a, b)
            if not I64_MIN <= result <= I64_MAX:
                raise OverflowError(
                    f"{self.type_name()}: {a} {self.symbol} {b} does not fit in a 64-bit integer"
                )
            return result
        return float(self._apply(float(data), float(b)))


class Multiply(_Arithmetic):
    """Multiplies every number by `factor`; an int stays an int, a float factor gives floats.

    Raises `OverflowError` for an int product outside the signed 64-bit range and `TypeError`
    for an item that is not a number, with the host's messages.
    """

    symbol = "*"

    def __init__(self, factor: float, name: str | None = None) -> None:
        """Creates the node.

        Args:
            factor: The multiplier: an int or a float, not a `bool`. Annotated `float`,
                which declares the manifest kind "number" (an int or a float).
            name: The node id; defaults to the type name.

        Raises:
            TypeError: `factor` is not a number.
        """
        super().__init__("factor", factor, name)

    def _apply(self, a: Number, b: Number) -> Number:
        return a * b


class Add(_Arithmetic):
    """Adds `addend` to every number; an int stays an int, a float addend gives floats.

    Raises `OverflowError` for an int sum outside the signed 64-bit range and `TypeError` for
    an item that is not a number, with the host's messages.
    """

    symbol = "+"

    def __init__(self, addend: float, name: str | None = None) -> None:
        """Creates the node.

        Args:
            addend: The number to add: an int or a float, not a `bool`. Annotated `float`,
                which declares the manifest kind "number" (an int or a float).
            name: The node id; defaults to the type name.

        Raises:
            TypeError: `addend` is not a number.
        """
        super().__init__("addend", addend, name)

    def _apply(self, a: Number, b: Number) -> Number:
        return a + b
