"""Tiny twins of the upscalers: an ESRGAN (RRDBNet) built from spandrel's own architecture
class with random weights and a few filters, saved as .safetensors, and read back by
spandrel's ``ModelLoader`` exactly like a downloaded Real-ESRGAN file (which infers the
scale, filters and blocks from the weight names and shapes)."""

from __future__ import annotations

from pathlib import Path

SEED = 0
FILTERS, BLOCKS = 16, 1  # RealESRGAN_x4plus: 64 filters, 23 blocks


def _save_esrgan(folder: Path, file_name: str, **architecture) -> None:
    import torch
    from safetensors.torch import save_file
    from spandrel.architectures.ESRGAN import ESRGAN

    torch.manual_seed(SEED)
    model = ESRGAN(num_filters=FILTERS, num_blocks=BLOCKS, **architecture).eval()
    # Random weights give outputs near 0, clipped to black. The last convolution is rescaled so
    # that on a random picture the output has mean 0.5 and spread 0.15: mid-tone noise that
    # follows the input, so tiling differences would show instead of vanishing in the clip.
    last = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)][-1]
    with torch.no_grad():
        out = model(torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(SEED)))
        gain = 0.15 / float(out.std())
        last.weight.mul_(gain)
        last.bias.mul_(gain).add_(0.5 - float(out.mean()) * gain)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(Path(folder) / file_name))


def build_esrgan_x4(folder: Path) -> None:
    _save_esrgan(folder, "RealESRGAN_x4plus.safetensors", scale=4)


def build_esrgan_x2(folder: Path) -> None:
    # Real-ESRGAN x2plus runs its RRDB body on a pixel-unshuffled input (12 channels at half the
    # size) and upsamples ×4 from there: ×2 in all. spandrel recognises it from those 12 channels.
    _save_esrgan(folder, "RealESRGAN_x2plus.safetensors", in_nc=12, scale=4, shuffle_factor=2)
