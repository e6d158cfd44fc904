"""Discovery of node types: the SDK's own, plugins', and what goes wrong with plugins."""

from __future__ import annotations

import importlib
import json
import os
import sys
import textwrap
from typing import TYPE_CHECKING, Any

import pytest

from remotemedia.discovery import (
    Discovery,
    NodeTypeInfo,
    describe_path,
    discover,
    main,
)
from remotemedia.plugins import PluginError
from remotemedia.signature import param_kind

if TYPE_CHECKING:
    from conftest import Sites

GOOD = '''
    from remotemedia import Node, hookimpl


    class Echo(Node):
        """Emits   every item
        as it came.

        The second paragraph is left out of the listing.
        """


    class Quiet(Node):
        node_type = "Silence"


    @hookimpl
    def remotemedia_node_types():
        return [Echo, Quiet]
'''

OTHER_ECHO = '''
    from remotemedia import Node, hookimpl


    class Echo(Node):
        """Another plugin's echo."""


    @hookimpl
    def remotemedia_node_types():
        return [Echo]
'''

SDK_TYPES = [
    NodeTypeInfo(
        "PassThroughNode",
        "remotemedia",
        "Emits every item unchanged.",
        "remotemedia.nodes.base",
        "PassThroughNode",
    ),
    NodeTypeInfo(
        "Multiply",
        "remotemedia",
        "Multiplies every number by `factor`; an int stays an int, a float factor gives floats.",
        "remotemedia.nodes.arithmetic",
        "Multiply",
        params=[{"name": "factor", "kind": "number", "required": True}],
    ),
    NodeTypeInfo(
        "Add",
        "remotemedia",
        "Adds `addend` to every number; an int stays an int, a float addend gives floats.",
        "remotemedia.nodes.arithmetic",
        "Add",
        params=[{"name": "addend", "kind": "number", "required": True}],
    ),
    NodeTypeInfo(
        "Range",
        "remotemedia",
        "Source: emits the integers of range(start, stop, step).",
        "remotemedia.nodes.range",
        "Range",
        source=True,
        streaming=True,
        params=[
            {"name": "stop", "kind": "int", "required": True},
            {"name": "start", "kind": "int", "required": False, "default": 0},
            {"name": "step", "kind": "int", "required": False, "default": 1},
        ],
    ),
    NodeTypeInfo(
        "audio.WavSource",
        "remotemedia",
        "Source: streams a WAV file as audio frames of frame_ms (16-bit -> int16, float -> "
        "float32, other depths -> float32).",
        "remotemedia.nodes.audio.wav_source",
        "WavSource",
        source=True,
        streaming=True,
        params=[
            {"name": "path", "kind": "string", "required": True},
            {"name": "frame_ms", "kind": "number", "required": False, "default": 20},
        ],
    ),
    NodeTypeInfo(
        "audio.WavSink",
        "remotemedia",
        "Writes audio frames to a WAV file (int16 -> 16-bit PCM, float32 -> 32-bit float), in "
        "place at the end; emits one summary map.",
        "remotemedia.nodes.audio.wav_sink",
        "WavSink",
        streaming=True,
        params=[{"name": "path", "kind": "string", "required": True}],
    ),
    NodeTypeInfo(
        "audio.Resample",
        "remotemedia",
        "Resamples audio to rate (float32 out), delay removed and tail flushed: N seconds in, "
        "N seconds out.",
        "remotemedia.nodes.audio.resample",
        "Resample",
        streaming=True,
        params=[{"name": "rate", "kind": "int", "required": True}],
    ),
    NodeTypeInfo(
        "audio.Gain",
        "remotemedia",
        "Scales audio by a gain in dB, keeping the dtype (int16 rounds and saturates).",
        "remotemedia.nodes.audio.gain",
        "Gain",
        params=[{"name": "db", "kind": "number", "required": False, "default": 0}],
    ),
    NodeTypeInfo(
        "audio.Downmix",
        "remotemedia",
        "Mixes audio down to mono: the mean of the channels. Mono passes unchanged.",
        "remotemedia.nodes.audio.downmix",
        "Downmix",
    ),
    NodeTypeInfo(
        "audio.Rechunk",
        "remotemedia",
        "Re-cuts audio into frames of frame_ms; the last may be shorter. Timestamps run on from "
        "the first frame.",
        "remotemedia.nodes.audio.rechunk",
        "Rechunk",
        streaming=True,
        params=[{"name": "frame_ms", "kind": "number", "required": False, "default": 20}],
    ),
]


