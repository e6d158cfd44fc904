"""Session fixtures: the host binary and the virtualenvs the end-to-end tests run it with.

- `shapes_env`: the SDK and remotemedia-testshapes; the plugin set most tests see.
- `mixed_env`: the same plus remotemedia-brokenplugin (fails at import) and
  remotemedia-otherplugin (registers "CountDown" too, and "Negate").
- `bare_env`: a virtualenv with nothing installed, not even the SDK.

`runtime` parametrizes a test over the Python runtimes a pipeline's nodes may run on
(`--runtime cpython|rustpython`, DESIGN §8, §10).

All are made with the dev environment's Python (`.venv`), the version the host links, and
the packages are installed from wheels built once per session.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import PLUGINS, SDK, build_wheels, host_binary, make_venv, pip_install

RUNTIMES = ("cpython", "rustpython")
"""The values of `--runtime`: CPython in the host process, or a RustPython VM per pipeline."""

PLUGIN_NAMES = ("remotemedia-testshapes", "remotemedia-brokenplugin", "remotemedia-otherplugin")


@dataclass(frozen=True)
class Envs:
    """The session's virtualenvs."""

    shapes: Path
    mixed: Path
    bare: Path
    sdk_wheel: Path


@pytest.fixture(scope="session", autouse=True)
def host() -> Path:
    """The host binary; every test fails with a clear message when it is missing."""
    path = host_binary()
    if not path.is_file():
        pytest.fail(f"no host binary at {path}: run `make setup` (or set REMOTEMEDIA_HOST)")
    return path


@pytest.fixture(scope="session", autouse=True)
def discovery_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keeps the host's plugin-discovery cache out of the user's home."""
    path = tmp_path_factory.mktemp("discovery-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REMOTEMEDIA_CACHE_DIR", str(path))
        yield path


@pytest.fixture(scope="session")
def envs(tmp_path_factory: pytest.TempPathFactory) -> Envs:
    """Builds the wheels once and installs them into the three virtualenvs."""
    root = tmp_path_factory.mktemp("envs")
    shapes = make_venv(root / "shapes", with_pip=True)
    # The SDK's dependencies (pip_install takes none on its own: --no-deps).
    pip_install(shapes, shapes, ["numpy", "pluggy>=1.5", "tomli_w", "wheel", "packaging"])
    wheels = build_wheels(shapes, [SDK, *(PLUGINS / name for name in PLUGIN_NAMES)], root)
    sdk = wheels[SDK.name]
    pip_install(shapes, shapes, [sdk, wheels["remotemedia-testshapes"]])
    mixed = make_venv(root / "mixed", with_pip=False)
    pip_install(
        shapes,
        mixed,
        ["numpy", "pluggy>=1.5", "tomli_w", sdk, *(wheels[name] for name in PLUGIN_NAMES)],
    )
    bare = make_venv(root / "bare", with_pip=False)
    return Envs(shapes=shapes, mixed=mixed, bare=bare, sdk_wheel=sdk)


@pytest.fixture
def shapes_env(envs: Envs) -> Path:
    """The virtualenv with the SDK and remotemedia-testshapes only."""
    return envs.shapes


@pytest.fixture
def mixed_env(envs: Envs) -> Path:
    """The virtualenv that also has the broken and the clashing plugin."""
    return envs.mixed


@pytest.fixture
def bare_env(envs: Envs) -> Path:
    """A virtualenv of the right Python version without the SDK."""
    return envs.bare


@pytest.fixture(params=RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> str:
    """The Python runtime a test passes to `run` as `--runtime`: each test that takes this
    fixture runs once on CPython and once on RustPython."""
    value: str = request.param
    return value
