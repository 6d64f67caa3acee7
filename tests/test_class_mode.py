"""A class on a shared link (issue 26), through gradio_client as students and a teacher use it:
roles, a class password, a student's limits, files nobody can guess, a cancelled run that stops,
and the safety checker on every picture."""

from __future__ import annotations

import re
import time
import zipfile
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.conftest import start_app, stop_app

CLASS_PASSWORD = "lantern"
TEACHER = ("teacher", "t-secret")


@pytest.fixture(scope="module")
def class_app(tiny_cache_dir, tmp_path_factory):
    """A class on a shared server: reachable by others (--host 0.0.0.0), a teacher login, a class
    password for everyone else, and a teacher's limits."""
    app = start_app(["--host", "0.0.0.0", "--auth", ":".join(TEACHER), "--admin", TEACHER[0],
                     "--class-password", CLASS_PASSWORD, "--student-images", "2", "--student-runs", "2",
                     "--student-steps", "20", "--student-megapixels", "0.3"],
                    tiny_cache_dir, tmp_path_factory.mktemp("class"), timeout=180)
    yield app
    stop_app(app)


def client(app, name: str, password: str = CLASS_PASSWORD):
    from gradio_client import Client

    return Client(app.url, verbose=False, auth=(name, password))


@pytest.fixture(scope="module")
def teacher(class_app):
    return client(class_app, *TEACHER)


@pytest.fixture(scope="module")
def mei(class_app):
    return client(class_app, "mei")


@pytest.fixture(scope="module")
def ken(class_app):
    return client(class_app, "ken")


SMALL = dict(prompt="a lantern", width=256, height=256, steps=2, seed=5)


def test_a_student_cannot_log_in_as_the_teacher(class_app):
    from gradio_client import Client

    with pytest.raises(Exception):
        Client(class_app.url, verbose=False, auth=(TEACHER[0], CLASS_PASSWORD))


@pytest.mark.parametrize("api_name,arguments", [
    ("/models_free", {"model": "all"}),
    ("/class_status", {}),
    ("/class_limits", {"changes": {"images": 8}}),
    ("/class_cancel", {"run_id": 0}),
    ("/wall_hide", {"item_id": "x"}),
])
def test_the_teachers_controls_are_refused_to_a_student_with_a_sentence(mei, api_name, arguments):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="Only the teacher can"):
        mei.predict(api_name=api_name, **arguments)


def test_the_teacher_has_them(teacher):
    status = teacher.predict(api_name="/class_status")
    assert status["limits"]["images"] == 2 and "running" in status["queue"]
    assert teacher.predict(model="all", api_name="/models_free")["freed"] >= 0


def test_a_students_limits_hold_and_the_teacher_is_free_of_them(mei, teacher):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="at most 2 image"):
        mei.predict(**SMALL | {"image_number": 3}, api_name="/generate_image")
    with pytest.raises(AppError, match="megapixels"):
        mei.predict(**SMALL | {"width": 1024, "height": 1024}, api_name="/generate_image")
    with pytest.raises(AppError, match="at most 20 steps"):
        mei.predict(**SMALL | {"steps": 30}, api_name="/generate_image")
    with pytest.raises(AppError, match="not on this class's list"):
        mei.predict(**SMALL | {"checkpoint": "someone/their-own-model"}, api_name="/generate_image")
    with pytest.raises(AppError, match="not on this class's list"):
        mei.predict(prompt="hi", model_id="someone/a-big-llm", max_new_tokens=2, api_name="/generate")
    answer = teacher.predict(**SMALL | {"image_number": 3}, api_name="/generate_image")
    assert len(answer["images"]) == 3


