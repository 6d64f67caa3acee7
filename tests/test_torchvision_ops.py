"""spandrel imports torchvision; next to a CPU torch, torchvision's compiled ops cannot load and
a bare ``import torchvision`` dies. ``studio`` installs a hook (studio/torchvision_ops.py) that
lets it import: checked in a fresh interpreter, as the app starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROGRAM = """
import studio
import spandrel, torchvision
import torch
from torchvision.transforms import functional as F
from torchvision import transforms
image = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8) / 383.0
flipped = F.hflip(image)
assert torch.equal(flipped[..., 0], image[..., -1])
resized = transforms.Resize((4, 4), antialias=True)(image)
assert resized.shape == (2, 3, 4, 4)
normal = transforms.Normalize([0.5] * 3, [0.5] * 3)(image)
assert torch.allclose(normal, image * 2 - 1)
from spandrel.architectures.ESRGAN import ESRGAN
model = ESRGAN(num_filters=8, num_blocks=1, scale=2)
assert model(torch.rand(1, 3, 6, 5)).shape == (1, 3, 12, 10)
print("ok", torchvision.__version__)
"""


def test_studio_first_then_spandrel_and_torchvision_import_and_transforms_work():
    done = subprocess.run([sys.executable, "-c", PROGRAM], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("ok ")
