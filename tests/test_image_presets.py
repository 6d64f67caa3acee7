"""Preset files as Fooocus has them: the studio's own (one per catalog family, each figure with
its source), a user's own from a temporary folder, Fooocus's keys mapped onto ImageRequest
fields, a model that is not here said (and what to download), a bad file refused."""

from __future__ import annotations

import json

import pytest

from studio.errors import BadInput
from studio.image import preset_files
from studio.image.families import of_catalog_id
from studio.image.generate import generate_images
from studio.image.request import ImageRequest, checked
from studio.settings import load_settings, with_overrides
from tests.image_helpers import image_ctx  # noqa: F401  (fixture)

# Fooocus's preset keys with the tests' own values.
FOOOCUS_STYLE = {
    "default_model": "my-sdxl.safetensors",
    "default_refiner": "None",
    "default_loras": [[True, "people/style.safetensors", 0.4], [True, "None", 1.0], [False, "off.safetensors", 1.0],
                      [True, "gone.safetensors", 0.5]],
    "default_cfg_scale": 4.5,
    "default_sample_sharpness": 3.0,
    "default_sampler": "dpmpp_2m_sde_gpu",
    "default_scheduler": "karras",
    "default_performance": "Quality",
    "default_prompt": "",
    "default_prompt_negative": "blurry",
    "default_styles": ["Fooocus V2", "Cinematic", "Someone Else's Style"],
    "default_aspect_ratio": "896*1152",
    "default_clip_skip": 2,
    "checkpoint_downloads": {"my-sdxl.safetensors": "https://example.org/my-sdxl.safetensors"},
    "lora_downloads": {"gone.safetensors": "https://example.org/gone.safetensors"},
}


@pytest.fixture
def preset_settings(image_ctx, tmp_path):
    (tmp_path / "mine.json").write_text(json.dumps(FOOOCUS_STYLE), encoding="utf-8")
    return with_overrides(image_ctx.settings, presets_dir=tmp_path)


def test_the_studio_ships_a_preset_for_each_family_with_the_source_of_each_figure(image_ctx):
    settings = image_ctx.settings
    shipped = {name: preset_files.load(settings, name) for name in ("default", "lightning", "zimage", "flux")}
    families = {name: of_catalog_id(p.values["default_model"]).name for name, p in shipped.items()}
    assert families == {"default": "sdxl", "lightning": "sdxl", "zimage": "zimage", "flux": "flux"}
    for name, preset in shipped.items():
        fields, notes = preset_files.request_fields(settings, preset)
        assert notes == [] and preset.source == "studio" and preset.description
        sources = preset.values["_sources"]
        told = {k for k in preset.values if k.startswith("default_") and k not in ("default_loras",)}
        assert told <= set(sources), (name, told - set(sources))  # every figure says where it comes from
        checked(ImageRequest(**fields))  # a valid request as it is
    assert preset_files.request_fields(settings, shipped["lightning"])[0]["performance"] == "Lightning"
    assert preset_files.request_fields(settings, shipped["zimage"])[0] == {
        "checkpoint": "Tongyi-MAI/Z-Image-Turbo", "loras": (), "cfg": 0.0, "steps": 8, "styles": (),
        "aspect_ratio": "1024×1024"}


def test_a_fooocus_preset_from_the_users_folder_becomes_request_fields(preset_settings, image_ctx):
    assert "mine" in preset_files.names(preset_settings)
    preset = preset_files.load(preset_settings, "mine")
    assert preset.source.endswith("mine.json")
    fields, notes = preset_files.request_fields(preset_settings, preset)
    assert fields == {
        "loras": (("people/style.safetensors", 0.4),), "performance": "Quality", "cfg": 4.5, "sharpness": 3.0,
        "clip_skip": 2, "scheduler": "DPM++ 2M SDE Karras", "styles": ("Fooocus V2", "Cinematic"),
        "aspect_ratio": "896×1152", "negative_prompt": "blurry",
    }
    # What is not here is said, with where to get it; the user's own checkpoint is kept.
    assert any("my-sdxl.safetensors" in n and "https://example.org/my-sdxl.safetensors" in n and "kept" in n
               for n in notes)
    assert any("gone.safetensors" in n and "https://example.org/gone.safetensors" in n for n in notes)
    assert any("Someone Else's Style" in n for n in notes)
    result = generate_images(image_ctx, ImageRequest(**{**fields, "prompt": "a fox", "width": 256, "height": 256,
                                                        "steps": 2, "seed": 1}), None)[0]
    assert result.parameters["request"]["sharpness"] == 3.0 and result.negative_prompt.startswith("blurry")


def test_a_users_preset_replaces_the_studios_of_the_same_name(image_ctx, tmp_path):
    (tmp_path / "flux.json").write_text(json.dumps({"default_cfg_scale": 2.0}), encoding="utf-8")
    settings = with_overrides(image_ctx.settings, presets_dir=tmp_path)
    preset = preset_files.load(settings, "flux")
    assert preset_files.request_fields(settings, preset) == ({"cfg": 2.0}, [])


def test_a_catalog_model_not_downloaded_says_which_id_to_fetch(tmp_path):
    settings = load_settings(["--profile", "standard", "--cache-dir", str(tmp_path)], env={})
    fields, notes = preset_files.request_fields(settings, preset_files.load(settings, "flux"))
    assert fields["checkpoint"] == "black-forest-labs/FLUX.1-schnell"  # it downloads on first use
    assert any("hf download black-forest-labs/FLUX.1-schnell" in n for n in notes)


@pytest.mark.parametrize("content,message", [
    ("{not json", "is not valid JSON"),
    ('["default_model"]', "a preset is one JSON object"),
    ('{"default_cfg_scale": "high"}', "default_cfg_scale must be a number from 0 to 30"),
    ('{"default_sample_sharpness": 99}', "default_sample_sharpness must be a number from 0 to 30"),
    ('{"default_styles": "Cinematic"}', "default_styles must be a list"),
    ('{"default_loras": [["x.safetensors"]]}', "each of default_loras is"),
    ('{"default_model": 3}', "default_model must be text"),
])
def test_a_bad_preset_is_refused_with_a_sentence(image_ctx, tmp_path, content, message):
    (tmp_path / "bad.json").write_text(content, encoding="utf-8")
    settings = with_overrides(image_ctx.settings, presets_dir=tmp_path)
    assert "bad" in preset_files.names(settings)  # listed; refused when picked
    with pytest.raises(BadInput, match=message):
        preset_files.load(settings, "bad")
    with pytest.raises(BadInput, match="There is no preset 'nothing'"):
        preset_files.load(settings, "nothing")