def test_results_have_unguessable_names_and_another_student_cannot_fetch_a_guess(mei, ken, class_app):
    answer = mei.predict(**SMALL, api_name="/generate_image")
    name = answer["images"][0]["file_name"]
    assert re.fullmatch(r"\d{5}-\d{6}-5-[0-9a-f]{16}\.png", name)
    saved = next(class_app.outputs.rglob(name))
    # The name without its random part (what the old naming was) is nothing on the server.
    guess = saved.with_name(re.sub(r"-[0-9a-f]{16}\.png$", ".png", name))
    cookies = ken._session_cookies if hasattr(ken, "_session_cookies") else {}
    found = httpx.get(f"{class_app.url}gradio_api/file={guess}", cookies=cookies)
    assert found.status_code in (401, 403, 404)


def _runs_of(teacher, who: str) -> list[dict]:
    queue = teacher.predict(api_name="/class_status")["queue"]
    return [run for run in queue["running"] + queue["waiting"] if who in (run["who"] or "")]


def test_a_students_runs_at_once_are_capped(mei, teacher):
    from gradio_client.exceptions import AppError

    long = SMALL | {"steps": 20, "width": 512, "height": 512 * 3 // 5 // 8 * 8}
    jobs = [mei.submit(**long, api_name="/generate_image") for _ in range(2)]
    # Until the queue holds both (a slow machine may take seconds to hand them over).
    deadline = time.monotonic() + 60
    while len(_runs_of(teacher, "mei")) < 2:
        assert time.monotonic() < deadline, "the two runs never reached the queue"
        time.sleep(0.2)
    with pytest.raises(AppError, match=r"most your teacher allows at once \(2\)"):
        mei.predict(**long, api_name="/generate_image")
    for job in jobs:
        job.cancel()


def test_cancelled_api_calls_stop_their_work(ken, teacher):
    """Three long jobs submitted and cancelled through the API: their work stops, so at most one
    is ever running, and none is a moment after."""
    long = SMALL | {"steps": 20, "width": 512, "height": 576}
    other = [ken.submit(**long, api_name="/generate_image") for _ in range(2)]
    other.append(teacher.submit(**long, api_name="/generate_image"))
    time.sleep(2.0)
    most = 0
    for job in other:
        job.cancel()
        most = max(most, len(teacher.predict(api_name="/class_status")["queue"]["running"]))
    deadline = time.monotonic() + 30
    while teacher.predict(api_name="/class_status")["queue"]["running"]:
        assert time.monotonic() < deadline, "a cancelled call kept running"
        time.sleep(0.5)
    assert most <= 1


def test_a_zip_that_would_unpack_too_large_is_refused_before_unpacking(tmp_path, monkeypatch):
    from studio.errors import BadInput
    from studio.train import image_data

    archive = tmp_path / "set.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("a.png", b"\0" * 200_000)  # compresses to almost nothing
        zipped.writestr("a.txt", "a photo")
    monkeypatch.setattr(image_data, "MAX_ZIP_BYTES", 100_000)
    target = tmp_path / "out"
    with pytest.raises(BadInput, match="would unpack to"):
        image_data.gather(archive, target)
    assert not any(target.iterdir())
    monkeypatch.setattr(image_data, "MAX_ZIP_MEMBERS", 1)
    with pytest.raises(BadInput, match="holds 2 files"):
        image_data.gather(archive, target)


def _flag_everything(studio) -> None:
    """The rule this test controls: the twin's concept thresholds below any cosine, so the real
    checker's own scoring flags every picture."""
    import torch

    with studio.cache.use(studio.spec("safety_checker")) as checker, torch.no_grad():
        checker.model.concept_embeds_weights.fill_(-2.0)


def _flag_nothing(studio) -> None:
    import torch

    with studio.cache.use(studio.spec("safety_checker")) as checker, torch.no_grad():
        checker.model.concept_embeds_weights.fill_(1.0)


def test_the_safety_checker_runs_on_every_picture_making_path(studio_ctx, tmp_path):
    from studio import safety
    from studio.faces import pipeline
    from studio.faces.samples import draw_faces
    from studio.image.edit import upscale
    from studio.image.edit.work import Diffusion
    from studio.image.generate import generate_images
    from studio.image.request import ImageRequest
    from studio.pictures import metadata

    faces, target = tmp_path / "faces.png", tmp_path / "target.png"
    draw_faces((640, 640), ((320, 320),), seed=1).save(faces)
    draw_faces(seed=2).save(target)
    photo = tmp_path / "photo.png"
    Image.effect_noise((64, 48), 60).convert("RGB").save(photo)
    _flag_everything(studio_ctx)
    try:
        with safety.screening(studio_ctx, True):
            image = generate_images(studio_ctx, ImageRequest(prompt="x", width=256, height=256, steps=1, seed=1),
                                    tmp_path)[0]
            edited = upscale.upscale(studio_ctx, upscale.UpscaleRequest(image=str(photo), mode="Upscale (Fast 2×)",
                                                                        diffusion=Diffusion()), tmp_path)
            swapped = pipeline.swap_faces(studio_ctx, pipeline.SwapRequest(
                source_images=[str(faces)], target_image=str(target)), tmp_path)
        for result in (image, edited, swapped):
            assert safety.NOTE in result.notes
            assert not np.asarray(result.image).any()  # black, as shown
            saved = np.asarray(Image.open(result.path).convert("RGB"))
            assert not saved.any()  # and as kept: never the original
        assert metadata.read_parameters(image.path)["studio"]["safety"] == "blacked out"
        # Off (a workstation), the same run is left alone.
        plain = generate_images(studio_ctx, ImageRequest(prompt="x", width=256, height=256, steps=1, seed=1),
                                tmp_path)[0]
        assert safety.NOTE not in plain.notes and np.asarray(plain.image).any()
    finally:
        _flag_nothing(studio_ctx)


def test_a_training_job_holds_its_memory_in_the_cache_or_waits_saying_why(studio_ctx, tmp_path, monkeypatch):
    from studio.train.memory import JobMemory

    memory = JobMemory(studio_ctx)
    before = studio_ctx.cache.reserved_bytes()
    monkeypatch.setattr(memory, "needs", lambda folder: 1024)
    assert memory.take(tmp_path / "job-a") is None
    assert studio_ctx.cache.reserved_bytes() == before + 1024
    memory.give_back(tmp_path / "job-a")
    assert studio_ctx.cache.reserved_bytes() == before
    budget = studio_ctx.cache.budget_bytes
    if budget is not None:
        monkeypatch.setattr(memory, "needs", lambda folder: budget * 2)
        reason = memory.take(tmp_path / "job-b")
        assert reason and reason.startswith("Waiting for GPU memory")
        assert studio_ctx.cache.reserved_bytes() == before


def test_the_class_wall_takes_only_your_own_results_and_the_teacher_hides_them(studio_ctx, tmp_path):
    from studio.errors import BadInput
    from studio.image.generate import generate_images
    from studio.image.request import ImageRequest
    from studio.wall import Wall

    mine, theirs = tmp_path / "images" / "user-mei", tmp_path / "images" / "user-ken"
    mine.mkdir(parents=True)
    theirs.mkdir(parents=True)
    picture = generate_images(studio_ctx, ImageRequest(prompt="a kite", width=256, height=256, steps=1, seed=2),
                              mine)[0]
    wall = Wall(tmp_path)
    with pytest.raises(BadInput, match="Only your own results"):
        wall.publish("user-ken", theirs, picture.path)
    item = wall.publish("user-mei", mine, picture.path, author="mei")
    assert item.prompt == "a kite" and Path(item.path).is_file() and Path(item.path).parent == tmp_path / "wall"
    assert [i.id for i in wall.items()] == [item.id]
    wall.set_hidden(item.id, True)
    assert wall.items() == [] and [i.id for i in Wall(tmp_path).items(with_hidden=True)] == [item.id]  # kept on disk
