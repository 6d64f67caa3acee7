"""Model folders (checkpoints, LoRAs): nested and symlinked folders listed, new files seen
without a restart, names that try to leave the folder refused; families detected without
loading; previews from latents."""

from __future__ import annotations

import pytest

from studio.errors import BadInput
from studio.image import families
from studio.models import model_files
from studio.image.previews import latents_to_rgb


def test_nested_and_symlinked_folders_are_listed_and_new_files_appear(tmp_path):
    root = tmp_path / "checkpoints"
    (root / "sdxl" / "anime").mkdir(parents=True)
    (root / "sdxl" / "anime" / "a.safetensors").write_bytes(b"")
    elsewhere = tmp_path / "big-drive"
    elsewhere.mkdir()
    (elsewhere / "b.safetensors").write_bytes(b"")
    (root / "linked").symlink_to(elsewhere, target_is_directory=True)
    (root / "notes.txt").write_text("not a model")
    pipeline = root / "my-diffusers-model"
    (pipeline / "unet").mkdir(parents=True)
    (pipeline / "model_index.json").write_text("{}")
    (pipeline / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"")
    listed = model_files.list_files(root, (".safetensors",), with_pipeline_folders=True)
    assert listed == ["linked/b.safetensors", "my-diffusers-model", "sdxl/anime/a.safetensors"]
    (root / "new.safetensors").write_bytes(b"")
    assert "new.safetensors" in model_files.list_files(root, (".safetensors",))
    assert model_files.resolve(root, "linked/b.safetensors", "checkpoint").name == "b.safetensors"


@pytest.mark.parametrize("name", ["../x.safetensors", "/etc/passwd", "a/../../x", "C:/x.safetensors", ""])
def test_names_that_leave_the_folder_are_refused(tmp_path, name):
    with pytest.raises(BadInput):
        model_files.resolve(tmp_path, name, "LoRA")


def test_families_from_model_index_and_single_file_keys(tmp_path):
    index = tmp_path / "model_index.json"
    index.write_text('{"_class_name": "ZImagePipeline"}')
    assert families.from_model_index(index).name == "zimage"
    index.write_text('{"_class_name": "FluxPipeline"}')
    assert families.from_model_index(index).name == "flux"
    index.write_text('{"_class_name": "WanPipeline"}')  # a video model: no family of the Image tab
    with pytest.raises(BadInput, match="WanPipeline"):
        families.from_model_index(index)
    assert families.from_single_file_keys(["conditioner.embedders.1.model.ln_final.weight"], "x").name == "sdxl"
    assert families.from_single_file_keys(["cond_stage_model.transformer.x"], "x").name == "sd15"
    with pytest.raises(BadInput, match="Is it a LoRA"):
        families.from_single_file_keys(["lora_unet_down_blocks_0.alpha"], "x.safetensors")


def test_z_image_is_never_loaded_in_fp16():
    import torch

    assert families.FAMILIES["zimage"].torch_dtype(torch.float16, "cpu") == torch.float32
    assert families.FAMILIES["sdxl"].torch_dtype(torch.float16, "cpu") == torch.float16


@pytest.mark.parametrize("channels,factors", [(4, families.FAMILIES["sdxl"].latent_rgb), (16, None)])
def test_latent_previews_are_small_rgb_images(channels, factors):
    import torch

    image = latents_to_rgb(torch.randn(channels, 96, 128), factors)
    assert image.mode == "RGB" and image.size == (256, 192)
