"""Files that outlive a restart: with STUDIO_DATA (a Space's /data), everything the studio writes
lands under it; a Space without it says so on the page. And the Space's README header is the
one the catalog makes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from studio import space_config
from studio.settings import LASTING_FOLDERS, load_settings
from tests.conftest import ROOT, free_port, hub_free_env


def test_every_lasting_folder_moves_under_data_unless_set_on_its_own(tmp_path):
    settings = load_settings([], env={"STUDIO_DATA": str(tmp_path), "STUDIO_LORAS_DIR": "/elsewhere/loras"})
    for name in LASTING_FOLDERS:
        folder = Path(getattr(settings, name))
        assert folder == Path("/elsewhere/loras") if name == "loras_dir" else tmp_path in folder.parents, name


def test_a_space_with_persistent_storage_uses_it(tmp_path, monkeypatch):
    import studio.settings as settings_module

    monkeypatch.setattr(settings_module, "SPACE_STORAGE", tmp_path)
    on_space = load_settings([], env={"SPACE_ID": "teacher/genai-studio"})
    assert on_space.data == tmp_path and on_space.outputs == tmp_path / "outputs"
    assert load_settings([], env={}).data is None  # not a Space: nothing moves


def test_the_readme_header_is_the_one_the_catalog_makes():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert space_config.readme_header(text) == space_config.header(), (
        "README.md's header is out of date: run python -m studio.space_config --write")


def test_every_model_a_space_offers_is_preloaded():
    preloaded = "\n".join(space_config.preloads())
    for name, model_id in space_config.preloaded():
        repo = "/".join(model_id.split("/")[:2])
        assert repo in preloaded, (name, model_id)
    sdxl = next(line for line in space_config.preloads() if line.startswith("stabilityai/"))
    assert ".fp16.safetensors" in sdxl and "diffusion_pytorch_model.safetensors" not in sdxl  # fp16 files only


def test_everything_the_studio_writes_lands_under_studio_data(tmp_path):
    """The app started as a Space starts it, in an empty working folder, with STUDIO_DATA set: a
    picture, a reply's record and the browser-id secret are written, and nothing outside it."""
    from gradio_client import Client

    workdir, data = tmp_path / "work", tmp_path / "data"
    workdir.mkdir()
    port = free_port()
    env = hub_free_env(PYTHONUNBUFFERED="1", STUDIO_DATA=str(data), GRADIO_TEMP_DIR=str(tmp_path / "gradio-temp"))
    log = open(tmp_path / "app.log", "w")
    process = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--profile", "tiny", "--port", str(port)],
                               cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 240
        while True:
            assert process.poll() is None, (tmp_path / "app.log").read_text()
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "app.log").read_text()
            time.sleep(0.5)
        client = Client(url, verbose=False)
        client.predict("a fox", width=256, height=256, steps=1, api_name="/generate_image")
        client.predict("Hello", max_new_tokens=4, api_name="/generate")
    finally:
        process.terminate()
        process.wait(15)
    assert list(workdir.iterdir()) == []  # nothing in the working folder
    written = [p.relative_to(data).as_posix() for p in data.rglob("*") if p.is_file()]
    assert any(p.startswith("outputs/images/") and p.endswith(".png") for p in written)
    assert any(p.startswith(".cache/studio/") and p.endswith("browser-state-secret") for p in written)


def test_a_signed_in_student_owns_by_their_hugging_face_name(monkeypatch):
    """Sign in with Hugging Face (a Space with hf_oauth): the OAuth session names the owner."""
    from types import SimpleNamespace

    from tabs import owner

    ctx = SimpleNamespace(settings=load_settings([], env={}))
    signed_in = SimpleNamespace(username=None, session={"oauth_info": {"userinfo": {"preferred_username": "mei"}}},
                                session_hash="abc")
    assert owner.user_of(ctx, signed_in) == "hf-mei"
    assert owner.key_for(ctx, signed_in, "0" * 32) == "user-hf-mei"
    anonymous = SimpleNamespace(username=None, session={}, session_hash="abc")
    assert owner.user_of(ctx, anonymous) is None
    logged_in = SimpleNamespace(username="teacher", session_hash="abc")
    assert owner.user_of(ctx, logged_in) == "teacher"
    on_class = SimpleNamespace(settings=load_settings(["--class-password", "x", "--auth", "teacher:t"], env={}))
    assert owner.user_of(on_class, SimpleNamespace(username="mei", session_hash="abc")) is None  # owns by browser
    assert owner.user_of(on_class, logged_in) == "teacher"
    monkeypatch.setenv("SPACE_ID", "teacher/genai-studio")
    monkeypatch.setenv("OAUTH_CLIENT_ID", "x")
    assert owner.hf_sign_in_offered()
    monkeypatch.delenv("OAUTH_CLIENT_ID")
    assert not owner.hf_sign_in_offered()