def of(discovery: Discovery, provider: str) -> list[NodeTypeInfo]:
    return [info for info in discovery.types if info.provider == provider]


def test_sdk_nodes_are_found_with_provider_remotemedia_and_their_docs() -> None:
    discovery = discover(use_cache=False)
    assert of(discovery, "remotemedia") == SDK_TYPES
    assert discovery.types[: len(SDK_TYPES)] == SDK_TYPES  # the SDK's own come first
    assert discovery.plugins[0] == "remotemedia"


def test_plugin_types_carry_provider_first_doc_paragraph_and_import_location(
    sites: Sites,
) -> None:
    sites.install("rm-good", {"good": "good_plugin"}, {"good_plugin": GOOD})
    discovery = discover(use_cache=False)
    assert of(discovery, "rm-good") == [
        NodeTypeInfo("Echo", "rm-good", "Emits every item as it came.", "good_plugin", "Echo"),
        NodeTypeInfo("Silence", "rm-good", "", "good_plugin", "Quiet"),
    ]
    assert "good" in discovery.plugins


def test_broken_plugin_is_reported_and_others_load(sites: Sites) -> None:
    sites.install(
        "rm-broken", {"broken": "broken_plugin"}, {"broken_plugin": "raise ImportError('no numpy')"}
    )
    sites.install("rm-good", {"good": "good_plugin"}, {"good_plugin": GOOD})
    discovery = discover(use_cache=False)
    assert [info.node_type for info in of(discovery, "rm-good")] == ["Echo", "Silence"]
    assert discovery.errors == [PluginError("broken", "rm-broken", "ImportError: no numpy")]
    assert {"broken", "good"} <= set(discovery.plugins)


def test_two_providers_of_one_type_name_are_both_kept(sites: Sites) -> None:
    sites.install("rm-good", {"good": "good_plugin"}, {"good_plugin": GOOD})
    sites.install("rm-other", {"other": "other_plugin"}, {"other_plugin": OTHER_ECHO})
    discovery = discover(use_cache=False)
    echoes = [info for info in discovery.types if info.node_type == "Echo"]
    assert sorted((info.provider, info.doc) for info in echoes) == [
        ("rm-good", "Emits every item as it came."),
        ("rm-other", "Another plugin's echo."),
    ]


BAD_RESULTS = [
    ("return [42]", "TypeError: 42 is not a Node subclass"),
    ("return [dict]", "TypeError: <class 'dict'> is not a Node subclass"),
    ("return Echo", "TypeError: remotemedia_node_types returned <class 'bad_plugin.Echo'>"),
    ("raise KeyError('cfg')", "KeyError: 'cfg'"),
]


@pytest.mark.parametrize(("body", "error"), BAD_RESULTS)
def test_a_hook_returning_non_nodes_or_raising_is_a_plugin_error(
    sites: Sites, body: str, error: str
) -> None:
    source = f'''
        from remotemedia import Node, hookimpl


        class Echo(Node):
            """Kept when listed beside a bad entry."""


        @hookimpl
        def remotemedia_node_types():
            {body}
    '''
    sites.install("rm-bad", {"bad": "bad_plugin"}, {"bad_plugin": source})
    sites.install("rm-good", {"good": "good_plugin"}, {"good_plugin": GOOD})
    discovery = discover(use_cache=False)
    [report] = discovery.errors
    assert (report.entry_point, report.provider) == ("bad", "rm-bad")
    assert report.error.startswith(error)
    assert of(discovery, "rm-good")  # the other plugin is not affected


def test_valid_classes_beside_a_bad_entry_are_kept(sites: Sites) -> None:
    source = '''
        from remotemedia import Node, hookimpl


        class Echo(Node):
            """Kept."""


        @hookimpl
        def remotemedia_node_types():
            return [Echo, "Echo"]
    '''
    sites.install("rm-mixed", {"mixed": "mixed_plugin"}, {"mixed_plugin": source})
    discovery = discover(use_cache=False)
    assert [info.node_type for info in of(discovery, "rm-mixed")] == ["Echo"]
    assert discovery.errors == [
        PluginError("mixed", "rm-mixed", "TypeError: 'Echo' is not a Node subclass")
    ]


