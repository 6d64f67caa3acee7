"""Images as tokens: a VQ-GAN turns an image into a grid of codebook indices and back.

The default is aMUSEd's VQ-GAN (``amused/amused-256``, subfolder ``vqvae``): a public,
small diffusers ``VQModel`` (a separate subfolder, so only it is downloaded) whose
8192-entry codebook is what the aMUSEd transformer actually predicts: the grid shown here
is literally the "image sentence" a token-based image generator writes. It downsamples
16x: 256x256 pixels -> 16x16 tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio.context import StudioContext
from studio.errors import BadInput
from studio.pictures import reading

if TYPE_CHECKING:
    from diffusers import VQModel
    from PIL import Image

DEFAULT_SIDE = 256  # aMUSEd-256 was trained at 256x256
MIN_SIDE, MAX_SIDE = 32, 512
MAX_SOURCE_PIXELS = 40_000_000  # refuse decompression bombs before decoding them


@dataclass
class ImageTokens:
    grid: list[list[int]]  # rows x cols codebook indices
    codebook_size: int
    downsample_factor: int
    image: Image.Image  # what was encoded (resized / centre-cropped)
    reconstruction: Image.Image  # decoded from the indices alone, same size
    source_size: tuple[int, int]

    @property
    def rows(self) -> int:
        return len(self.grid)

    @property
    def cols(self) -> int:
        return len(self.grid[0]) if self.grid else 0

    def info(self) -> dict[str, Any]:
        flat = [v for row in self.grid for v in row]
        return {
            "rows": self.rows,
            "cols": self.cols,
            "token_count": len(flat),
            "codebook_size": self.codebook_size,
            "distinct_codes": len(set(flat)),
            "downsample_factor": self.downsample_factor,
            "input_size": list(self.image.size),
            "source_size": list(self.source_size),
            "grid": self.grid,
        }


def open_image(source: Any) -> Image.Image:
    """A PIL RGB image from a PIL image, a path or a {"path": ...} dict, read as every tool reads
    one (studio.pictures.reading: upright, transparency on white); BadInput otherwise."""
    return reading.read_rgb(source, "The image", MAX_SOURCE_PIXELS, missing="Upload an image first.")


def fit_to_grid(image: Image.Image, factor: int, side: int) -> Image.Image:
    """Scale the longer side to ``side`` (never up), then centre-crop both sides to a multiple
    of the model's downsampling ``factor`` so every pixel belongs to exactly one token."""
    from PIL import ImageOps

    side = int(side)
    if not MIN_SIDE <= side <= MAX_SIDE:
        raise BadInput(f"The size must be between {MIN_SIDE} and {MAX_SIDE} pixels (got {side}).")
    scale = min(1.0, side / max(image.size))
    width, height = (max(1, round(d * scale)) for d in image.size)
    width, height = width - width % factor, height - height % factor
    if width < factor or height < factor:
        raise BadInput(f"The image is too small: each side needs at least {factor} pixels.")
    return ImageOps.fit(image, (width, height))


def downsample_factor(vq: VQModel) -> int:
    return 2 ** (len(vq.config.block_out_channels) - 1)


def _encode_decode(vq: VQModel, image: Image.Image) -> tuple[list[list[int]], Image.Image]:
    import numpy as np
    import torch
    from PIL import Image

    # aMUSEd feeds its VQ-GAN pixels in [0, 1] (no [-1, 1] normalisation) and clips its output.
    pixels = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]
    pixels = pixels.to(vq.device, vq.dtype)
    with torch.inference_mode():
        latents = vq.encode(pixels).latents
        rows, cols = latents.shape[-2:]
        indices = vq.quantize(latents)[2][2].reshape(1, rows, cols)
        if vq.config.lookup_from_codebook:
            shape = (1, rows, cols, vq.config.latent_channels)
            decoded = vq.decode(indices, force_not_quantize=True, shape=shape).sample
        else:
            embed_dim = vq.quantize.vq_embed_dim
            quantized = vq.quantize.get_codebook_entry(indices.reshape(-1), (1, rows, cols, embed_dim))
            decoded = vq.decode(quantized, force_not_quantize=True).sample
    array = (decoded[0].float().clamp(0, 1).permute(1, 2, 0).cpu().numpy() * 255).round().astype("uint8")
    return indices[0].cpu().tolist(), Image.fromarray(array)


def image_tokens(
    studio: StudioContext, image: Any, model_id: str | None = None, side: int = DEFAULT_SIDE
) -> ImageTokens:
    """Encode ``image`` to codebook indices with the VQ model and decode the indices back."""
    source = open_image(image)
    spec = studio.spec("vq", model_id)
    with studio.cache.use(spec) as vq:
        factor = downsample_factor(vq)
        fitted = fit_to_grid(source, factor, side)
        grid, reconstruction = studio.cache.run(lambda: _encode_decode(vq, fitted))
        codebook = int(vq.config.num_vq_embeddings)
    return ImageTokens(grid, codebook, factor, fitted, reconstruction, source.size)
