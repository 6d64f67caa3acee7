"""An ONNX model as a cache entry: an onnxruntime session that the shared ModelCache can
size, move between devices and free like any torch model.

The cache sizes a value by walking torch modules and moves it with ``.to(device)``; this
wrapper looks like a one-component pipeline to it. Its only component is a weightless
module whose single buffer *claims* the model's byte size (a zero-stride view of one
byte), so the budget counts the session without a second copy of its weights.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from studio.errors import BadInput, ModelUnavailable

if TYPE_CHECKING:
    import onnxruntime
    import torch

    from studio.models.loaders import LoadRequest

ONNX_SUFFIX = ".onnx"


def _footprint(nbytes: int) -> torch.nn.Module:
    import torch

    module = torch.nn.Module()
    module.register_buffer("claimed", torch.zeros(1, dtype=torch.uint8).expand(max(int(nbytes), 1)), persistent=False)
    return module


def providers_for(device: str) -> list[str]:
    """CUDA when the cache's device is a GPU and this onnxruntime build has it, else CPU."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    if str(device).startswith("cuda") and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


class OnnxModel:
    """One .onnx file and its inference session (re-created when moved to another device)."""

    def __init__(self, path: Path, device: str = "cpu"):
        self.path = Path(path)
        self.nbytes = self.path.stat().st_size
        self.components = {"onnx": _footprint(self.nbytes)}
        self._lock = threading.Lock()
        self.device = ""
        self.session: onnxruntime.InferenceSession | None = None
        self.to(device)

    def to(self, device: str | torch.device) -> "OnnxModel":
        import onnxruntime as ort

        device = str(device)
        with self._lock:
            if self.session is not None and device == self.device:
                return self
            options = ort.SessionOptions()
            options.log_severity_level = 3  # warnings about unused initializers are noise here
            try:
                self.session = ort.InferenceSession(str(self.path), options, providers=providers_for(device))
            except Exception as exc:  # onnxruntime raises its own error types for a broken file
                raise BadInput(f"{self.path.name} is not a usable ONNX model ({str(exc).splitlines()[0][:160]}).") from exc
            self.device = device
        return self

    @property
    def inputs(self) -> dict[str, list]:
        return {i.name: list(i.shape) for i in self.session.get_inputs()}

    @property
    def outputs(self) -> dict[str, list]:
        return {o.name: list(o.shape) for o in self.session.get_outputs()}

    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        return self.session.run(None, feeds)

    def initializer(self, index: int = -1) -> np.ndarray:
        """A weight stored in the graph (inswapper keeps its embedding projection last)."""
        import onnx
        from onnx import numpy_helper

        graph = onnx.load(str(self.path), load_external_data=False).graph
        if not graph.initializer:
            raise BadInput(f"{self.path.name} stores no weights in its graph.")
        return numpy_helper.to_array(graph.initializer[index])


def _dims_match(actual: list, expected: tuple) -> bool:
    if len(actual) != len(expected):
        return False
    # A symbolic dimension (a name or None) accepts any size; None in `expected` means any.
    return all(e is None or not isinstance(a, int) or a == e for a, e in zip(actual, expected))


def check_inputs(model: OnnxModel, expected: dict[str, tuple], what: str) -> None:
    """Refuse a model whose inputs are not the ones the pipeline feeds, naming what is expected.

    ``expected`` maps input names to shapes (None = any size); a name of "*" matches the
    model's only input whatever it is called."""
    actual = model.inputs
    wanted = ", ".join(f"{name if name != '*' else 'image'} {_shape(shape)}" for name, shape in expected.items())
    found = ", ".join(f"{name} {_shape(shape)}" for name, shape in actual.items())
    ok = len(actual) == len(expected)
    if ok:
        for name, shape in expected.items():
            dims = next(iter(actual.values())) if name == "*" else actual.get(name)
            if dims is None or not _dims_match(dims, shape):
                ok = False
    if not ok:
        raise BadInput(
            f"{model.path.name} does not look like a {what}: it expects {wanted}, but this file takes {found}."
        )


def _shape(shape) -> str:
    return "×".join("?" if not isinstance(d, int) else str(d) for d in shape)


# --- the loader (studio.models.loaders LOADERS["onnx"]) ----------------------------------------


def find_onnx(folder: Path) -> Path:
    files = sorted(Path(folder).glob(f"*{ONNX_SUFFIX}"))
    if len(files) != 1:
        raise ModelUnavailable(f"{folder} should hold exactly one .onnx file (found {len(files)}).")
    return files[0]


def resolve_file(location: str, local_files_only: bool = False, revision: str | None = None) -> Path:
    """A local .onnx file or folder, or "owner/repo/path/in/repo.onnx" on the Hub."""
    path = Path(location)
    if path.is_file():
        return path
    if path.is_dir():
        return find_onnx(path)
    parts = location.split("/")
    if len(parts) < 3 or not location.endswith(ONNX_SUFFIX):
        raise ModelUnavailable(
            f"{location!r} is not an ONNX model: give owner/repo/file.onnx on the Hub, or a .onnx file in the faces folder."
        )
    from huggingface_hub import hf_hub_download

    return Path(hf_hub_download("/".join(parts[:2]), "/".join(parts[2:]), revision=revision,
                                local_files_only=local_files_only))


def load_onnx(request: LoadRequest) -> OnnxModel:
    """LoadRequest -> OnnxModel on the CPU; the cache moves it to its device."""
    return OnnxModel(resolve_file(request.location, request.local_files_only, request.revision))
