"""Tiny twins of the face models: small ONNX graphs exported from torch modules, with the
real models' input / output names, shapes and layouts, so every pre- and post-processing
step runs offline.

The detector twin is not random: it scores skin-coloured blobs (red well above blue) on
the stride-32 map and one local maximum per blob, so tests can draw faces with PIL and
have them found. Its boxes and five landmarks are a fixed face shape around the peak.
The recogniser, swapper and restorer are random-weight networks.
"""

from __future__ import annotations

import warnings
from pathlib import Path

MODEL_FILE = "model.onnx"
DETECTOR_SIDE = 640
BOX_HALF = 2.5  # stride-32 units: a 160-pixel box on the detector's 640 input
# Landmarks around the peak in stride-32 units: eyes, nose tip, mouth corners.
LANDMARKS = ((-0.55, -0.35), (0.55, -0.35), (0.0, 0.1), (-0.45, 0.6), (0.45, 0.6))


def _export(module, args: tuple, path: Path, input_names: list[str], output_names: list[str]) -> None:
    import torch

    module.eval()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter announces its deprecation
        torch.onnx.export(module, args, str(path), input_names=input_names, output_names=output_names,
                          opset_version=17, dynamo=False)


def _detector_module():
    import torch
    import torch.nn.functional as F

    class TinySCRFD(torch.nn.Module):
        def forward(self, x):
            skin = x[:, 0:1] - x[:, 2:3]  # red minus blue, in the detector's normalised units
            outputs = {}
            for stride in (8, 16, 32):
                pooled = F.avg_pool2d(skin, stride, stride)
                if stride == 32:
                    # A 3x3-cell window, a tiny tie-break towards the top-left, one peak per blob.
                    smooth = F.avg_pool2d(pooled, 3, 1, 1, count_include_pad=False)
                    h, w = smooth.shape[-2:]
                    order = torch.arange(h * w, dtype=x.dtype).reshape(1, 1, h, w)
                    smooth = smooth - 1e-4 * order / (h * w)
                    peak = (smooth >= F.max_pool2d(smooth, 3, 1, 1)).to(x.dtype)
                    score = torch.sigmoid(12.0 * (smooth - 0.3)) * peak
                else:
                    score = pooled * 0.0
                locations = score.flatten(1)[:, :, None]  # (1, h*w, 1), row-major
                anchors = locations.repeat(1, 1, 2).reshape(1, -1, 1)  # 2 anchors per location
                ones = torch.ones_like(anchors)
                box = ones.repeat(1, 1, 4) * BOX_HALF
                kps = torch.cat([ones * v for point in LANDMARKS for v in point], dim=2)
                outputs[stride] = (anchors[0], box[0], kps[0])
            return tuple(outputs[s][k] for k in range(3) for s in (8, 16, 32))

    return TinySCRFD()


def build_scrfd(folder: Path) -> None:
    import torch

    names = [f"{kind}_{stride}" for kind in ("score", "bbox", "kps") for stride in (8, 16, 32)]
    _export(_detector_module(), (torch.zeros(1, 3, DETECTOR_SIDE, DETECTOR_SIDE),), folder / MODEL_FILE,
            ["input.1"], names)


def build_arcface(folder: Path) -> None:
    import torch

    torch.manual_seed(11)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, 2, 1), torch.nn.ReLU(), torch.nn.Conv2d(8, 16, 3, 2, 1), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(4), torch.nn.Flatten(), torch.nn.Linear(256, 512),
    )
    _export(net, (torch.zeros(1, 3, 112, 112),), folder / MODEL_FILE, ["input.1"], ["embedding"])


def build_inswapper(folder: Path) -> None:
    import numpy as np
    import onnx
    import torch
    from onnx import numpy_helper

    torch.manual_seed(12)

    class TinySwapper(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encode = torch.nn.Conv2d(3, 16, 3, 1, 1)
            self.style = torch.nn.Linear(512, 16)
            self.decode = torch.nn.Conv2d(16, 3, 3, 1, 1)

        def forward(self, target, source):
            features = torch.relu(self.encode(target)) * (1 + self.style(source)[:, :, None, None])
            return torch.sigmoid(self.decode(features))

    path = folder / MODEL_FILE
    _export(TinySwapper(), (torch.zeros(1, 3, 128, 128), torch.zeros(1, 512)), path, ["target", "source"], ["output"])
    # inswapper keeps its identity projection as the graph's last stored weight, unused by the graph.
    model = onnx.load(str(path))
    emap = np.random.default_rng(12).normal(0, 1 / np.sqrt(512), (512, 512)).astype(np.float32)
    model.graph.initializer.append(numpy_helper.from_array(emap, "emap"))
    onnx.save(model, str(path))


def build_gfpgan(folder: Path) -> None:
    import torch

    torch.manual_seed(13)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, 2, 1), torch.nn.ReLU(), torch.nn.Upsample(scale_factor=2.0, mode="nearest"),
        torch.nn.Conv2d(8, 3, 3, 1, 1), torch.nn.Tanh(),
    )
    _export(net, (torch.zeros(1, 3, 512, 512),), folder / MODEL_FILE, ["input"], ["output"])
