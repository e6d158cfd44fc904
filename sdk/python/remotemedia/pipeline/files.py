"""Manifest text: reading JSON or TOML (from text or a file), writing TOML.

TOML is read with the standard library's `tomllib` (`tomli` on interpreters before 3.11) and
written with `tomli_w`. JSON's `null` has no TOML form: writing a manifest holding one is a
`ValueError`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import tomli_w

from remotemedia.errors import ManifestError
from remotemedia.manifest.problems import problem

# The pure-Python SDK also serves interpreters older than the wheel's 3.11 (tomli there).
if sys.version_info >= (3, 11):  # noqa: UP036 -- kept on purpose, see above
    import tomllib
else:
    import tomli as tomllib


def load(source: Any) -> tuple[Any, str]:
    """Reads a manifest given as data, text or a path (see `Pipeline.from_manifest`).

    Returns:
        The parsed document and the name of where it came from.

    Raises:
        ManifestError: The file cannot be read or the text is not JSON or TOML.
        TypeError: `source` is none of those.
    """
    if isinstance(source, dict):
        return source, "<memory>"
    if isinstance(source, str) and not _names_file(source):
        return _parse(source, "json" if _looks_like_json(source) else "toml", "<memory>")
    if not isinstance(source, str | os.PathLike):
        raise TypeError(f"a manifest is a dict, a str or a path, not {type(source).__name__}")
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ManifestError([problem("manifest", f"cannot read {path}: {e}")], str(path)) from e
    return _parse(text, "toml" if path.suffix.lower() == ".toml" else "json", str(path))


def _looks_like_json(text: str) -> bool:
    return text.lstrip()[:1] in ("{", "[")


def _names_file(text: str) -> bool:
    if "\n" in text or _looks_like_json(text):
        return False
    return text.lower().endswith((".json", ".toml")) or Path(text).is_file()


def _parse(text: str, format: str, source_name: str) -> tuple[Any, str]:
    try:
        if format == "json":
            return json.loads(text), source_name
        return tomllib.loads(text), source_name
    except json.JSONDecodeError as e:
        where = f"(line {e.lineno}, column {e.colno})"
        raise ManifestError(
            [problem("manifest", f"not valid JSON: {e.msg} {where}")], source_name
        ) from e
    except tomllib.TOMLDecodeError as e:
        raise ManifestError([problem("manifest", f"not valid TOML: {e}")], source_name) from e


def to_toml(doc: dict[str, Any]) -> str:
    """Writes a manifest as TOML.

    Raises:
        ValueError: The manifest holds a value TOML cannot: null, or an object that is not
            JSON-like.
    """
    at = _null_at(doc, "")
    if at is not None:
        raise ValueError(f"TOML has no null, but {at} is null: write this manifest as JSON")
    try:
        return tomli_w.dumps(doc)
    except TypeError as e:  # tomli_w's word for a value of a type it cannot write
        raise ValueError(f"cannot write the manifest as TOML: {e}") from e


def _null_at(value: Any, at: str) -> str | None:
    """Where the first null of a manifest is (`nodes[0].params.x`), or `None`."""
    if value is None:
        return at or "manifest"
    if isinstance(value, dict):
        places = (_null_at(v, f"{at}.{k}" if at else str(k)) for k, v in value.items())
    elif isinstance(value, list | tuple):
        places = (_null_at(v, f"{at}[{i}]") for i, v in enumerate(value))
    else:
        return None
    return next((place for place in places if place is not None), None)
