"""What travels between the front and a Ray replica (no Ray needed): pictures as PNG bytes and
back unchanged, uploads as their files, seeds fixed at the front, errors as themselves; and the
@replicated mark, which changes nothing without a cluster."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.cluster import wire
from studio.errors import BadInput, StudioError
from studio.image.request import ImageRequest
from studio.replicated import REGISTRY, model_key, replicated


def _noise(mode: str = "RGB", size=(37, 23)) -> Image.Image:
    rng = np.random.default_rng(0)
    channels = {"RGB": 3, "RGBA": 4}.get(mode)
    shape = (size[1], size[0], channels) if channels else (size[1], size[0])
    return Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
def test_a_picture_travels_as_png_bytes_and_comes_back_pixel_for_pixel(mode):
    picture = _noise(mode)
    packed = wire.pack({"result": [picture]})
    assert isinstance(packed["result"][0], wire.Png) and packed["result"][0].data.startswith(b"\x89PNG")
    back = wire.unpack(packed)["result"][0]
    assert back.mode == mode and np.array_equal(np.array(back), np.array(picture))


def test_an_upload_travels_as_its_file_and_is_read_from_a_file_of_the_same_name(tmp_path):
    upload = tmp_path / "front" / "photo.jpg"
    upload.parent.mkdir()
    _noise().save(upload)
    request = ImageRequest(prompt=str(upload), init_image=str(upload), task="img2img")  # a prompt is never a file
    packed = wire.pack({"request": request})
    assert packed["request"].prompt == str(upload)
    assert isinstance(packed["request"].init_image, wire.Upload) and packed["request"].init_image.name == "photo.jpg"
    replica_side = wire.unpack(packed, tmp_path / "replica")
    path = Path(replica_side["request"].init_image)
    assert path.name == "photo.jpg" and path.parent.parent == tmp_path / "replica"
    assert path.read_bytes() == upload.read_bytes()
    assert request.init_image == str(upload)  # the caller's request is untouched


def test_several_uploads_of_one_name_stay_apart(tmp_path):
    first, second = tmp_path / "a" / "face.png", tmp_path / "b" / "face.png"
    for path, colour in ((first, "red"), (second, "blue")):
        path.parent.mkdir()
        Image.new("RGB", (4, 4), colour).save(path)
    sent = wire.unpack(wire.pack({"source_images": [str(first), str(second)]}), tmp_path / "replica")
    paths = [Path(p) for p in sent["source_images"]]
    assert paths[0] != paths[1] and [p.read_bytes() for p in paths] == [first.read_bytes(), second.read_bytes()]


def test_random_seeds_are_drawn_at_the_front_so_a_retry_draws_the_same_pixels():
    @dataclass(frozen=True)
    class Diffusion:
        seed: int = -1

    @dataclass(frozen=True)
    class Job:
        diffusion: Diffusion = field(default_factory=Diffusion)
        seed: int | None = None

    fixed = wire.fixed_seeds({"request": ImageRequest(prompt="x", seed=-1), "job": Job(), "kept": ImageRequest(seed=7)})
    assert 0 <= fixed["request"].seed < wire.MAX_SEED
    assert fixed["job"].seed is not None and fixed["job"].diffusion.seed >= 0
    assert fixed["kept"].seed == 7


def test_a_finished_list_names_what_was_delivered_instead_of_sending_it_again():
    first, second = object(), _noise()
    packed = wire.finished([first, second], delivered=[first])
    assert packed[0] == wire.Delivered(0) and isinstance(packed[1], wire.Png)
    saved_copy = "the front's saved copy"
    assert wire.with_delivered(wire.unpack(packed), [saved_copy])[0] == saved_copy


def test_errors_travel_as_themselves_or_as_their_sentence():
    assert isinstance(wire.portable(BadInput("Seed must be a whole number.")), BadInput)

    class Unpicklable(Exception):
        def __init__(self, a, b):
            super().__init__(f"{a} {b}")

    unpicklable = Unpicklable  # a local class cannot be pickled
    sent = wire.portable(unpicklable("out", "of order"))
    assert isinstance(sent, StudioError) and "out of order" in str(sent)


def test_a_replicated_function_runs_here_without_a_cluster_and_goes_to_the_cluster_with_one():
    calls = []

    @replicated("test-double", lambda arguments: model_key("image", arguments["request"]), folder="folder")
    def double(studio, request, folder=None):
        return request * 2

    try:
        class NoCluster:
            cluster = None

        assert double(NoCluster(), 21) == 42

        class Cluster:
            in_use = True

            def call(self, entry, arguments):
                calls.append((entry.name, arguments, entry.route(arguments)))
                return "remote"

        class WithCluster:
            cluster = Cluster()

        assert double(WithCluster(), 21, folder="/tmp/x") == "remote"
        assert calls == [("test-double", {"request": 21, "folder": "/tmp/x"}, "image:21")]
        assert double.here(WithCluster(), 4) == 8
        with pytest.raises(ValueError, match="two replicated functions"):
            replicated("test-double", lambda a: "")(lambda studio: None)
    finally:
        REGISTRY.pop("test-double", None)


def test_every_module_with_replicated_functions_is_known_to_the_replicas():
    """A replica finds functions by name in the modules it imports (replica.REPLICATED_MODULES);
    one left out there would be missing on every replica."""
    root = Path(__file__).resolve().parents[1]
    marked = {".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
              for path in (root / "studio").rglob("*.py")
              if "@replicated(" in path.read_text(encoding="utf-8") and path.name != "replicated.py"}
    source = (root / "studio" / "cluster" / "replica.py").read_text(encoding="utf-8")
    listed = {name for name in marked if f'"{name}"' in source}
    assert marked and marked == listed


def test_without_ray_settings_ray_is_never_imported(tiny_settings):
    import subprocess

    code = ("import sys, tabs; from studio.context import StudioContext; from studio.settings import load_settings; "
            "s = load_settings(['--profile', 'tiny', '--cache-dir', sys.argv[1]], env={}); "
            "tabs.build_app(StudioContext(s)); print('ray' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(tiny_settings.cache_dir)], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1], timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"
