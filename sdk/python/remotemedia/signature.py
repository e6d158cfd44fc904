"""What a node class's constructor declares, read before any instance exists (DESIGN §5):
each parameter's name, kind (from its annotation), whether it is required, and its default."""

from __future__ import annotations

import json

from remotemedia.node import Node

# typing costs start-up time and is needed for annotations only (mypy reads this name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["constructor_params", "param_kind"]

_KINDS = {
    "int": "int",
    "float": "number",
    "str": "string",
    "bool": "bool",
    "list": "list",
    "dict": "map",
    "bytes": "bytes",
    "ndarray": "array",
    "AudioFrame": "audio",
}
"""Annotation (by name, so string annotations map alike) -> parameter kind (DESIGN §5)."""


def param_kind(annotation: Any) -> str:
    """The parameter kind an `__init__` annotation declares; "any" for none or any other.

    Args:
        annotation: The annotation object, or its text (`from __future__ import annotations`).

    Returns:
        One of int, number, string, bool, list, map, bytes, array, audio, any.
    """
    if isinstance(annotation, str):
        # An annotation that could not be evaluated: "list[int]" is a list, "np.ndarray" an
        # array; "int | float" a number; any other union (say "int | None") is not one kind.
        if {part.strip() for part in annotation.split("|")} == {"int", "float"}:
            return "number"
        name = annotation.strip().split("[", 1)[0].rsplit(".", 1)[-1]
        return _KINDS.get(name, "any") if "|" not in annotation else "any"
    members = getattr(annotation, "__args__", None)
    if type(annotation).__name__ in ("UnionType", "_UnionGenericAlias") and members:
        return "number" if set(members) == {int, float} else "any"
    origin = getattr(annotation, "__origin__", None)
    target = origin if isinstance(origin, type) else annotation
    if isinstance(target, type) and target.__name__ in _KINDS:
        return _KINDS[target.__name__]
    return "any"


def _json_default(value: Any) -> tuple[bool, Any]:
    """`(True, value)` when JSON can hold a default as it is, else `(False, None)` (NaN and the
    infinities included: JSON has no form for them)."""
    if value is None or isinstance(value, bool | str):
        return True, value
    if isinstance(value, int):
        return (True, value) if -(2**63) <= value < 2**63 else (False, None)
    if isinstance(value, float | list | tuple | dict):
        try:
            return True, json.loads(json.dumps(value, allow_nan=False))
        except (TypeError, ValueError, RecursionError):
            return False, None
    return False, None


def constructor_params(node_class: type[Node]) -> tuple[list[dict[str, Any]], bool]:
    """A node class's parameters as `nodes --json` lists them, from its `__init__`.

    Args:
        node_class: The class.

    Returns:
        Each parameter other than `name` as `{"name", "kind", "required"}`, plus `"default"`
        when it has one that JSON can hold; and whether `**kwargs` accepts any other name.
    """
    import inspect  # noqa: PLC0415 -- scans only; a warm start (the cache) skips it

    init = node_class.__init__
    if init is Node.__init__:
        return [], False  # the base class rejects every parameter
    try:
        signature = inspect.signature(init)
    except (TypeError, ValueError):
        return [], True  # a constructor Python cannot introspect: its own checks apply
    try:
        # Evaluates string annotations (`from __future__ import annotations`) and aliases, in
        # the function's module, without importing `typing` (start-up time).
        hints = inspect.get_annotations(init, eval_str=True)
    except Exception:  # noqa: BLE001 -- an annotation that does not evaluate: read its text
        hints = {}
    params: list[dict[str, Any]] = []
    extra = False
    for key, parameter in list(signature.parameters.items())[1:]:
        if parameter.kind is parameter.VAR_KEYWORD:
            extra = True
            continue
        if key == "name" or parameter.kind in (parameter.VAR_POSITIONAL, parameter.POSITIONAL_ONLY):
            continue
        annotation = hints.get(key, parameter.annotation)
        entry: dict[str, Any] = {
            "name": key,
            "kind": param_kind(None if annotation is parameter.empty else annotation),
            "required": parameter.default is parameter.empty,
        }
        if parameter.default is not parameter.empty:
            known, default = _json_default(parameter.default)
            if known:
                entry["default"] = default
        params.append(entry)
    return params, extra
