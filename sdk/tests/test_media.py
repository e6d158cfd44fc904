"""Media values (`remotemedia.media`): `AudioFrame`, what may pass between nodes, payload
bytes, and the JSON-lines forms of bytes, arrays and frames."""

from __future__ import annotations

import base64
import json
import pickle
from typing import Any

import numpy as np
import pytest

import remotemedia
from remotemedia.media import (
    SUPPORTED_DTYPES,
    AudioFrame,
    check_item,
    from_json_form,
    payload_bytes,
    to_json_form,
)

UNSUPPORTED = "between nodes (dtypes: bool, uint8, int16, int32, int64, float32, float64)"


# --- AudioFrame


@pytest.mark.parametrize(
    ("samples", "rate", "channels", "duration"),
    [
        (np.zeros(960, np.float32), 48000, 1, 0.02),
        (np.zeros((320, 2), np.int16), 16000, 2, 0.02),
        (np.zeros((8, 1), np.float32), 8, 1, 1.0),
        (np.zeros(0, np.int16), 8000, 1, 0.0),
        (np.zeros((0, 6), np.float32), 48000, 6, 0.0),
        (np.zeros((4, 2), ">i2"), 8, 2, 0.5),
    ],
    ids=["mono-float32", "stereo-int16", "one-column", "empty", "empty-six-channels", "big-end"],
)
def test_a_frame_holds_its_samples_by_reference(
    samples: np.ndarray[Any, Any], rate: int, channels: int, duration: float
) -> None:
    frame = AudioFrame(samples, rate, timestamp=1.5)
    assert frame.samples is samples
    assert (frame.sample_rate, frame.timestamp) == (rate, 1.5)
    assert (frame.channels, frame.duration) == (channels, duration)
    assert remotemedia.AudioFrame is AudioFrame


