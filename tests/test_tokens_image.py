"""Images as tokens with the VQ-GAN twin (aMUSEd's VQModel layout, random weights)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from studio.errors import BadInput
from studio.tokens import image_tokens, render


def noise_image(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def test_grid_follows_the_downsampling_and_decode_returns_the_input_size(studio_ctx, tmp_path):
    path = tmp_path / "small.png"
    noise_image(64, 48).save(path)
    result = image_tokens.image_tokens(studio_ctx, str(path))
    vq = studio_ctx.cache.get(studio_ctx.spec("vq"))
    factor = 2 ** (len(vq.config.block_out_channels) - 1)
    assert result.downsample_factor == factor == 4
    assert (result.rows, result.cols) == (48 // factor, 64 // factor)
    assert result.reconstruction.size == result.image.size == (64, 48)
    assert result.codebook_size == vq.config.num_vq_embeddings == 256
    info = result.info()
    assert info["token_count"] == 12 * 16 and len(info["grid"]) == 12
    assert all(0 <= v < 256 for row in result.grid for v in row)


def test_indices_are_the_nearest_codebook_entries(studio_ctx):
    """The grid is what the VQ layer itself picks: re-quantising its own latents agrees."""
    import torch

    image = noise_image(32, 32, seed=3)
    result = image_tokens.image_tokens(studio_ctx, image)
    vq = studio_ctx.cache.get(studio_ctx.spec("vq"))
    pixels = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255).permute(2, 0, 1)[None]
    with torch.no_grad():
        latents = vq.encode(pixels).latents
        flat = latents.permute(0, 2, 3, 1).reshape(-1, latents.shape[1])
        nearest = torch.cdist(flat, vq.quantize.embedding.weight).argmin(1).reshape(8, 8)
    assert nearest.tolist() == result.grid


def test_big_images_are_scaled_and_cropped_to_a_multiple_of_the_factor(studio_ctx):
    result = image_tokens.image_tokens(studio_ctx, noise_image(1001, 603), side=128)
    width, height = result.image.size
    assert max(width, height) <= 128 and width % 4 == 0 and height % 4 == 0
    assert result.source_size == (1001, 603)
    assert result.reconstruction.size == (width, height)
    assert result.cols == width // 4 and result.rows == height // 4


def test_non_image_upload_is_refused(studio_ctx, tmp_path):
    notes = tmp_path / "notes.png"
    notes.write_text("this is not a picture")
    with pytest.raises(BadInput, match="not a picture this app can read"):
        image_tokens.image_tokens(studio_ctx, str(notes))
    with pytest.raises(BadInput, match="Upload an image"):
        image_tokens.image_tokens(studio_ctx, None)


def test_size_limits(studio_ctx):
    with pytest.raises(BadInput, match="between 32 and 512"):
        image_tokens.image_tokens(studio_ctx, noise_image(64, 64), side=4096)
    with pytest.raises(BadInput, match="too small"):
        image_tokens.image_tokens(studio_ctx, noise_image(2, 200))


def test_vq_model_is_loaded_once_through_the_shared_cache(studio_ctx):
    image_tokens.image_tokens(studio_ctx, noise_image(32, 32))
    hits = studio_ctx.cache.hits
    image_tokens.image_tokens(studio_ctx, noise_image(32, 32))
    assert studio_ctx.cache.contains(studio_ctx.spec("vq")) and studio_ctx.cache.hits == hits + 1


def test_heatmap_has_one_numbered_cell_per_token(studio_ctx):
    result = image_tokens.image_tokens(studio_ctx, noise_image(40, 24))
    html = render.index_grid_html(result.grid)
    assert html.count("<span style=") == result.rows * result.cols
    assert f">{result.grid[0][0]}</span>" in html


def test_vq_runs_in_fp32_even_when_half_precision_is_asked(studio_ctx):
    """The nearest-codebook search has no bf16 kernel; the loader keeps the VQ-GAN in fp32."""
    import torch

    from studio.models import tiny
    from studio.models.loaders import LoadRequest
    from studio.tokens.loading import load_vq

    folder = tiny.ensure_built("vq", studio_ctx.settings.tiny_dir)
    vq = load_vq(LoadRequest(str(folder), None, None, None, torch.bfloat16))
    assert vq.dtype == torch.float32
    pixels = torch.rand(1, 3, 16, 16)
    assert vq.quantize(vq.encode(pixels).latents)[2][2].numel() == 16


def test_vq_models_without_codebook_lookup_on_decode_also_round_trip():
    """VQModels that decode quantised latents (lookup_from_codebook=False, the diffusers
    default) get their codebook vectors looked up from the indices before decoding."""
    import torch
    from diffusers.models.autoencoders.vq_model import VQModel

    torch.manual_seed(0)
    vq = VQModel(
        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
        block_out_channels=(8, 16), norm_num_groups=4, latent_channels=4, num_vq_embeddings=32,
    ).eval()
    grid, reconstruction = image_tokens._encode_decode(vq, noise_image(20, 12))
    assert (len(grid), len(grid[0])) == (6, 10) and reconstruction.size == (20, 12)
