"""Image LoRA (DreamBooth-style) on the tiny SDXL twin: the file lands in the loras folder,
diffusers' load_lora_weights reads it, and the Image tab's list shows it."""

from __future__ import annotations

import zipfile

import pytest

from studio.errors import BadInput
from studio.progress import wait_until
from studio.settings import with_overrides
from studio import jobs
from studio.train import service
from studio.train.runner import Runner

OWNER = "session-images"


@pytest.fixture()
def setup(tiny_settings, tmp_path):
    settings = with_overrides(tiny_settings, outputs=str(tmp_path / "outputs"), loras_dir=str(tmp_path / "loras"))
    runner = Runner(settings.outputs).start()
    yield settings, runner
    runner.close()


def test_sample_pictures_train_an_sdxl_lora_the_image_tab_lists(setup):
    settings, runner = setup
    estimate = service.estimate(settings, "image_lora", "", {"r": 4})
    assert estimate["target_modules"] == ["to_q", "to_k", "to_v", "to_out.0"] and 0 < estimate["trainable_percent"] < 100
    job_id = service.start(settings, runner, OWNER, "image_lora", service.SAMPLES["image_lora"],
                           {"max_steps": 4, "resolution": 64, "batch_size": 2, "save_every": 2}, adapter_name="red-circle")
    folder = jobs.job_dir(settings.outputs, OWNER, job_id)
    assert wait_until(lambda: jobs.read_state(folder).get("state") not in jobs.ACTIVE, 300, 0.3)
    info = jobs.summary(folder)
    assert info["state"] == "done", info["message"]
    assert [p["step"] for p in info["loss_history"]] == [1, 2, 3, 4]
    assert info["lora_file"].endswith("red-circle.safetensors")

    from diffusers import StableDiffusionXLPipeline

    from studio.image.checkpoints import offered_loras

    # Listed to its owner in the Image tab, and to nobody else.
    own = f"_users/{OWNER}/red-circle.safetensors"
    assert own in offered_loras(settings, OWNER)
    assert own not in offered_loras(settings) and own not in offered_loras(settings, "browser-" + "f" * 32)
    pipe = StableDiffusionXLPipeline.from_pretrained(jobs.read_json(folder / "job.json")["model_path"])
    pipe.load_lora_weights(info["lora_file"])
    assert pipe.get_list_adapters()["unet"]

    with pytest.raises(BadInput, match="already have red-circle.safetensors"):
        service.start(settings, runner, OWNER, "image_lora", service.SAMPLES["image_lora"], {}, adapter_name="red-circle")


def test_bad_picture_sets_are_refused_with_a_sentence(setup, tmp_path):
    settings, runner = setup
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("notes.md", "no pictures")
    with pytest.raises(BadInput, match="holds no .png"):
        service.start(settings, runner, OWNER, "image_lora", empty, {})
    uncaptioned = tmp_path / "one.zip"
    with zipfile.ZipFile(uncaptioned, "w") as archive:
        archive.write(service.SAMPLES["image_lora"] / "circle-1.png", "../../escape/circle-1.png")
    with pytest.raises(BadInput, match="has no caption"):
        service.start(settings, runner, OWNER, "image_lora", uncaptioned, {})
    assert not (tmp_path / "escape").exists()
    with pytest.raises(BadInput, match="works on SDXL checkpoints"):
        service.start(settings, runner, OWNER, "image_lora", service.SAMPLES["image_lora"], {},
                      base_model="Tongyi-MAI/Z-Image-Turbo")
    with pytest.raises(BadInput, match="multiple of 8"):
        service.start(settings, runner, OWNER, "image_lora", service.SAMPLES["image_lora"], {"resolution": 100})
    assert jobs.owner_jobs(settings.outputs, OWNER) == []  # nothing half-made was left behind
