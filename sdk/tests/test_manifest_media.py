"""Media values in a manifest's `params`: their JSON forms are read back into bytes, arrays and
frames before a node is constructed (as the host reads them), written back by `to_manifest`,
checked against a parameter's kind, and a malformed one is a located problem."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from remotemedia import _native
from remotemedia.errors import ManifestError
from remotemedia.manifest.params import accepts, media_kind
from remotemedia.manifest.validate import check_manifest, validate
from remotemedia.media import AudioFrame, to_json_form
from remotemedia.node import Node
from remotemedia.pipeline import Pipeline

KERNEL = np.array([[0.25, 0.5], [0.5, 0.25]], np.float32)
CHIME = AudioFrame(np.array([[1, -1], [2, -2]], np.int16), 16000, 0.5)


class Holder(Node):
    """Keeps what its constructor received."""

    def __init__(
        self,
        header: bytes = b"",
        kernel: Any = None,
        chime: Any = None,
        extra: Any = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.header, self.kernel, self.chime, self.extra = header, kernel, chime, extra

    def process(self, data: Any) -> Any:
        return data


def _manifest(params: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "v1",
        "nodes": [{"id": "h", "node_type": "test_manifest_media:Holder", "params": params}],
    }


PARAMS = {
    "header": {"$bytes": "UklGRg=="},
    "kernel": to_json_form(KERNEL),
    "chime": to_json_form(CHIME),
    "extra": {"taps": [to_json_form(np.arange(3, dtype=np.int64))], "gain": 2},
}


@pytest.mark.parametrize("native", [True, False], ids=["native", "sdk-only"])
def test_from_manifest_gives_the_constructor_media_values(
    native: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not native:
        monkeypatch.setattr(_native, "module", lambda: None)
    (holder,) = Pipeline.from_manifest(json.dumps(_manifest(PARAMS))).nodes
    assert isinstance(holder, Holder)
    assert holder.header == b"RIFF"
    assert holder.kernel.dtype == np.float32
    assert np.array_equal(holder.kernel, KERNEL)
    assert holder.chime == CHIME
    assert np.array_equal(holder.extra["taps"][0], [0, 1, 2])
    assert holder.extra["gain"] == 2


def test_to_manifest_writes_the_forms_the_manifest_had() -> None:
    pipeline = Pipeline.from_manifest(_manifest(PARAMS))
    assert pipeline.to_manifest()["nodes"][0]["params"] == PARAMS


def test_media_values_of_a_node_built_in_code_are_written_in_their_json_form() -> None:
    pipeline = Pipeline()
    pipeline.add_node(Holder(header=b"RIFF", kernel=KERNEL, chime=CHIME, name="h"))
    written = pipeline.to_manifest()["nodes"][0]["params"]
    assert written == {k: v for k, v in PARAMS.items() if k != "extra"}
    (again,) = Pipeline.from_manifest(pipeline.serialize()).nodes
    assert isinstance(again, Holder)
    assert np.array_equal(again.kernel, KERNEL)
    assert again.chime == CHIME


def test_a_param_array_of_an_unsupported_dtype_cannot_be_written() -> None:
    pipeline = Pipeline()
    pipeline.add_node(Holder(kernel=np.zeros(2, np.float16), name="h"))
    with pytest.raises(ManifestError) as caught:
        pipeline.to_manifest()
    assert caught.value.problems == [
        "nodes[0].params.kernel: cannot pass an array of dtype float16 between nodes "
        "(dtypes: bool, uint8, int16, int32, int64, float32, float64)"
    ]


@pytest.mark.usefixtures("sdk_only")
@pytest.mark.parametrize(
    ("params", "problems"),
    [
        (
            {"header": {"$bytes": "UklGRg="}},
            ["nodes[0].params.header.$bytes: invalid base64 (standard alphabet, with padding)"],
        ),
        (
            {"extra": {"taps": [{"$array": {"dtype": "int16", "shape": [2], "data": ""}}]}},
            [
                "nodes[0].params.extra.taps[0].$array.data: 0 bytes do not match shape [2] of "
                "int16 (4 bytes)"
            ],
        ),
        (
            {"header": {"$array": PARAMS["kernel"]["$array"]}, "chime": {"$bytes": "!"}},
            [
                "nodes[0].params.header: expected a bytes value, got an object",
                "nodes[0].params.chime.$bytes: invalid base64 (standard alphabet, with padding)",
            ],
        ),
    ],
    ids=["bad-base64", "nested-wrong-length", "wrong-kind-and-bad-base64"],
)
def test_a_malformed_form_in_params_is_a_located_problem(
    params: dict[str, Any], problems: list[str]
) -> None:
    doc = _manifest(params)
    assert check_manifest(doc)[1] == problems
    assert validate(doc) == problems
    with pytest.raises(ManifestError) as caught:
        Pipeline.from_manifest(doc)
    assert caught.value.problems == problems


@pytest.fixture
def sdk_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK as it is without the native module: its own checks."""
    monkeypatch.setattr(_native, "module", lambda: None)


@pytest.mark.parametrize(
    ("kind", "value", "taken"),
    [
        ("bytes", {"$bytes": "AA=="}, True),
        ("bytes", b"\x00", True),
        ("bytes", "AA==", False),
        ("bytes", np.zeros(1, np.uint8), False),
        ("array", PARAMS["kernel"], True),
        ("array", KERNEL, True),
        ("array", [0.25, 0.5], False),
        ("array", CHIME, False),
        ("audio", PARAMS["chime"], True),
        ("audio", CHIME, True),
        ("audio", CHIME.samples, False),
        ("any", CHIME, True),
    ],
    ids=lambda case: case if isinstance(case, str) else None,
)
def test_a_media_kind_takes_its_json_form_or_the_value_itself(
    kind: str, value: Any, taken: bool
) -> None:
    assert accepts(kind, value) is taken


@pytest.mark.parametrize(
    ("value", "kind"),
    [(b"", "bytes"), (KERNEL, "array"), (CHIME, "audio"), ([KERNEL], None), ("x", None)],
    ids=repr,
)
def test_media_kind_names_media_values_only(value: Any, kind: str | None) -> None:
    assert media_kind(value) == kind