def test_discovery_round_trips_through_json(sites: Sites) -> None:
    sites.install("rm-broken", {"broken": "missing_module"}, {})
    sites.install("rm-good", {"good": "good_plugin"}, {"good_plugin": GOOD})
    discovery = discover(use_cache=False)
    assert discovery.errors  # both lists are exercised
    assert Discovery.from_json(discovery.to_json()) == discovery
    assert Discovery.from_json(discovery.to_json(indent=2)) == discovery


@pytest.mark.parametrize(
    "data",
    [
        "[]",
        "{}",
        '{"types": [], "errors": []}',
        '{"types": 3, "errors": [], "plugins": []}',
        '{"types": [{"node_type": "X"}], "errors": [], "plugins": []}',
        '{"types": [], "errors": [], "plugins": [1]}',
        '{"types": [], "errors": [{"entry_point": 1, "provider": "p", "error": "e"}], '
        '"plugins": []}',
        "not json",
    ],
)
def test_from_json_rejects_other_shapes_with_value_error(data: str) -> None:
    with pytest.raises(ValueError, match=r"not a discovery|Expecting value"):
        Discovery.from_json(data)


def test_main_prints_the_discovery_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--no-cache"]) == 0
    printed: Any = json.loads(capsys.readouterr().out)
    assert set(printed) == {"types", "errors", "plugins"}
    assert [t["node_type"] for t in printed["types"][:3]] == ["PassThroughNode", "Multiply", "Add"]


PARAMS = """
    from __future__ import annotations

    from remotemedia import Node


    class Every(Node):
        is_source = True

        def __init__(
            self,
            count: int,
            rate: float = 16000.0,
            label: str = "x",
            on: bool = True,
            taps: list[int] | None = None,
            opts: dict[str, int] = {},
            blob: bytes = b"",
            hook: object = None,
            anything=3,
            name: str | None = None,
            **extra,
        ) -> None:
            super().__init__(name=name)

        async def process(self, stream):
            yield 1
"""


def test_parameters_come_from_the_init_signature_and_string_annotations(sites: Sites) -> None:
    sites.install("rm-params", {}, {"params_plugin": PARAMS})
    info = describe_path("params_plugin", "Every")
    assert info.source is True
    assert info.extra_params is True
    assert info.provider is None
    assert info.params == [
        {"name": "count", "kind": "int", "required": True},
        {"name": "rate", "kind": "number", "required": False, "default": 16000.0},
        {"name": "label", "kind": "string", "required": False, "default": "x"},
        {"name": "on", "kind": "bool", "required": False, "default": True},
        {"name": "taps", "kind": "any", "required": False, "default": None},
        {"name": "opts", "kind": "map", "required": False, "default": {}},
        {"name": "blob", "kind": "bytes", "required": False},  # no JSON form of b""
        {"name": "hook", "kind": "any", "required": False, "default": None},
        {"name": "anything", "kind": "any", "required": False, "default": 3},
    ]


@pytest.mark.parametrize(
    ("annotation", "kind"),
    [
        (int, "int"),
        (float, "number"),
        (int | float, "number"),
        (list[str], "list"),
        ("np.ndarray", "array"),
        ("AudioFrame", "audio"),
        ("int | None", "any"),
        (None, "any"),
        (complex, "any"),
    ],
)
def test_annotations_map_to_parameter_kinds(annotation: Any, kind: str) -> None:
    assert param_kind(annotation) == kind


@pytest.mark.parametrize(
    ("module", "qualname"),
    [("os", "makedirs"), ("tarfile", "open"), ("json", "JSONDecoder")],
)
def test_describing_what_is_not_a_node_class_refuses_without_calling_it(
    module: str, qualname: str
) -> None:
    with pytest.raises(TypeError, match=f'"{module}:{qualname}" is not a remotemedia.Node'):
        describe_path(module, qualname)


def test_describing_a_missing_module_raises_its_import_error() -> None:
    with pytest.raises(ModuleNotFoundError, match="no_such_module_here"):
        describe_path("no_such_module_here", "X")


