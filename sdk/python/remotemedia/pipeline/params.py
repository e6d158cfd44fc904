"""A live node's constructor parameters, as `Pipeline.to_manifest` writes them.

In this order: what `Pipeline.from_manifest` constructed the node with; the node's `params`
attribute, if it is a dict (the SDK's nodes have one); else each keyword of the class's
`__init__` (other than `name`) read back from the node's attribute of the same name, left out
when equal to the keyword's default. A required keyword with no such attribute is a
`ManifestError`: the node class should have a `params` dict.

Bytes, arrays and audio frames are written in their JSON form (`{"$bytes": ...}`), which
`Pipeline.from_manifest` and the host read back.
"""

from __future__ import annotations

import inspect
from typing import Any

from remotemedia.errors import ManifestError
from remotemedia.manifest.params import media_kind
from remotemedia.manifest.problems import problem
from remotemedia.media import to_json_form
from remotemedia.node import Node

_SIGNATURES: dict[type, inspect.Signature] = {}


def _signature(cls: type) -> inspect.Signature:
    # inspect.signature is slow, and to_manifest runs before every run.
    signature = _SIGNATURES.get(cls)
    if signature is None:
        signature = _SIGNATURES[cls] = inspect.signature(cls.__init__)  # type: ignore[misc]  # a class's __init__, read from the class
    return signature


def params(index: int, node: Node) -> dict[str, Any]:
    """The parameters of `node`, the `index`-th of its pipeline, by the rules above.

    Raises:
        ManifestError: A required keyword cannot be read back, or a value has no JSON form
            (an array of an unsupported dtype).
    """
    known = getattr(node, "_remotemedia_params", None)
    if isinstance(known, dict):
        return dict(known)  # as the manifest wrote them
    declared = getattr(node, "params", None)
    if isinstance(declared, dict):
        return _written(index, declared)
    return _written(index, _read_back(index, node))


def _written(index: int, found: dict[str, Any]) -> dict[str, Any]:
    """The values as a manifest holds them: media values in their JSON form."""
    written: dict[str, Any] = {}
    for key, value in found.items():
        try:
            written[key] = to_json_form(value)
        except TypeError as e:
            at = f"nodes[{index}].params.{key}"
            raise ManifestError([problem(at, str(e))], "<pipeline>") from None
    return written


def _read_back(index: int, node: Node) -> dict[str, Any]:
    found: dict[str, Any] = {}
    signature = _signature(type(node))
    for key, parameter in list(signature.parameters.items())[1:]:
        if key == "name" or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if not hasattr(node, key):
            if parameter.default is parameter.empty:
                message = f'cannot tell the value of parameter "{key}" of {node.type_name()}'
                raise ManifestError(
                    [problem(f"nodes[{index}].params", message, 'give the class a "params" dict')],
                    "<pipeline>",
                )
            continue
        value = getattr(node, key)
        # An array compares element by element: a media value is always written.
        if (
            parameter.default is parameter.empty
            or media_kind(value) is not None
            or value != parameter.default
        ):
            found[key] = value
    return found
