"""The app as a user starts it: `python app.py --profile tiny`, offline."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import ROOT, start_app, stop_app


def run_app(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *args], capture_output=True, text=True, timeout=60
    )


def test_help_is_a_clear_manual():
    result = run_app("--help")
    assert result.returncode == 0
    for flag in ("--profile", "--share", "--auth", "--device", "--vram-budget", "--concurrency",
                 "--max-upload-mb", "--lang", "STUDIO_PROFILE", "--queue-size", "--checkpoints-dir",
                 "--loras-dir", "--upscalers-dir", "--faces-dir", "STUDIO_CHECKPOINTS_DIR"):
        assert flag in result.stdout


def test_bad_flag_value_is_a_one_line_error():
    result = run_app("--vram-budget", "plenty")
    assert result.returncode == 2
    assert "vram-budget" in result.stderr and "Traceback" not in result.stderr


def test_a_typo_in_a_model_name_is_a_one_line_error_listing_the_names():
    result = run_app("--profile", "tiny", "--model", "txet=foo/bar")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    first_line = result.stderr.strip().splitlines()[0]
    assert "'txet' is not a model name; known names: " in first_line and "text" in first_line.split("names:")[1]


def test_a_missing_gpu_is_a_one_line_error():
    result = run_app("--profile", "tiny", "--device", "cuda", "--port", "1")
    assert result.returncode == 2
    assert "no CUDA GPU" in result.stderr and "Traceback" not in result.stderr


def test_serves_the_page_offline(running_app):
    response = httpx.get(running_app.url, timeout=10)
    assert response.status_code == 200
    assert "gradio" in response.text.lower()
    assert "running at http://127.0.0.1:" in running_app.log()
    # The device line comes once torch is imported, after the server is already up.
    deadline = time.monotonic() + 60
    while "device:" not in running_app.log() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "profile: tiny · device: cpu" in running_app.log()


def test_models_status_and_free_over_the_api(api):
    status = api.predict(api_name="/models_status")
    assert status["profile"] == "tiny"
    assert {"device", "budget_gb", "hits", "misses", "models", "memory_gb", "memory_bars"} <= set(status)
    bars = {bar["name"]: bar for bar in status["memory_bars"]}
    assert set(bars) == {"models", "ram"}  # a CPU machine: no GPU bar, nothing parked off a GPU
    assert (bars["models"]["used_gb"], bars["models"]["limit_gb"]) == (status["used_gb"], status["budget_gb"])
    assert 0 < bars["ram"]["used_gb"] <= bars["ram"]["limit_gb"] == status["memory_gb"]["ram"]["total"]
    freed = api.predict(model="all", api_name="/models_free")
    assert freed["freed"] >= 0 and freed["status"]["models"] == [
        m for m in freed["status"]["models"] if m["in_use"]
    ]


def test_models_free_unknown_model_is_a_clear_error(api):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="No loaded model"):
        api.predict(model="no/such-model", api_name="/models_free")


@pytest.fixture(scope="module")
def app_with_auth(tiny_cache_dir, tmp_path_factory):
    app = start_app(["--auth", "teacher:right-password"], tiny_cache_dir, tmp_path_factory.mktemp("auth"))
    yield app
    stop_app(app)


def test_auth_rejects_a_wrong_password(app_with_auth):
    url = app_with_auth.url
    wrong = httpx.post(url + "login", data={"username": "teacher", "password": "wrong"}, timeout=10)
    assert wrong.status_code in (400, 401)
    assert httpx.get(url + "config", timeout=10).status_code in (401, 403)
    right = httpx.post(url + "login", data={"username": "teacher", "password": "right-password"}, timeout=10)
    assert right.status_code == 200
    assert httpx.get(url + "config", cookies=right.cookies, timeout=10).status_code == 200
