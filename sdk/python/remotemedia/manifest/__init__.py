"""Manifest v1 checks, shared by the pipeline builder and the reference executor.

Every problem is reported at once, each at its location and in the host's words, so a manifest
fails the same way whether the host or the SDK checks it. Layout:

- `validate`: `validate` (the host's checks through the native module where it imports, else
  the SDK's own), `check_manifest` (the SDK's own), `node_classes`;
- `schema`: the committed JSON Schema (`remotemedia/manifest.schema.json`), interpreted as the
  host does;
- `resolve`: a `node_type` to the Python class that builds the node (discovery, import paths);
- `graph`: edges, cycles, sources;
- `problems`: how a problem is written, and "did you mean".

Nothing here imports the builder (`remotemedia.pipeline`) or the executor
(`remotemedia.executor`): both import from here.
"""
