"""Fixtures shared by the tests: an isolated discovery cache and fake installed distributions."""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Points the default discovery cache at a temporary directory, never at ~/.cache."""
    cache_dir = tmp_path / "default-cache"
    monkeypatch.setenv("REMOTEMEDIA_CACHE_DIR", str(cache_dir))
    return cache_dir


def invalidate_import_caches() -> None:
    """Forgets cached directory listings, importlib.metadata's included (separate on 3.11)."""
    importlib.invalidate_caches()
    importlib.metadata.MetadataPathFinder().invalidate_caches()


class Sites:
    """Creates directories on `sys.path` holding distributions installed without pip.

    A distribution is a `<name>-<version>.dist-info` folder (METADATA, entry_points.txt)
    plus its module files, which is all `importlib.metadata` looks at.
    """

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self._root = root
        self._monkeypatch = monkeypatch
        self._original = list(sys.path)
        self.paths: list[Path] = []
        self.modules: list[str] = []

    def new(self) -> Path:
        """Adds an empty directory to `sys.path`, after the ones added before it."""
        path = self._root / f"site{len(self.paths)}"
        path.mkdir()
        self.paths.append(path)
        self._monkeypatch.setattr(sys, "path", [*map(str, self.paths), *self._original])
        invalidate_import_caches()
        return path

    def install(
        self,
        dist: str,
        entry_points: dict[str, str],
        modules: dict[str, str],
        site: Path | None = None,
    ) -> Path:
        """Writes a distribution into `site` (by default the first one, created if needed).

        Args:
            dist: The distribution's name.
            entry_points: Entry points of group "remotemedia", name to object reference.
            modules: Module name to source (dedented); each becomes `<name>.py`.
            site: The directory to write into.

        Returns:
            The directory written into.
        """
        if site is None:
            site = self.paths[0] if self.paths else self.new()
        info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
        lines = [f"{name} = {target}" for name, target in entry_points.items()]
        (info / "entry_points.txt").write_text("[remotemedia]\n" + "\n".join(lines) + "\n")
        for module, source in modules.items():
            (site / f"{module}.py").write_text(textwrap.dedent(source))
            self.modules.append(module)
        invalidate_import_caches()
        return site


@pytest.fixture
def sites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sites]:
    """Fake installed distributions, removed from `sys.path` and `sys.modules` afterwards."""
    fake = Sites(tmp_path, monkeypatch)
    yield fake
    for module in fake.modules:
        sys.modules.pop(module, None)
    invalidate_import_caches()
