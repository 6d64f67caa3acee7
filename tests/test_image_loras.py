"""Image LoRAs whose file changes under the same name (training writes over it): the new
version is loaded, not the one the shared UNet already holds. Tiny twins, offline."""

from __future__ import annotations

import os
import shutil

import numpy as np
from safetensors import safe_open
from safetensors.torch import save_file

from studio.image import checkpoints
from studio.image.generate import generate_images
from studio.image.loras import LoraFile, active_key
from studio.image.request import ImageRequest
from tests.image_helpers import image_ctx, pixels  # noqa: F401  (fixture)

SMALL = dict(prompt="a fox", width=256, height=256, steps=2, seed=9)


def run(ctx, **fields):
    return pixels(generate_images(ctx, ImageRequest(**{**SMALL, **fields}), None)[0])


def retrained(source, target) -> None:
    """What another training run writes: the same LoRA layout, other numbers, over ``target``."""
    with safe_open(str(source), "pt") as file:
        tensors = {key: file.get_tensor(key) * 3 for key in file.keys()}
        meta = file.metadata()
    save_file(tensors, str(target), metadata=meta)


def test_a_lora_file_rewritten_in_place_is_loaded_anew(image_ctx):
    loras = checkpoints.loras_dir(image_ctx.settings)
    style = loras / "people" / "style.safetensors"
    folder = loras / "retrain"
    folder.mkdir(exist_ok=True)
    path = folder / "retrained.safetensors"
    shutil.copy(style, path)
    lora = (("retrain/retrained.safetensors", 1.0),)
    first = run(image_ctx, loras=lora)
    retrained(style, folder / "second_version.safetensors")
    second_alone = run(image_ctx, loras=(("retrain/second_version.safetensors", 1.0),))
    assert not np.array_equal(second_alone, first)
    run(image_ctx, loras=lora)  # the first version is the active set again

    before = path.stat()
    retrained(style, path)  # the Train tab writes the new version over the same file
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))  # a later write, on any clock
    assert np.array_equal(run(image_ctx, loras=lora), second_alone)


def test_the_version_is_read_once_when_the_request_is_built(tmp_path):
    path = tmp_path / "mine.safetensors"
    path.write_bytes(b"x" * 10)
    first = LoraFile(path, 0.8, "mine")
    stat = path.stat()
    assert first.version == (stat.st_mtime_ns, 10)
    path.write_bytes(b"y" * 12)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5))
    assert first.version == (stat.st_mtime_ns, 10)  # unchanged: read at construction
    second = LoraFile(path, 0.8, "mine")
    assert second.version == (stat.st_mtime_ns + 5, 12)
    assert active_key([first]) != active_key([second]) and first.adapter_name != second.adapter_name
    assert LoraFile(tmp_path / "gone.safetensors", 1.0, "gone").version == (0, 0)
