"""The SDK's own manifest checks against the host's: every invalid manifest of the host's
fixtures (`host/tests/fixtures/manifests/invalid-*`) gives problems at the same locations as
the host's `.expected` file beside it (one `LOCATION: message` per line), except where the
table below says why not."""

from __future__ import annotations

from pathlib import Path

import pytest

from remotemedia import _native
from remotemedia.errors import ManifestError
from remotemedia.manifest.problems import location
from remotemedia.manifest.validate import check_manifest
from remotemedia.pipeline.files import load

FIXTURES = Path(__file__).resolve().parents[2] / "host" / "tests" / "fixtures" / "manifests"

INTENDED_DIFFERENCES = {
    "invalid-range-step-zero.json": (
        "a value check beyond the parameter's kind (Range's step must not be 0) is the host's "
        "built-in's; the SDK's Range makes it in its constructor, which Pipeline.from_manifest "
        "reports at nodes[0].params"
    ),
    "invalid-several-problems.json": "the same step of 0, at nodes[0].params.step",
    "invalid-runtime-hint-python.json": (
        "the host checks this fixture without starting Python, so no Python node type is "
        "known to it; the SDK is Python, and its own Multiply is a Python node type"
    ),
}
"""Fixtures whose locations must differ, and why."""

CASES = sorted(path for path in FIXTURES.glob("invalid-*") if path.suffix != ".expected")


@pytest.fixture(autouse=True)
def sdk_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's own checks: the native module (the host's checks) is left out."""
    monkeypatch.setattr(_native, "module", lambda: None)


def _sdk_locations(path: Path) -> list[str]:
    try:
        doc, _ = load(path)
    except ManifestError as error:  # text that does not parse
        return [location(p) for p in error.problems]
    return [location(p) for p in check_manifest(doc)[1]]


def _host_locations(path: Path) -> list[str]:
    expected = path.with_suffix(".expected").read_text(encoding="utf-8")
    return [location(line) for line in expected.splitlines() if line]


def test_every_invalid_fixture_is_covered() -> None:
    assert len(CASES) >= 30
    names = {path.name for path in CASES}
    assert set(INTENDED_DIFFERENCES) <= names


@pytest.mark.parametrize("path", CASES, ids=[path.name for path in CASES])
def test_the_sdks_checks_find_the_hosts_problem_locations(path: Path) -> None:
    sdk, host = _sdk_locations(path), _host_locations(path)
    if path.name in INTENDED_DIFFERENCES:
        assert sdk != host, f"{path.name} agrees now: remove it from INTENDED_DIFFERENCES"
    else:
        assert sdk == host