def test_a_frame_takes_numpy_scalars_and_stores_plain_numbers() -> None:
    frame = AudioFrame(np.zeros(4, np.float32), np.uint32(8000), np.float32(0.5))
    assert type(frame.sample_rate) is int
    assert type(frame.timestamp) is float
    assert AudioFrame(np.zeros(4, np.float32), 8000, 2).timestamp == 2.0


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (([0.0, 1.0], 8000), TypeError, "AudioFrame samples must be a numpy array, got list"),
        (
            (np.zeros(4), 8000),
            TypeError,
            "AudioFrame samples must be float32 or int16, got float64",
        ),
        (
            (np.zeros(4, np.float16), 8000),
            TypeError,
            "AudioFrame samples must be float32 or int16, got float16",
        ),
        (
            (np.zeros((2, 2, 2), np.float32), 8000),
            ValueError,
            "AudioFrame samples must have shape (n,) or (n, channels), got shape (2, 2, 2)",
        ),
        (
            (np.zeros((), np.float32), 8000),
            ValueError,
            "AudioFrame samples must have shape (n,) or (n, channels), got shape ()",
        ),
        (
            (np.zeros((4, 0), np.float32), 8000),
            ValueError,
            "AudioFrame samples must have at least one channel, got shape (4, 0)",
        ),
        (
            (np.zeros(4, np.float32), 8000.0),
            TypeError,
            "AudioFrame sample_rate must be an integer, got float",
        ),
        (
            (np.zeros(4, np.float32), True),
            TypeError,
            "AudioFrame sample_rate must be an integer, got bool",
        ),
        (
            (np.zeros(4, np.float32), 0),
            ValueError,
            "AudioFrame sample_rate must be from 1 to 4294967295, got 0",
        ),
        (
            (np.zeros(4, np.float32), 2**32),
            ValueError,
            "AudioFrame sample_rate must be from 1 to 4294967295, got 4294967296",
        ),
        (
            (np.zeros(4, np.float32), 8000, "0"),
            TypeError,
            "AudioFrame timestamp must be a number, got str",
        ),
        (
            (np.zeros(4, np.float32), 8000, float("nan")),
            ValueError,
            "AudioFrame timestamp must be finite, got nan",
        ),
        (
            (np.zeros(4, np.float32), 8000, float("-inf")),
            ValueError,
            "AudioFrame timestamp must be finite, got -inf",
        ),
    ],
    ids=lambda case: case if isinstance(case, str) else None,
)
def test_a_frame_says_what_is_wrong(
    args: tuple[Any, ...], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as caught:
        AudioFrame(*args)
    assert str(caught.value) == message


def test_a_frames_attributes_are_read_only() -> None:
    frame = AudioFrame(np.zeros(4, np.float32), 8000)
    for name in ("samples", "sample_rate", "timestamp", "channels", "duration"):
        with pytest.raises(AttributeError):
            setattr(frame, name, 1)
    with pytest.raises(AttributeError):
        frame.extra = 1  # type: ignore[attr-defined]  # __slots__: no other attribute


def test_frames_are_equal_by_rate_time_dtype_shape_and_samples() -> None:
    samples = np.arange(8, dtype=np.int16)
    frame = AudioFrame(samples, 8000, 0.5)
    assert frame == AudioFrame(samples.copy(), 8000, 0.5)
    assert frame == AudioFrame(samples.astype(">i2"), 8000, 0.5)
    assert frame != AudioFrame(samples, 16000, 0.5)
    assert frame != AudioFrame(samples, 8000, 0.0)
    assert frame != AudioFrame(samples.astype(np.float32), 8000, 0.5)
    assert frame != AudioFrame(samples.reshape(4, 2), 8000, 0.5)
    assert frame != AudioFrame(samples[::-1].copy(), 8000, 0.5)
    assert frame != "frame"
    with pytest.raises(TypeError):
        hash(frame)


def test_from_parts_makes_the_same_frame_as_the_constructor() -> None:
    samples = np.zeros((4, 2), np.float32)
    made = AudioFrame._from_parts(samples, 8000, 0.25)
    assert type(made) is AudioFrame
    assert made == AudioFrame(samples, 8000, 0.25)
    assert made.samples is samples
    assert (made.channels, made.duration) == (2, 0.0005)


def test_a_frames_repr_is_short_and_it_pickles() -> None:
    frame = AudioFrame(np.zeros((48000, 2), np.float32), 48000, 3.0)
    assert repr(frame) == (
        "AudioFrame(48000 samples x 2 channels float32, sample_rate=48000, timestamp=3.0)"
    )
    assert pickle.loads(pickle.dumps(frame)) == frame


# --- check_item and payload_bytes


@pytest.mark.parametrize(
    "item",
    [
        None,
        1,
        "s",
        b"bytes",
        *(np.zeros(2, dtype) for dtype in SUPPORTED_DTYPES),
        np.zeros(2, ">f4"),  # the host copies a big-endian array once, in little-endian order
        AudioFrame(np.zeros(2, np.int16), 8000),
        [np.zeros(2), {"k": (np.zeros(1, np.uint8), b"x")}],
        {1},  # passes by reference on the Python executor, as any other object
    ],
    ids=repr,
)
def test_items_that_may_pass_between_nodes(item: Any) -> None:
    check_item(item)


@pytest.mark.parametrize(
    ("item", "dtype"),
    [
        (np.zeros(2, np.float16), "float16"),
        (np.array(["a"]), "str32"),
        (np.array([None]), "object"),
        (np.zeros(2, np.complex64), "complex64"),
        (np.zeros(2, ">f2"), "float16"),
        ([1, {"k": [np.zeros(2, np.uint16)]}], "uint16"),
        ((np.zeros(1), np.zeros(1, np.int8)), "int8"),
    ],
    ids=lambda case: case if isinstance(case, str) else None,
)
def test_an_array_of_another_dtype_cannot_pass_in_the_hosts_words(item: Any, dtype: str) -> None:
    with pytest.raises(TypeError) as caught:
        check_item(item)
    assert str(caught.value) == f"cannot pass an array of dtype {dtype} {UNSUPPORTED}"


def test_checks_and_sizes_end_on_a_list_that_contains_itself() -> None:
    looped: list[Any] = [np.zeros(4, np.uint8)]
    looped.append(looped)
    check_item(looped)
    assert payload_bytes(looped) == 4


@pytest.mark.parametrize(
    ("item", "size"),
    [
        (None, 0),
        (12, 0),
        ("a string is not media", 0),
        (b"abc", 3),
        (np.zeros((3, 4), np.float64), 96),
        (np.zeros(10, np.float32)[::2], 20),
        (AudioFrame(np.zeros((480, 2), np.int16), 48000), 1920),
        ([b"ab", (np.zeros(2, np.int32), {"k": b"c"}), "x"], 11),
    ],
    ids=repr,
)
def test_payload_bytes_are_the_media_bytes_an_item_holds(item: Any, size: int) -> None:
    assert payload_bytes(item) == size


# --- JSON forms


def _arrays() -> list[np.ndarray[Any, Any]]:
    rng = np.random.default_rng(7)
    arrays = []
    for dtype in SUPPORTED_DTYPES:
        if dtype == "bool":
            values = rng.integers(0, 2, 24).astype(bool)
        elif dtype.startswith("float"):
            values = rng.standard_normal(24).astype(dtype)
        else:
            info = np.iinfo(dtype)
            values = rng.integers(info.min, info.max, 24, dtype=dtype, endpoint=True)
        arrays += [values, values.reshape(2, 3, 4), values[:1].reshape(()), values[:0]]
    return arrays


@pytest.mark.parametrize(
    "array", _arrays(), ids=lambda a: f"{a.dtype}-{'x'.join(map(str, a.shape)) or '0d'}"
)
def test_arrays_of_every_dtype_and_shape_round_trip_through_json(
    array: np.ndarray[Any, Any],
) -> None:
    form = json.loads(json.dumps(to_json_form(array)))
    assert form["$array"]["dtype"] == str(array.dtype)
    assert form["$array"]["shape"] == list(array.shape)
    back = from_json_form(form)
    assert back.dtype == array.dtype
    assert back.shape == array.shape
    assert np.array_equal(back, array)


@pytest.mark.parametrize("order", ["<", ">"])
def test_array_data_is_little_endian_in_c_order(order: str) -> None:
    array = np.array([[1, 2], [3, 4]], f"{order}i2").T  # Fortran order in memory
    form = to_json_form(array)
    assert form == {
        "$array": {
            "dtype": "int16",
            "shape": [2, 2],
            "data": base64.b64encode(bytes([1, 0, 3, 0, 2, 0, 4, 0])).decode(),
        }
    }
    assert np.array_equal(from_json_form(form), array)


@pytest.mark.parametrize(
    "frame",
    [
        AudioFrame(np.linspace(-1, 1, 960, dtype=np.float32), 48000, 0.02),
        AudioFrame(np.arange(-8, 8, dtype=np.int16).reshape(8, 2), 16000, 1.25),
        AudioFrame(np.zeros((0, 2), np.float32), 8000),
    ],
    ids=["mono-float32", "stereo-int16", "empty-stereo"],
)
def test_frames_round_trip_through_json(frame: AudioFrame) -> None:
    form = json.loads(json.dumps(to_json_form(frame)))
    assert set(form["$audio"]) == {"sample_rate", "channels", "timestamp", "dtype", "data"}
    assert form["$audio"]["channels"] == frame.channels
    assert from_json_form(form) == frame


@pytest.mark.parametrize("order", ["<", ">"])
def test_audio_data_is_interleaved_and_little_endian(order: str) -> None:
    frame = AudioFrame(np.array([[1, -1], [2, -2]], f"{order}i2"), 8000)
    form = to_json_form(frame)["$audio"]
    assert form["dtype"] == "int16"
    assert np.frombuffer(base64.b64decode(form["data"]), "<i2").tolist() == [1, -1, 2, -2]


def test_forms_are_read_at_any_depth_and_other_values_pass_as_they_are() -> None:
    value = {
        "a": [b"\x00\xff", {"n": None, "f": 1.5, "s": "$bytes"}],
        "t": (np.ones(2, np.uint8),),
        "frame": AudioFrame(np.zeros(2, np.float32), 8000),
    }
    form = json.loads(json.dumps(to_json_form(value)))
    assert form["a"] == [{"$bytes": "AP8="}, {"n": None, "f": 1.5, "s": "$bytes"}]
    back = from_json_form(form)
    assert back["a"] == [b"\x00\xff", {"n": None, "f": 1.5, "s": "$bytes"}]
    assert np.array_equal(back["t"][0], np.ones(2, np.uint8))
    assert back["frame"] == value["frame"]


def test_an_audio_form_may_leave_out_its_timestamp() -> None:
    form = {"$audio": {"sample_rate": 8000, "channels": 1, "dtype": "int16", "data": "AQA="}}
    assert from_json_form(form) == AudioFrame(np.array([1], np.int16), 8000, 0.0)


def test_decoded_arrays_are_read_only_views_of_the_decoded_bytes() -> None:
    back = from_json_form(to_json_form(np.arange(4, dtype=np.float32)))
    assert not back.flags.writeable


def test_to_json_form_refuses_an_unsupported_dtype() -> None:
    with pytest.raises(TypeError, match=r"^cannot pass an array of dtype float16 between"):
        to_json_form({"k": np.zeros(1, np.float16)})


def test_a_preview_encodes_only_the_start_of_the_data() -> None:
    array = np.arange(1000, dtype=np.int64)
    full = to_json_form(array)["$array"]["data"]
    preview = to_json_form(array, max_data_bytes=60)["$array"]["data"]
    assert len(preview) == 80
    assert full.startswith(preview)


ARRAY = {"dtype": "int16", "shape": [2], "data": "AQACAA=="}
AUDIO = {"sample_rate": 8000, "channels": 1, "timestamp": 0.0, "dtype": "int16", "data": ""}


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"$bytes": 3}, "$bytes: expected a base64 string, got integer 3"),
        ({"$bytes": "AA="}, "$bytes: invalid base64 (standard alphabet, with padding)"),
        ({"$bytes": "AA"}, "$bytes: invalid base64 (standard alphabet, with padding)"),
        ({"$bytes": "A-_="}, "$bytes: invalid base64 (standard alphabet, with padding)"),
        ({"$bytes": "é"}, "$bytes: invalid base64 (standard alphabet, with padding)"),
        (
            {"$bytes": "", "x": 1},
            '$bytes: reserved key "$bytes" must be the only key of its object ("x" too)',
        ),
        (
            {"$array": [1]},
            '$array: expected an object with "dtype", "shape", "data", got an array',
        ),
        ({"$array": {**ARRAY, "order": "C"}}, '$array.order: unknown field "order"'),
        ({"$array": {"dtype": "int16", "data": ""}}, '$array: missing field "shape"'),
        (
            {"$array": {**ARRAY, "dtype": "float16"}},
            f"$array.dtype: cannot pass an array of dtype float16 {UNSUPPORTED}",
        ),
        ({"$array": {**ARRAY, "dtype": 4}}, "$array.dtype: expected a dtype name, got integer 4"),
        (
            {"$array": {**ARRAY, "shape": 2}},
            "$array.shape: expected a list of non-negative integers, got integer 2",
        ),
        (
            {"$array": {**ARRAY, "shape": [-1]}},
            "$array.shape: expected a list of non-negative integers, got an array",
        ),
        (
            {"$array": {**ARRAY, "shape": [True, 2]}},
            "$array.shape: expected a list of non-negative integers, got an array",
        ),
        (
            {"$array": {**ARRAY, "shape": [3]}},
            "$array.data: 4 bytes do not match shape [3] of int16 (6 bytes)",
        ),
        (
            {"$array": {"dtype": "bool", "shape": [1], "data": "Ag=="}},
            "$array.data: a bool array holds only the bytes 0 and 1",
        ),
        (
            {"$audio": {**AUDIO, "sample_rate": 0}},
            "$audio.sample_rate: expected an integer from 1 to 4294967295, got integer 0",
        ),
        (
            {"$audio": {**AUDIO, "sample_rate": 8000.0}},
            "$audio.sample_rate: expected an integer from 1 to 4294967295, got number 8000.0",
        ),
        (
            {"$audio": {**AUDIO, "channels": 0}},
            "$audio.channels: expected an integer of at least 1, got integer 0",
        ),
        (
            {"$audio": {**AUDIO, "timestamp": "0"}},
            '$audio.timestamp: expected a finite number, got string "0"',
        ),
        (
            {"$audio": {**AUDIO, "dtype": "float64"}},
            '$audio.dtype: expected "float32" or "int16", got string "float64"',
        ),
        (
            {"$audio": {**AUDIO, "channels": 2, "data": "AQACAAMA"}},
            "$audio.data: 6 bytes are not a whole number of 2-channel int16 samples (4 bytes each)",
        ),
        (
            [1, {"k": {"$audio": {**AUDIO, "data": "!"}}}],
            "[1].k.$audio.data: invalid base64 (standard alphabet, with padding)",
        ),
    ],
    ids=lambda case: case if isinstance(case, str) else None,
)
def test_a_malformed_form_says_where_and_what(form: Any, message: str) -> None:
    with pytest.raises(ValueError, match=r"^(\[\d+\]\.k\.)?\$(bytes|array|audio)") as caught:
        from_json_form(form)
    assert str(caught.value) == message


def test_a_malformed_forms_place_continues_the_callers() -> None:
    with pytest.raises(ValueError, match=r"^nodes\[0\]\.params\.x\.\$bytes: invalid base64"):
        from_json_form({"$bytes": "A"}, at="nodes[0].params.x")
