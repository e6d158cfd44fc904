"""The discovery cache: one JSON file per environment and interpreter, valid while nothing it
describes changed.

Two kinds of stamps are kept, each a path and its modification time (`st_mtime_ns`):
- every existing directory on `sys.path`: installing or uninstalling a distribution adds or
  removes a `*.dist-info` directory in site-packages, which changes site-packages' time;
- every file of the modules the scan imported (the plugins, what they import), of the plugin
  modules and of the modules that define the node types found, with its size: editing a
  plugin in place, as one does with an editable install (adding a node class, changing a
  constructor), changes its file's time (and, as a rule, its size).

A warm start stats those paths (a few dozen) and reads one file.

Reading the cache never imports a plugin nor lists the installed distributions. A file that
cannot be read or parsed counts as missing (and is rewritten); a directory that cannot be
written leaves discovery uncached but working.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import zlib
from pathlib import Path

from remotemedia import __version__

# typing costs start-up time and is needed for annotations only (mypy reads this name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

FORMAT = 4
"""The layout of the cache file; a file of another format is ignored."""

Fingerprint = list[tuple[str, int]]
"""`(directory, st_mtime_ns)` for every existing directory on `sys.path`, in order."""


def _debug(message: str, *args: object) -> None:
    # logging loads only when there is something to say: a warm start pays nothing for it.
    import logging  # noqa: PLC0415 -- see above

    logging.getLogger(__name__).debug(message, *args)


def default_dir() -> Path:
    """Returns where the cache lives when the caller does not say.

    Returns:
        `$REMOTEMEDIA_CACHE_DIR`, else `$XDG_CACHE_HOME/remotemedia`, else
        `~/.cache/remotemedia`.
    """
    if explicit := os.environ.get("REMOTEMEDIA_CACHE_DIR"):
        return Path(explicit)
    if xdg := os.environ.get("XDG_CACHE_HOME"):
        return Path(xdg) / "remotemedia"
    return Path.home() / ".cache" / "remotemedia"


def _path_entries() -> list[str]:
    # "" stands for the working directory, which is part of what the import system sees.
    return [entry or os.getcwd() for entry in sys.path]


_sandboxed: list[Path | None] = []
"""Set once in a sandboxed worker: the one cache file it may read (None: none)."""


def enabled() -> bool:
    """Whether discovery may read a cache in this process."""
    return not _sandboxed or _sandboxed[0] is not None


def writable() -> bool:
    """Whether discovery may write the cache in this process (not in a sandbox)."""
    return not _sandboxed


def read_only(path: Path | None) -> None:
    """Makes every later discovery in this process read the cache only from `path` (the file
    a sandboxed worker's sandbox lets it read), and never write it; `None`: always scan."""
    _sandboxed[:] = [path]


def cache_file(cache_dir: Path | None = None) -> Path:
    """Names this environment's cache file (in a sandboxed worker: the one it may read).

    Args:
        cache_dir: The cache directory; `None` for `default_dir()`.

    Returns:
        A file whose name hashes `sys.prefix` and the `sys.path` entries, so environments
        (virtualenvs, PYTHONPATH settings) sharing a cache directory do not share a file,
        and names the interpreter (`sys.implementation.name`): a plugin that needs a C
        extension fails to load in RustPython, so its discovery there is not CPython's.
    """
    if _sandboxed and _sandboxed[0] is not None:
        return _sandboxed[0]
    key = "\0".join([sys.prefix, *_path_entries()])
    # Two CRC-32s, not a cryptographic hash: importing hashlib loads OpenSSL (~6 ms of every
    # warm start), and a clash between two environments costs one rescan, since the file
    # holds the full fingerprint it is checked against.
    raw = key.encode("utf-8", "surrogateescape")
    digest = f"{zlib.crc32(raw):08x}{zlib.crc32(raw[::-1]):08x}"
    name = f"discovery-{sys.implementation.name}-{digest}.json"
    return (cache_dir if cache_dir is not None else default_dir()) / name


def fingerprint() -> Fingerprint:
    """Takes the fingerprint of the current `sys.path`.

    Returns:
        Path and `st_mtime_ns` of every entry that is an existing directory; zip files and
        missing entries are left out, so one that appears later changes the fingerprint.
    """
    prints: Fingerprint = []
    for entry in _path_entries():
        try:
            stat = os.stat(entry)
        except (OSError, ValueError):  # ValueError: a path with a NUL byte
            continue
        if os.path.isdir(entry):
            prints.append((entry, stat.st_mtime_ns))
    return prints


def read(path: Path, current: Fingerprint) -> Any | None:
    """Returns the cached payload if the file is intact and its fingerprint is `current`.

    Args:
        path: The cache file.
        current: The fingerprint taken now.

    Returns:
        The payload `write` stored, or `None` when there is no valid entry.
    """
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:  # UnicodeDecodeError is a ValueError
        _debug("ignoring unreadable discovery cache %s: %s", path, error)
        return None
    if not isinstance(stored, dict) or stored.get("format") != FORMAT:
        return None
    if stored.get("sdk_version") != __version__:
        return None  # the SDK's own nodes come from the SDK: another version, other nodes
    prints = stored.get("fingerprint")
    if not isinstance(prints, list) or not all(isinstance(p, list) and len(p) == 2 for p in prints):
        return None
    if [tuple(p) for p in prints] != current:
        return None
    files = stored.get("files")
    if not isinstance(files, list) or not all(_unchanged(entry) for entry in files):
        return None
    return stored.get("discovery")


def _stamp(path: str) -> list[int] | None:
    # Size beside the time: an edit that keeps the time (`cp -p`, `touch -r`) rarely keeps it.
    try:
        stat = os.stat(path)
    except (OSError, ValueError):
        return None
    return [stat.st_mtime_ns, stat.st_size]


def _unchanged(entry: Any) -> bool:
    """Whether a stored `[path, [st_mtime_ns, st_size]]` still holds (a vanished file does
    not)."""
    return (
        isinstance(entry, list)
        and len(entry) == 2
        and isinstance(entry[0], str)
        and _stamp(entry[0]) == entry[1]
    )


def write(path: Path, current: Fingerprint, payload: Any, files: Iterable[str] = ()) -> None:
    """Stores a payload with its fingerprint; failing to write is logged, not raised.

    The file is written next to its destination and renamed over it, so a concurrent reader
    sees the old file or the new one, never half of one.

    Args:
        path: The cache file.
        current: The fingerprint the payload was computed under.
        payload: JSON-serializable data.
        files: Files whose edits make the payload stale (their times are stored now).
    """
    stamps = [[file, stamp] for file in files if (stamp := _stamp(file)) is not None]
    document = {
        "format": FORMAT,
        "sdk_version": __version__,
        "fingerprint": current,
        "files": stamps,
        "discovery": payload,
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        import tempfile  # noqa: PLC0415 -- writes happen after a scan only, never when warm

        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f"{path.name}.", suffix=".tmp")
    except OSError as error:
        _debug("cannot write discovery cache %s: %s", path, error)
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle)
        os.replace(temp, path)
    except OSError as error:
        _debug("cannot write discovery cache %s: %s", path, error)
        with contextlib.suppress(OSError):
            os.unlink(temp)
