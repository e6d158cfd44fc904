"""The manifest's structure: the committed JSON Schema, interpreted as the host interprets it.

`SCHEMA` is the committed `remotemedia/manifest.schema.json`, the same file the host embeds,
read with the host's keywords and wording, so the SDK reports a structural problem in the same
words as `remotemedia-host validate`.
"""

from __future__ import annotations

import importlib.resources
import json
from typing import Any

from remotemedia.manifest.problems import describe, did_you_mean, problem


def _annotations_removed(schema: Any, names: bool = False) -> Any:
    """The schema without annotations; `names` marks a `properties` map, whose keys are
    field names (a field may be called "description")."""
    if not isinstance(schema, dict):
        return schema
    skipped = set() if names else {"$schema", "$id", "title", "description", "default", "$defs"}
    return {
        k: _annotations_removed(v, names=k == "properties" and not names)
        for k, v in schema.items()
        if k not in skipped
    }


def _refs_inlined(schema: Any, defs: dict[str, Any]) -> Any:
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _refs_inlined(defs[schema["$ref"].rsplit("/", 1)[1]], defs)
        return {k: _refs_inlined(v, defs) for k, v in schema.items()}
    return schema


def _load_schema() -> dict[str, Any]:
    committed = json.loads(
        importlib.resources.files("remotemedia").joinpath("manifest.schema.json").read_text()
    )
    rules: dict[str, Any] = _annotations_removed(_refs_inlined(committed, committed["$defs"]))
    return rules


SCHEMA: dict[str, Any] = _load_schema()
"""The committed schema's rules: its `$ref`s inlined, its annotations left out."""

_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "number": (int, float),
    "integer": int,
    "boolean": bool,
}


def check_structure(doc: Any) -> list[str]:
    """Checks a parsed manifest against `SCHEMA`; returns every problem, in document order."""
    out: list[str] = []
    _check(SCHEMA, doc, "", out)
    return out


def _at(location: str) -> str:
    return location or "manifest"


def _check(schema: dict[str, Any], value: Any, at: str, out: list[str]) -> None:
    expected = schema.get("type")
    # A bool is an int to Python, but neither an integer nor a number to JSON Schema.
    if expected is not None and (
        not isinstance(value, _TYPES[expected])
        or (isinstance(value, bool) and expected != "boolean")
    ):
        article = "an" if expected in ("object", "array", "integer") else "a"
        out.append(problem(_at(at), f"expected {article} {expected}, got {describe(value)}"))
        return
    allowed = schema.get("enum")
    if allowed is not None and (value not in allowed or isinstance(value, bool)):
        options = ", ".join(json.dumps(option) for option in allowed)
        hint = did_you_mean(value, allowed) if isinstance(value, str) else None
        out.append(problem(_at(at), f"expected one of {options}, got {describe(value)}", hint))
        return
    if isinstance(value, dict):
        props: dict[str, Any] = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                out.append(problem(_at(at), f'missing required field "{name}"'))
        for key, item in value.items():
            place = f"{at}.{key}" if at else key
            if key in props:
                _check(props[key], item, place, out)
            elif schema.get("additionalProperties") is False:
                out.append(problem(place, f'unknown field "{key}"', did_you_mean(key, props)))
    elif isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            out.append(problem(_at(at), f"needs at least {schema['minItems']} entry"))
        for i, item in enumerate(value):
            _check(schema.get("items", {}), item, f"{at}[{i}]", out)
    elif isinstance(value, str) and len(value) < schema.get("minLength", 0):
        out.append(problem(_at(at), "must not be empty"))
    elif isinstance(value, int | float):
        if "minimum" in schema and value < schema["minimum"]:
            out.append(problem(_at(at), f"must be at least {schema['minimum']}, got {value}"))
        if "maximum" in schema and value > schema["maximum"]:
            out.append(problem(_at(at), f"must be at most {schema['maximum']}, got {value}"))
