"""The discovery cache: warm starts skip the scan; installs, corruption and errors are handled."""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from remotemedia import discovery_cache
from remotemedia.discovery import discover

if TYPE_CHECKING:
    from conftest import Sites

GOOD = '''
    from remotemedia import Node, hookimpl


    class Echo(Node):
        """Emits every item as it came."""


    @hookimpl
    def remotemedia_node_types():
        return [Echo]
'''

LATER = '''
    from remotemedia import Node, hookimpl


    class Later(Node):
        """Installed after the first discovery."""


    @hookimpl
    def remotemedia_node_types():
        return [Later]
'''


def forbid_scanning(monkeypatch: pytest.MonkeyPatch) -> None:
    """Makes any listing of installed entry points fail the test."""

    def refuse(**params: object) -> object:
        raise AssertionError("entry_points() called on a warm start")

    monkeypatch.setattr(importlib.metadata, "entry_points", refuse)


def bump_mtime(path: Path) -> None:
    """Moves a directory's modification time forward by a second, deterministically."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_warm_start_neither_lists_entry_points_nor_imports_plugins(
    sites: Sites, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sites.install("rm-good", {"good": "good_plugin"}, {"good_plugin": GOOD})
    cold = discover(cache_dir=tmp_path)
    del sys.modules["good_plugin"]
    forbid_scanning(monkeypatch)
    warm = discover(cache_dir=tmp_path)
    assert warm == cold
    assert "good_plugin" not in sys.modules
    assert [info.provider for info in warm.types if info.node_type == "Echo"] == ["rm-good"]


def test_a_changed_sys_path_mtime_triggers_a_rescan(sites: Sites, tmp_path: Path) -> None:
    site = sites.install("rm-good", {"good": "good_plugin"}, {"good_plugin": GOOD})
    assert "Later" not in {info.node_type for info in discover(cache_dir=tmp_path).types}
    sites.install("rm-later", {"later": "later_plugin"}, {"later_plugin": LATER}, site=site)
    bump_mtime(site)
    assert "Later" in {info.node_type for info in discover(cache_dir=tmp_path).types}


def test_in_place_changes_that_keep_mtimes_are_served_from_the_cache(
    sites: Sites, tmp_path: Path
) -> None:
    # The documented limit: only sys.path directories' mtimes are watched.
    site = sites.install("rm-good", {"good": "good_plugin"}, {"good_plugin": GOOD})
    mtime = site.stat().st_mtime_ns
    discover(cache_dir=tmp_path)
    sites.install("rm-later", {"later": "later_plugin"}, {"later_plugin": LATER}, site=site)
    os.utime(site, ns=(mtime, mtime))
    assert "Later" not in {info.node_type for info in discover(cache_dir=tmp_path).types}
    assert "Later" in {info.node_type for info in discover(use_cache=False).types}


def valid_document(path: Path) -> dict[str, object]:
    document: dict[str, object] = json.loads(path.read_text())
    return document


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"\xff\xfe\x00",
        b"[]",
        b'{"format": 999}',
        b'{"format": 1, "sdk_version": "0.1.0", "fingerprint": "x", "discovery": {}}',
        b"",
    ],
)
def test_a_corrupt_cache_file_is_ignored_and_rewritten(tmp_path: Path, content: bytes) -> None:
    path = discovery_cache.cache_file(tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    discovery = discover(cache_dir=tmp_path)
    assert [info.node_type for info in discovery.types][:3] == [
        "PassThroughNode",
        "Multiply",
        "Add",
    ]
    assert valid_document(path)["format"] == discovery_cache.FORMAT


def test_a_valid_file_holding_a_malformed_discovery_is_rewritten(tmp_path: Path) -> None:
    path = discovery_cache.cache_file(tmp_path)
    discovery_cache.write(path, discovery_cache.fingerprint(), {"types": "oops"})
    discovery = discover(cache_dir=tmp_path)
    assert discovery.types
    assert valid_document(path)["discovery"] != {"types": "oops"}


def test_an_unwritable_cache_dir_does_not_stop_discovery(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory would go")
    discovery = discover(cache_dir=blocker / "cache")
    assert discovery.types[0].node_type == "PassThroughNode"
    assert discover(cache_dir=blocker / "cache") == discovery


def test_use_cache_false_neither_reads_nor_writes(tmp_path: Path) -> None:
    discover(use_cache=False, cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_default_cache_dir_is_used_when_none_is_given(isolated_cache: Path) -> None:
    discover()
    assert [p.name for p in isolated_cache.iterdir()] == [discovery_cache.cache_file().name]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"REMOTEMEDIA_CACHE_DIR": "/c/rm", "XDG_CACHE_HOME": "/x"}, "/c/rm"),
        ({"XDG_CACHE_HOME": "/x"}, "/x/remotemedia"),
        ({"HOME": "/home/u"}, "/home/u/.cache/remotemedia"),
    ],
)
def test_default_dir_prefers_the_variable_then_xdg_then_home(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for name in ("REMOTEMEDIA_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert discovery_cache.default_dir() == Path(expected)


def test_environments_get_their_own_cache_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = discovery_cache.cache_file(tmp_path)
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    with_path = discovery_cache.cache_file(tmp_path)
    monkeypatch.setattr(sys, "prefix", "/another/venv")
    with_prefix = discovery_cache.cache_file(tmp_path)
    assert len({here, with_path, with_prefix}) == 3
    assert here.parent == tmp_path


def test_fingerprint_lists_existing_directories_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "lib.zip"
    archive.write_bytes(b"")
    monkeypatch.setattr(sys, "path", [str(tmp_path), str(archive), str(tmp_path / "gone")])
    assert discovery_cache.fingerprint() == [(str(tmp_path), tmp_path.stat().st_mtime_ns)]


def test_the_empty_path_entry_stands_for_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [""])
    assert discovery_cache.fingerprint() == [(str(tmp_path), tmp_path.stat().st_mtime_ns)]


def test_each_interpreter_gets_its_own_cache_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A RustPython VM cannot load a plugin that needs a C extension: its discovery must never
    # be what CPython reads, nor CPython's what a VM reads.
    cpython = discovery_cache.cache_file(tmp_path)
    monkeypatch.setattr(sys.implementation, "name", "rustpython")
    rustpython = discovery_cache.cache_file(tmp_path)
    assert cpython.parent == rustpython.parent == tmp_path
    assert cpython.name.startswith("discovery-cpython-")
    assert rustpython.name.startswith("discovery-rustpython-")
