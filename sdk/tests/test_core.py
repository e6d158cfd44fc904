"""The earlier SDK's import paths (DESIGN §8) name the classes of today's."""

from __future__ import annotations

import remotemedia
from remotemedia.core.node import Node as EarlierNode
from remotemedia.core.pipeline import Pipeline as EarlierPipeline
from remotemedia.nodes import PassThroughNode
from remotemedia.nodes.base import PassThroughNode as BasePassThroughNode


def test_the_earlier_import_paths_name_the_same_classes() -> None:
    assert EarlierPipeline is remotemedia.Pipeline
    assert EarlierNode is remotemedia.Node
    assert BasePassThroughNode is PassThroughNode
