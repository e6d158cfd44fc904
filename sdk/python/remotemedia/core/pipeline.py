"""The earlier SDK's path of `Pipeline`: the same class as `remotemedia.Pipeline`."""

from remotemedia.pipeline import Pipeline

__all__ = ["Pipeline"]
