"""A node's `params` against what its class declares: unknown names, missing required ones, and
values of the wrong kind, each at `nodes[i].params.NAME` and in the host's words.

What a class declares comes from `remotemedia.discovery.describe_class`: each `__init__`
keyword (other than `name`) with its kind (int, number, string, bool, list, map, bytes, array,
audio, any), whether it is required, and whether `**kwargs` takes any other name.

Bytes, arrays and audio frames are written in their JSON form (`{"$bytes": ...}`, DESIGN §4);
`decode_params` reads them back into the values a constructor receives, as the host does.
"""

from __future__ import annotations

import sys
from typing import Any

from remotemedia.manifest.problems import describe, did_you_mean, problem

I64_MIN = -(2**63)
I64_MAX = 2**63 - 1

_NAMES = {
    "int": "integer",
    "bool": "boolean",
    "list": "array",
    "map": "object",
    "bytes": "bytes value",
    "array": "array value",
    "audio": "audio value",
}
"""A kind's name in messages, where it is not the kind itself."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _tagged(value: Any, key: str) -> bool:
    return isinstance(value, dict) and list(value) == [key]


def media_kind(value: Any) -> str | None:
    """ "bytes", "array" or "audio" for a media value (`bytes`, a numpy array, an
    `AudioFrame`); `None` for any other value.

    Looks numpy and `remotemedia.media` up instead of importing them: while they are not
    loaded no value can be an array or a frame, and whoever asks does not pay for numpy.
    """
    if isinstance(value, bytes):
        return "bytes"
    numpy, media = sys.modules.get("numpy"), sys.modules.get("remotemedia.media")
    if numpy is not None and isinstance(value, numpy.ndarray):
        return "array"
    if media is not None and isinstance(value, media.AudioFrame):
        return "audio"
    return None


def accepts(kind: str, value: Any) -> bool:
    """Whether a parameter of `kind` takes `value` as JSON carries it (integers of 64 bits);
    a bytes, array or audio parameter takes its JSON form or the value itself."""
    if kind == "int":
        return _is_int(value) and I64_MIN <= value <= I64_MAX
    if kind == "number":
        return isinstance(value, float) or (_is_int(value) and I64_MIN <= value <= I64_MAX)
    checks = {
        "string": lambda: isinstance(value, str),
        "bool": lambda: isinstance(value, bool),
        "list": lambda: isinstance(value, list),
        "map": lambda: isinstance(value, dict),
        "bytes": lambda: _tagged(value, "$bytes") or media_kind(value) == "bytes",
        "array": lambda: _tagged(value, "$array") or media_kind(value) == "array",
        "audio": lambda: _tagged(value, "$audio") or media_kind(value) == "audio",
    }
    return checks.get(kind, lambda: True)()  # "any", and kinds of a newer SDK


def _article(name: str) -> str:
    return f"an {name}" if name in ("object", "array", "integer") else f"a {name}"


def _wrong_kind(kind: str, value: Any) -> str:
    name = _NAMES.get(kind, kind)
    # A whole number no 64-bit integer holds; a whole float one would hold (200.0) is just
    # not an integer.
    whole = _is_int(value) or (
        isinstance(value, float) and value.is_integer() and not I64_MIN <= value < I64_MAX
    )
    if kind == "int" and whole:
        return f"{describe(value)} is out of range ({I64_MIN} to {I64_MAX})"
    return f"expected {_article(name)}, got {describe(value)}"


def check_params(specs: list[dict[str, Any]], extra: bool, params: Any, at: str) -> list[str]:
    """Every problem of `params` against `specs`, the parameters a node class declares.

    Args:
        specs: `{"name", "kind", "required"}` of each declared parameter.
        extra: Whether any other name is accepted (`**kwargs`).
        params: The node's `params` from the manifest; not a map, it is the schema's problem.
        at: The location of the node's `params` (`nodes[2].params`).

    Returns:
        The rendered problems: missing and wrong kinds in declaration order, then unknown names.
    """
    if not isinstance(params, dict):
        return []
    problems: list[str] = []
    for spec in specs:
        name, kind = spec["name"], spec.get("kind", "any")
        if name not in params:
            if spec.get("required"):
                wanted = _NAMES.get(kind, kind)
                problems.append(problem(at, f'missing required parameter "{name}" ({wanted})'))
        elif not accepts(kind, params[name]):
            problems.append(problem(f"{at}.{name}", _wrong_kind(kind, params[name])))
    if extra:
        return problems
    declared = [spec["name"] for spec in specs]
    for key in params:
        if key not in declared:
            none = " (this node takes no parameters)" if not declared else ""
            message = f'unknown parameter "{key}"{none}'
            problems.append(problem(f"{at}.{key}", message, did_you_mean(key, declared)))
    return problems


def decode_params(params: dict[str, Any], at: str) -> tuple[dict[str, Any], list[str]]:
    """A node's `params` with the JSON forms of media values read back (at any depth), as
    the node's constructor receives them.

    Args:
        params: The node's `params` from the manifest.
        at: Their location (`nodes[2].params`).

    Returns:
        The decoded parameters, and the problems of malformed forms, each located
        (`nodes[2].params.gain.$array.shape: ...`).
    """
    if not any(isinstance(v, dict | list) for v in params.values()):
        return params, []  # nothing could hold a form: numpy is not imported for nothing
    from remotemedia.media import from_json_form  # noqa: PLC0415 -- imports numpy

    decoded: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in params.items():
        try:
            decoded[name] = from_json_form(value, at=f"{at}.{name}")
        except ValueError as e:
            problems.append(str(e))
    return decoded, problems
