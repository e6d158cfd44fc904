"""`remotemedia._vm_imports`, the import hooks of a RustPython VM, checked under CPython: the
C-extension guard and how `failure` reports what it raises, and `when_imported`."""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from remotemedia import _vm, _vm_imports
from remotemedia._calls import NodeRaised, failure
from remotemedia._vm import CExtensionUnavailable

# The C-extension guard.


@pytest.fixture
def meta_path(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """`sys.meta_path`, restored afterwards."""
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    return sys.meta_path


@pytest.fixture
def fakepkg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A package whose `__init__` imports its C extension as numpy does: failing, it raises an
    `ImportError` of its own. The extension's tag is of no CPython here, so CPython's own path
    finder passes over it as RustPython's passes over every extension."""
    package = tmp_path / "fakepkg"
    package.mkdir()
    (package / "__init__.py").write_text(
        textwrap.dedent(
            """
            try:
                from . import fakeext
            except ImportError as e:
                raise ImportError("package message") from e
            """
        )
    )
    (package / "fakeext.cpython-399-x86_64-linux-gnu.so").write_bytes(b"")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield package
    sys.modules.pop("fakepkg", None)


def expected_message(fullname: str, file: Path) -> str:
    return (
        f"cannot import {fullname}: it is a C extension ({file}), and RustPython cannot load "
        'C extensions; run this pipeline on CPython (runtime.python "cpython")'
    )


def test_the_guard_names_the_extension_of_a_package_module(fakepkg: Path) -> None:
    guard = _vm_imports._CExtensionGuard()
    with pytest.raises(CExtensionUnavailable) as caught:
        guard.find_spec("fakepkg.fakeext", [str(fakepkg)])
    file = fakepkg / "fakeext.cpython-399-x86_64-linux-gnu.so"
    assert str(caught.value) == expected_message("fakepkg.fakeext", file)
    assert (caught.value.name, caught.value.path) == ("fakepkg.fakeext", str(file))
    # Not a ModuleNotFoundError, which `from . import fakeext` would swallow.
    assert type(caught.value).__mro__[1] is ImportError
    assert guard.find_spec("fakepkg.missing", [str(fakepkg)]) is None


@pytest.mark.parametrize(
    "file", ["topext.so", "topext.abi3.so", "topext.cpython-311-x86_64-linux-gnu.so", "topext.pyd"]
)
def test_the_guard_looks_on_sys_path_for_a_top_level_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file: str
) -> None:
    guard = _vm_imports._CExtensionGuard()
    monkeypatch.syspath_prepend(str(tmp_path))
    assert guard.find_spec("topext") is None
    (tmp_path / file).write_bytes(b"")
    # A directory whose time changed is listed again (set here: a file system's clock may
    # not have moved since the listing).
    times = tmp_path.stat()
    os.utime(tmp_path, ns=(times.st_atime_ns, times.st_mtime_ns + 1))
    with pytest.raises(CExtensionUnavailable, match=f"cannot import topext: .*{file}"):
        guard.find_spec("topext")


def test_the_guard_lists_a_directory_again_once_caches_are_invalidated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    guard = _vm_imports._CExtensionGuard()
    monkeypatch.syspath_prepend(str(tmp_path))
    assert guard.find_spec("topext") is None
    (tmp_path / "topext.so").write_bytes(b"")
    times = tmp_path.stat()
    os.utime(tmp_path, ns=(times.st_atime_ns, guard._listed[str(tmp_path)][0]))  # as listed
    assert guard.find_spec("topext") is None  # the listing kept
    guard.invalidate_caches()
    with pytest.raises(CExtensionUnavailable):
        guard.find_spec("topext")


@pytest.mark.parametrize("file", ["topext.py", "topext.so.1", "topext.other.so", "topextra.so"])
def test_the_guard_ignores_other_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file: str
) -> None:
    (tmp_path / file).write_bytes(b"")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _vm_imports._CExtensionGuard().find_spec("topext") is None


def test_the_guard_is_installed_once_at_the_end(meta_path: list[Any]) -> None:
    _vm.install_c_extension_guard()
    _vm.install_c_extension_guard()
    guards = [f for f in meta_path if isinstance(f, _vm_imports._CExtensionGuard)]
    assert len(guards) == 1
    assert meta_path[-1] is guards[0]


def test_failure_reports_the_extension_behind_a_packages_own_error(
    fakepkg: Path, meta_path: list[Any]
) -> None:
    _vm.install_c_extension_guard()
    with pytest.raises(ImportError, match="package message") as caught:
        __import__("fakepkg")
    file = fakepkg / "fakeext.cpython-399-x86_64-linux-gnu.so"
    node_id, kind, message, trace = failure(NodeRaised("n", caught.value, " (after 2 attempts)"))
    assert (node_id, kind) == ("n", "CExtensionUnavailable")
    assert message == expected_message("fakepkg.fakeext", file) + " (after 2 attempts)"
    # The traceback is the whole chain's, ending with the package's own error.
    assert "CExtensionUnavailable" in trace
    assert trace.rstrip().endswith("ImportError: package message")


def test_failure_finds_the_extension_in_a_context_too() -> None:
    def chained() -> BaseException:
        try:
            try:
                raise CExtensionUnavailable("inner")
            except ImportError:
                raise RuntimeError("while handling it") from None
        except RuntimeError:
            try:
                raise ValueError("outer")  # its context is the RuntimeError
            except ValueError as e:
                return e

    error = chained()
    assert error.__suppress_context__ is False
    assert failure(error)[1:3] == ("CExtensionUnavailable", "inner")
    assert failure(ValueError("alone"))[1:3] == ("ValueError", "alone")
    assert failure(ImportError("no module"), "n")[:3] == ("n", "ImportError", "no module")


def test_work_waits_for_a_modules_first_import_and_runs_once(tmp_path: Path) -> None:
    """`when_imported` (a VM's stage installs its logging handler so): now for a module
    imported already; else right after the module's first import, with the module."""
    (tmp_path / "lazy_target.py").write_text("VALUE = 42\n")
    seen: list[int] = []
    sys.path.insert(0, str(tmp_path))
    try:
        _vm.when_imported("lazy_target", lambda module: seen.append(module.VALUE))
        assert seen == []
        import lazy_target  # noqa: PLC0415, F401 -- the import is what is tested

        assert seen == [42]
        assert not any(isinstance(f, _vm_imports._AfterImport) for f in sys.meta_path)
        _vm.when_imported("lazy_target", lambda module: seen.append(module.VALUE + 1))
        assert seen == [42, 43]
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("lazy_target", None)