def test_editing_an_installed_plugin_is_seen_by_the_next_discovery(
    sites: Sites, tmp_path: Any
) -> None:
    cache_dir = tmp_path / "cache"
    site = sites.install("rm-good", {"good": "good_plugin"}, {"good_plugin": GOOD})
    first = discover(cache_dir=cache_dir)
    assert [t.node_type for t in of(first, "rm-good")] == ["Echo", "Silence"]
    # Edit the plugin in place, as with an editable install: a new class, nothing reinstalled.
    module = site / "good_plugin.py"
    edited = module.read_text().replace("return [Echo, Quiet]", "return [Echo, Quiet, Added]")
    module.write_text(edited + "\n\nclass Added(Node):\n    pass\n")
    stamp = module.stat().st_mtime_ns + 1_000_000
    os.utime(module, ns=(stamp, stamp))  # a distinct time even on a coarse clock
    sys.modules.pop("good_plugin", None)
    importlib.invalidate_caches()
    second = discover(cache_dir=cache_dir)
    assert [t.node_type for t in of(second, "rm-good")] == ["Echo", "Silence", "Added"]


SOURCES = """
    from remotemedia import Node, hookimpl


    class Good(Node):
        is_source = True

        async def process(self, stream):
            yield 1


    class PerItem(Node):
        is_source = True

        def process(self, data):
            yield data


    @hookimpl
    def remotemedia_node_types():
        return [Good, PerItem]
"""


def test_a_source_whose_process_is_not_streaming_is_a_plugin_error(sites: Sites) -> None:
    sites.install("rm-sources", {"sources": "sources_plugin"}, {"sources_plugin": SOURCES})
    discovery = discover(use_cache=False)
    assert [(t.node_type, t.source) for t in of(discovery, "rm-sources")] == [("Good", True)]
    [error] = discovery.errors
    assert error.entry_point == "sources"
    assert "PerItem has is_source = True" in error.error
    assert "async def process(self, stream)" in error.error


ODD_CLASSES = """
    from remotemedia import Node, hookimpl


    class Infinite(Node):
        def __init__(self, limit: float = float("inf"), name=None):
            super().__init__(name=name)


    class Named(Node):
        @classmethod
        def type_name(cls):
            raise ZeroDivisionError("no name today")


    @hookimpl
    def remotemedia_node_types():
        return [Infinite, Named]
"""


def test_a_class_that_cannot_be_described_is_reported_and_the_rest_load(sites: Sites) -> None:
    sites.install("rm-odd", {"odd": "odd_plugin"}, {"odd_plugin": ODD_CLASSES})
    sites.install("rm-good", {"good": "good_plugin"}, {"good_plugin": GOOD})
    discovery = discover(use_cache=False)
    [infinite] = of(discovery, "rm-odd")
    # JSON has no infinity: the default is left out, and the document stays valid JSON.
    assert infinite.params == [{"name": "limit", "kind": "number", "required": False}]
    json.loads(discovery.to_json())
    assert [e.error for e in discovery.errors] == ["ZeroDivisionError: no name today"]
    assert [t.node_type for t in of(discovery, "rm-good")] == ["Echo", "Silence"]


def test_a_plugin_that_exits_while_imported_is_reported_and_the_rest_load(
    sites: Sites,
) -> None:
    sites.install("rm-exits", {"exits": "exits_plugin"}, {"exits_plugin": "raise SystemExit(3)"})
    sites.install("rm-good", {"good": "good_plugin"}, {"good_plugin": GOOD})
    discovery = discover(use_cache=False)
    assert discovery.errors == [PluginError("exits", "rm-exits", "SystemExit: 3")]
    assert [t.node_type for t in of(discovery, "rm-good")] == ["Echo", "Silence"]


def test_fixing_a_plugin_that_failed_to_import_is_seen_at_once(sites: Sites, tmp_path: Any) -> None:
    cache_dir = tmp_path / "cache"
    broken = GOOD + "\n    this is not python\n"
    site = sites.install("rm-good", {"good": "good_plugin"}, {"good_plugin": broken})
    first = discover(cache_dir=cache_dir)
    assert [e.entry_point for e in first.errors] == ["good"]
    (site / "good_plugin.py").write_text(textwrap.dedent(GOOD))
    sys.modules.pop("good_plugin", None)
    importlib.invalidate_caches()
    second = discover(cache_dir=cache_dir)
    assert second.errors == []
    assert [t.node_type for t in of(second, "rm-good")] == ["Echo", "Silence"]
