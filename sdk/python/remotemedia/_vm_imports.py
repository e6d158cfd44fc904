"""Import hooks of a RustPython VM: the C-extension guard, and work to do once a module is
imported (`when_imported`).

Imported by `remotemedia._vm`; loads nothing but `sys` (the VM's start-up pays for every module
imported here).
"""

from __future__ import annotations

import sys

# typing costs start-up time and is needed for annotations only (mypy reads this name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType
    from typing import Any


# C extensions.


class CExtensionUnavailable(ImportError):
    """A module is a C extension, which RustPython cannot load. `name` is the module, `path`
    the extension's file.

    Not a `ModuleNotFoundError`: `from package import module` swallows that one when it names
    the module, and reports only that the name cannot be imported."""


def _extension_stem(entry: str) -> str | None:
    """The module a C extension's file name is of (`stem.so`, `stem.abi3.so`,
    `stem.cpython-<tag>.so`, `stem.pyd`, `stem.<tag>.pyd`), or None for another file."""
    stem, dot, rest = entry.partition(".")
    if not dot or not stem:
        return None
    if rest in ("so", "pyd") or rest.endswith(".pyd"):
        return stem
    if rest.endswith(".so"):
        tag = rest[:-3]
        return stem if tag == "abi3" or tag.startswith("cpython-") else None
    return None


class _CExtensionGuard:
    """The last finder of `sys.meta_path`: asked only when every other finder failed, it looks
    for a C extension of that name where the module would be, and raises
    `CExtensionUnavailable` if it finds one. RustPython lists no extension suffixes, so its
    path finder passes over such a file and the import would say the module is missing.

    Code tries optional imports often (`try: import _speedups`): each directory's extensions
    are listed once and kept while its modification time stays, as importlib's own path
    finder does, so a failed import costs a `stat` per directory."""

    _remotemedia_c_extension_guard = True

    def __init__(self) -> None:
        self._listed: dict[str, tuple[int, dict[str, str]]] = {}

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        """Raises `CExtensionUnavailable` for a C extension; None (not found) otherwise."""
        stem = fullname.rpartition(".")[2]
        for directory in list(path if path is not None else sys.path):
            if isinstance(directory, str) and (file := self._extensions(directory).get(stem)):
                error = CExtensionUnavailable(
                    f"cannot import {fullname}: it is a C extension ({file}), and "
                    "RustPython cannot load C extensions; run this pipeline on CPython "
                    '(runtime.python "cpython")'
                )
                error.name, error.path = fullname, file
                raise error
        return None

    def _extensions(self, directory: str) -> dict[str, str]:
        """The C extensions in `directory`: module name to file."""
        import os  # noqa: PLC0415 -- only once an import has failed

        try:
            mtime = os.stat(directory or ".").st_mtime_ns
        except (OSError, ValueError):  # ValueError: a path with a NUL byte
            return {}
        listed = self._listed.get(directory)
        if listed is not None and listed[0] == mtime:
            return listed[1]
        found: dict[str, str] = {}
        try:
            entries = sorted(os.listdir(directory or "."))
        except (OSError, ValueError):
            entries = []
        for entry in entries:
            stem = _extension_stem(entry)
            if stem is not None and stem not in found:
                found[stem] = os.path.join(directory, entry)
        self._listed[directory] = (mtime, found)
        return found

    def invalidate_caches(self) -> None:
        """Forgets the directories listed (`importlib.invalidate_caches`)."""
        self._listed.clear()


def install_c_extension_guard() -> None:
    """Appends the C-extension guard to the end of `sys.meta_path`, once."""
    if not any(getattr(f, "_remotemedia_c_extension_guard", False) for f in sys.meta_path):
        sys.meta_path.append(_CExtensionGuard())


def c_extension_cause(error: BaseException) -> CExtensionUnavailable | None:
    """The `CExtensionUnavailable` behind `error`: itself, or one of its causes or contexts
    (a package that catches the `ImportError` of its extension and raises its own)."""
    todo: list[BaseException | None] = [error]
    seen: set[int] = set()
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        if isinstance(current, CExtensionUnavailable):
            return current
        seen.add(id(current))
        todo += (current.__context__, current.__cause__)
    return None


class _AfterImport:
    """The first finder of `sys.meta_path` while a module has work waiting for its import: it
    finds the module's spec with the other finders and runs the work once the module has
    executed. Asked for any other name, it says nothing."""

    def __init__(self, name: str, then: Callable[[ModuleType], None]) -> None:
        self._name, self._then = name, then

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        """The module's own spec, its loader wrapped; None for another name."""
        if fullname != self._name:
            return None
        sys.meta_path.remove(self)
        for finder in sys.meta_path:
            find: Any = getattr(finder, "find_spec", None)
            spec: ModuleSpec | None = None if find is None else find(fullname, path, target)
            if spec is not None and spec.loader is not None:
                loader: Any = _Then(spec.loader, self._then)
                spec.loader = loader
                return spec
        return None


class _Then:
    """A loader that runs `then(module)` after the loader it wraps has executed the module."""

    def __init__(self, loader: Any, then: Callable[[ModuleType], None]) -> None:
        self._loader, self._then = loader, then

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        """As the wrapped loader."""
        create: Any = getattr(self._loader, "create_module", None)
        return None if create is None else create(spec)

    def exec_module(self, module: ModuleType) -> None:
        """Executes the module, then the work waiting for it."""
        self._loader.exec_module(module)
        self._then(module)


def when_imported(name: str, then: Callable[[ModuleType], None]) -> None:
    """Runs `then(module)` once top-level module `name` is imported: now if it is already,
    else right after its first import, wherever that happens (node code, say). Lets a VM's
    stage leave `logging` unimported (it costs RustPython ~50 ms) until something uses it."""
    module = sys.modules.get(name)
    if module is not None:
        then(module)
    else:
        sys.meta_path.insert(0, _AfterImport(name, then))


class _NoPythonApi:
    """`ctypes.pythonapi` in a VM: the process's libpython is the host's CPython, not this
    interpreter, and calling into it from a VM's thread crashes the host (a SIGSEGV) or runs
    code in the calling program's interpreter."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(
            f"ctypes.pythonapi.{name}: a RustPython VM has no CPython C API (the process's "
            "libpython belongs to CPython); run this pipeline on CPython"
        )


def without_pythonapi(ctypes: ModuleType) -> None:
    """Replaces `ctypes.pythonapi` (see `_NoPythonApi`); for `when_imported("ctypes", ...)`."""
    ctypes.pythonapi = _NoPythonApi()  # type: ignore[attr-defined]
