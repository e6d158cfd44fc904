"""A live node's constructor parameters, as `Pipeline.to_manifest` writes them.

In this order: what `Pipeline.from_manifest` constructed the node with; the node's `params`
attribute, if it is a dict (the SDK's nodes have one); else each keyword of the class's
`__init__` (other than `name`) read back from the node's attribute of the same name, left out
when equal to the keyword's default. A required keyword with no such attribute is a
`ManifestError`: the node class should have a `params` dict.
"""

from __future__ import annotations

import inspect
from typing import Any

from remotemedia.errors import ManifestError
from remotemedia.manifest.problems import problem
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
        ManifestError: A required keyword cannot be read back.
    """
    known = getattr(node, "_remotemedia_params", None)
    if isinstance(known, dict):
        return dict(known)
    declared = getattr(node, "params", None)
    if isinstance(declared, dict):
        return dict(declared)
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
        if parameter.default is parameter.empty or value != parameter.default:
            found[key] = value
    return found
