"""A new edit tool is one module: declared in a temporary module (a mirror, with a direction to
pick), with no other file edited, it is found, and it appears on the Edit tab (its sub-tab, its
controls, its send-to target), in the API (its parameters with their choices in view_api()), in
the cluster's list of functions a replica runs, and in ZeroGPU's estimate; and it runs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

TOOL_MODULE = '''
"""A test tool: a mirror image of a picture."""

from dataclasses import dataclass
from typing import Any

from studio.image import gpu_seconds
from studio.image.edit import images, work
from studio.image.edit.results import EditResult
from studio.replicated import model_key
from studio.tools import declare
from studio.tools.fields import declared


@dataclass(frozen=True)
class MirrorRequest:
    image: Any = declared(kind="picture", doc="the picture to mirror")
    direction: str = declared("left-right", choices=("left-right", "top-bottom"), hint="radio",
                              doc="which way to flip it")
    repeat: int = declared(1, low=1, high=3, doc="how many times (odd: mirrored)")
    diffusion: work.Diffusion = declared(default_factory=work.Diffusion, kind="group")


def mirror(studio, request, folder=None, task=None):
    from PIL import Image, ImageOps

    picture = images.open_image(request.image, "The picture to mirror")
    for index in range(request.repeat):
        if task is not None:
            task.step(index + 1, request.repeat, "mirroring")
        picture = ImageOps.mirror(picture) if request.direction == "left-right" else ImageOps.flip(picture)
    result = EditResult(picture, "mirror", {"direction": request.direction, "repeat": request.repeat})
    return result.save(folder)


def workload(studio, request):
    return gpu_seconds.edit_load(studio, request.diffusion, request.image, 1.0, redraw=False)


TOOL = declare("mirror", MirrorRequest, mirror, workload, lambda arguments: model_key("mirror"),
               summary="Mirror `image` left-right or top-bottom. Returns the saved PNG.")
'''


@pytest.fixture()
def new_tool(tmp_path, monkeypatch):
    from studio import tools
    from studio.image import edit
    from studio.replicated import REGISTRY

    extra = tmp_path / "tool_modules"
    extra.mkdir()
    (extra / "mirror_tool.py").write_text(textwrap.dedent(TOOL_MODULE), encoding="utf-8")
    monkeypatch.setattr(edit, "__path__", [*edit.__path__, str(extra)])
    tools.refresh()
    yield tools.TOOLS["mirror"]
    monkeypatch.undo()
    REGISTRY.pop("mirror", None)
    import sys

    sys.modules.pop("studio.image.edit.mirror_tool", None)
    tools.refresh()


@pytest.fixture()
def photo(tmp_path):
    from gradio.utils import get_upload_folder

    folder = Path(get_upload_folder()) / f"new-tool-{tmp_path.name}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "photo.png"
    pixels = np.zeros((40, 60, 3), np.uint8)
    pixels[:, :20] = 255  # white on the left
    Image.fromarray(pixels).save(path)
    return path


def _app(tiny_cache_dir, tmp_path, *extra: str):
    import tabs
    from studio.context import StudioContext
    from studio.settings import load_settings

    settings = load_settings(["--profile", "tiny", "--cache-dir", str(tiny_cache_dir), "--outputs",
                              str(tmp_path / "outputs"), *extra], env={})
    return tabs.build_app(StudioContext(settings))


def test_a_new_tool_appears_everywhere_from_its_one_module(new_tool, tiny_cache_dir, tmp_path, photo):
    demo = _app(tiny_cache_dir, tmp_path)
    blocks = {getattr(b, "elem_id", None): b for b in demo.blocks.values()}
    # The Edit tab: its sub-tab, its controls (English names where it brings no strings), its run button.
    assert "edit-mirror-run" in blocks and "edit-mirror-image" in blocks
    direction = blocks["edit-mirror-direction"]
    assert [value for _, value in direction.choices] == ["left-right", "top-bottom"]
    # The API: its parameters, typed, with the choices listed.
    endpoint = demo.get_api_info()["named_endpoints"]["/mirror"]
    parameters = {p["parameter_name"]: p for p in endpoint["parameters"]}
    assert {"image", "direction", "repeat", "prompt", "checkpoint", "seed", "steps"} <= set(parameters)
    assert parameters["direction"]["type"]["enum"] == ["left-right", "top-bottom"]
    # The cluster: every replica can run it.
    from studio.cluster import replica

    assert "mirror" in replica.load_registry()
    # It runs, through the same function as every tool.
    functions = {fn.api_name: fn.fn for fn in demo.fns.values() if fn.api_name}
    answer = functions["mirror"](image={"path": str(photo)}, direction="left-right")
    mirrored = np.asarray(Image.open(answer["image"].path).convert("RGB"))
    assert mirrored[:, -20:].min() == 255 and mirrored[:, :20].max() == 0
    with pytest.raises(Exception, match="between 1 and 3"):
        functions["mirror"](image={"path": str(photo)}, repeat=5)


def test_a_new_tool_asks_zero_gpu_for_its_seconds(new_tool, tiny_cache_dir, tmp_path, photo):
    from tabs import zero_gpu_twin

    demo = _app(tiny_cache_dir, tmp_path, "--zero-gpu-emulate", "on")
    functions = {fn.api_name: fn.fn for fn in demo.fns.values() if fn.api_name}
    before = len(zero_gpu_twin.durations)
    functions["mirror"](image={"path": str(photo)}, direction="top-bottom")
    assert len(zero_gpu_twin.durations) == before + 1  # one call, through the fork, with its estimate
