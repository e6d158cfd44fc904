"""The Silero VAD ONNX model: where its file is, and `SileroModel`, which runs it on one stream.

The model ships in the `silero-vad` distribution, whose package imports torch: the file is
found through the distribution's metadata and never imported. What `SileroModel` feeds the
model follows the package's own `OnnxWrapper` (silero_vad/utils_vad.py) at 16 kHz: windows of
512 samples, each with the previous window's last 64 samples (zeros at first) in front, the
recurrent state the previous window returned, and `sr` = 16000.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

DISTRIBUTION = "silero-vad"
"""The distribution that ships the model file."""

MODEL_FILE = "silero_vad/data/silero_vad.onnx"
"""The model file's path inside the distribution."""

INSTALL_HINT = "pip install --no-deps silero-vad"
"""How to install the model without torch, which the plugin does not need."""

SAMPLE_RATE = 16000
WINDOW = 512
"""Samples per window at 16 kHz, as the model takes them."""
CONTEXT = 64
"""Samples of the previous window prepended to each window."""
_STATE_SHAPE = (2, 1, 128)


def model_path() -> Path:
    """The installed model file.

    Raises:
        FileNotFoundError: `silero-vad` is not installed, or has no model file, with the
            command that installs it.
    """
    # importlib.metadata takes ~25 ms to import: only looking for the model needs it.
    from importlib import metadata  # noqa: PLC0415 -- see above

    try:
        distribution = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise FileNotFoundError(
            f"the Silero VAD model is not installed: run `{INSTALL_HINT}` "
            "(--no-deps: the plugin needs only its model file, not torch)"
        ) from None
    path = Path(str(distribution.locate_file(MODEL_FILE)))
    if not path.is_file():
        raise FileNotFoundError(
            f"the {DISTRIBUTION} distribution has no {MODEL_FILE} (looked at {path}): "
            f"reinstall it with `{INSTALL_HINT}`"
        )
    return path


class SileroModel:
    """One stream's model: an ONNX Runtime session and the state it carries between windows.

    The caller writes a window's 512 samples into `window` and calls `run`, which returns the
    window's speech probability. Nothing is allocated per window: the session reads its input
    from `window`'s buffer (context in front) and the state from one of two arrays, and writes
    the new state into the other, through two I/O bindings used in turn. The probabilities are
    bit for bit those of `InferenceSession.run` on the same inputs, ~30 us per window faster.

    Attributes:
        window: The 512 float32 samples the next `run` reads; a view into the model's input.
    """

    __slots__ = ("_bindings", "_input", "_output", "_run", "_session", "_states", "_turn", "window")

    def __init__(self, path: Path) -> None:
        """Loads the model, with one thread per session as the reference wrapper does.

        Args:
            path: The model file (see `model_path`).
        """
        # Imported here, not with the module: onnxruntime takes ~250 ms to import and numpy
        # ~95 ms, which plugin discovery (listing node types) should not pay.
        import numpy as np  # noqa: PLC0415 -- numpy is imported when a node runs, not when plugins are discovered
        import onnxruntime  # type: ignore[import-untyped]  # noqa: PLC0415 -- see above; no stubs

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session: Any = onnxruntime.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input = np.zeros((1, CONTEXT + WINDOW), dtype=np.float32)
        self.window = self._input[0, CONTEXT:]
        self._states = (np.zeros(_STATE_SHAPE, np.float32), np.zeros(_STATE_SHAPE, np.float32))
        self._output = np.zeros((1, 1), dtype=np.float32)
        rate = np.array(SAMPLE_RATE, dtype=np.int64)
        # The bound arrays must stay where they are: they are bound by address, never replaced.
        self._bindings = tuple(self._binding(read, rate) for read in (0, 1))
        self._run = self._session.run_with_iobinding
        self._turn = 0

    def _binding(self, read: int, rate: np.ndarray[Any, Any]) -> Any:
        """Binds the input and `_states[read]`, and the outputs into `_output` and the other
        state array."""
        import numpy as np  # noqa: PLC0415 -- numpy is imported when a node runs, not when plugins are discovered

        binding = self._session.io_binding()
        binding.bind_cpu_input("input", self._input)
        binding.bind_cpu_input("state", self._states[read])
        binding.bind_cpu_input("sr", rate)
        output = self._output
        binding.bind_output("output", "cpu", 0, np.float32, output.shape, output.ctypes.data)
        state = self._states[1 - read]
        binding.bind_output("stateN", "cpu", 0, np.float32, state.shape, state.ctypes.data)
        return binding

    def reset(self) -> None:
        """Starts a new stream: zero context and state."""
        self._input.fill(0.0)
        for state in self._states:
            state.fill(0.0)
        self._turn = 0

    def run(self) -> float:
        """Runs the model on `window`; returns its speech probability (0 to 1).

        The window's last 64 samples become the next window's context, and the state the model
        returned becomes the next window's state.
        """
        turn = self._turn
        self._run(self._bindings[turn])
        self._turn = 1 - turn
        buffer = self._input
        buffer[0, :CONTEXT] = buffer[0, WINDOW:]
        return float(self._output[0, 0])
