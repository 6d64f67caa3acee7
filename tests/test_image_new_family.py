"""A new image family is one module: defined in a temporary module (here SD 1.5 run with
perturbed-attention guidance, diffusers' PAG pipeline), with no other file edited, it is found, its twin is built, its
checkpoint is offered by the Image tab with its note, and it draws with its own defaults."""

from __future__ import annotations

import shutil
import textwrap

import numpy as np
import pytest

FAMILY_MODULE = '''
"""A test family: SD 1.5 with perturbed-attention guidance, 12 steps of Euler."""

from pathlib import Path

from studio.image.families.base import FamilyDefaults, ImageFamily, PromptWindow

SKETCH = ImageFamily(
    name="sketch_pag",
    label="Sketch PAG",
    pipeline_classes={"txt2img": "StableDiffusionPAGPipeline", "img2img": "StableDiffusionPAGImg2ImgPipeline"},
    defaults=FamilyDefaults(steps=3, cfg=5.0, scheduler="Euler", width=256, height=256, size_multiple=8),
    schedulers=("Euler", "Euler a"),
    description="SD 1.5 with perturbed-attention guidance, 3 steps.",
    twin=__name__ + ":build_twin",
    prompt_window=PromptWindow(tokenizer_attr="tokenizer", limit=77, name="CLIP"),
    unused={"performance": "Sketch PAG uses its own 3 steps; the presets are for SDXL."},
    load_extras={"safety_checker": None, "requires_safety_checker": False},
)


def build_twin(folder: Path) -> None:
    from diffusers import EulerDiscreteScheduler, StableDiffusionPAGPipeline

    from studio.models import tiny

    base = tiny.ensure_built("sd15", folder.parent)
    pipe = StableDiffusionPAGPipeline.from_pretrained(base, safety_checker=None, requires_safety_checker=False)
    pipe.scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config)
    pipe.save_pretrained(folder)
'''


@pytest.fixture()
def new_family(tmp_path, monkeypatch):
    from studio.image import families

    extra = tmp_path / "family_modules"
    extra.mkdir()
    (extra / "sketch_pag.py").write_text(textwrap.dedent(FAMILY_MODULE), encoding="utf-8")
    monkeypatch.setattr(families, "__path__", [*families.__path__, str(extra)])
    families.refresh()
    yield families.FAMILIES["sketch_pag"]
    monkeypatch.undo()
    families.refresh()


@pytest.fixture()
def sketch_ctx(tiny_cache_dir, tmp_path):
    from studio.context import StudioContext
    from studio.settings import load_settings

    (tmp_path / "checkpoints").mkdir()
    settings = load_settings(
        ["--profile", "tiny", "--cache-dir", str(tiny_cache_dir), "--outputs", str(tmp_path / "outputs"),
         "--checkpoints-dir", str(tmp_path / "checkpoints"), "--loras-dir", str(tmp_path / "loras")], env={},
    )
    return StudioContext(settings)


def test_a_family_in_one_new_module_is_offered_and_draws(new_family, sketch_ctx, tmp_path):
    import tabs
    from studio.image import checkpoints, families
    from studio.image.generate import generate_images
    from studio.image.request import ImageRequest
    from studio.models import tiny

    assert families.family("sketch_pag") is new_family
    assert "StableDiffusionPAGPipeline" in families.pipeline_class_names()  # resolved ahead by ml_imports
    twin = tiny.ensure_built("sketch_pag", sketch_ctx.settings.tiny_dir)  # its builder, found through the family
    shutil.copytree(twin, sketch_ctx.settings.checkpoints_dir / "my-sketch", ignore=shutil.ignore_patterns(tiny.MARKER))

    # The Image tab offers the checkpoint, and picking it shows the family's note and unused controls.
    demo = tabs.build_app(sketch_ctx)
    dropdown = next(block for block in demo.blocks.values() if getattr(block, "elem_id", None) == "image-checkpoint")
    assert "my-sketch" in [value for _, value in dropdown.choices]
    assert checkpoints.family_hint(sketch_ctx, "my-sketch") is new_family
    note_id = next(i for i, block in demo.blocks.items() if getattr(block, "elem_id", None) == "image-family")
    on_checkpoint = next(fn for fn in demo.fns.values()
                         if [b._id for b in fn.inputs][:1] == [dropdown._id] and note_id in [b._id for b in fn.outputs])
    note, performance, *_ = on_checkpoint.fn("my-sketch", "Speed")
    assert "**Sketch PAG**: SD 1.5 with perturbed-attention guidance" in note
    assert "its own 3 steps" in note and performance["interactive"] is False

    # It draws with its own defaults (3 Euler steps), and a seed reproduces.
    request = dict(prompt="a pencil sketch of a fox", checkpoint="my-sketch", seed=7, width=256, height=256)
    first = generate_images(sketch_ctx, ImageRequest(**request), None)[0]
    again = generate_images(sketch_ctx, ImageRequest(**request), None)[0]
    assert first.steps_run == 3 and first.scheduler_used == "EulerDiscreteScheduler" and first.image.size == (256, 256)
    assert np.array_equal(np.asarray(first.image), np.asarray(again.image))


def test_the_family_is_gone_once_its_module_is(new_family):
    from studio.image import families

    assert "sketch_pag" in families.FAMILIES  # while the module is there; the fixture then removes it


def test_two_families_of_one_name_are_refused_and_the_known_ones_kept(tmp_path, monkeypatch):
    from studio.image import families

    (tmp_path / "twice.py").write_text(
        "from studio.image.families.sdxl import SDXL as AGAIN\n", encoding="utf-8")
    known = dict(families.FAMILIES)
    monkeypatch.setattr(families, "__path__", [*families.__path__, str(tmp_path)])
    with pytest.raises(RuntimeError, match="Two image families are called sdxl"):
        families.refresh()
    assert families.FAMILIES == known
