"""The earlier SDK's import paths, kept working: `remotemedia.core.pipeline.Pipeline` is
`remotemedia.Pipeline` and `remotemedia.core.node.Node` is `remotemedia.Node`."""
