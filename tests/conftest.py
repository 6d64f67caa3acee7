"""Shared fixtures: tiny-profile settings and context, a running app, a real Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
# Reference data beside the project in CI only; tests reach it through `reference_dir`.
REFERENCE = ROOT.parent / "shared" / "reference"
BROWSER_TESTS = ROOT / "tests" / "browser"
REFERENCE_ABSENT = "../shared/reference is absent (it exists in CI only)"
# The user's Hugging Face variables (TRANSFORMERS_OFFLINE=1 on offline clusters, HF_HOME, HF_ENDPOINT,
# a token...) must not change what the tests see. The libraries read them when imported, so they
# are cleared here, before any test imports one; subprocesses get the same environment (hub_free_env).
HF_VARIABLE_PREFIXES = ("HF_", "HUGGINGFACE_", "TRANSFORMERS_", "DIFFUSERS_", "HUGGING_FACE_")


def hub_free_env(environ: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
    """``environ`` (default: this process's) without Hugging Face variables, offline, plus ``extra``."""
    base = os.environ if environ is None else environ
    clean = {key: value for key, value in base.items() if not key.upper().startswith(HF_VARIABLE_PREFIXES)}
    return {**clean, "HF_HUB_OFFLINE": "1", **extra}


for _key in [k for k in os.environ if k.upper().startswith(HF_VARIABLE_PREFIXES)]:
    del os.environ[_key]
os.environ["HF_HUB_OFFLINE"] = "1"  # tests never touch the Hub
sys.path.insert(0, str(ROOT))
import studio  # noqa: E402,F401  (first: it lets torchvision import next to a CPU torch; see studio/torchvision_ops.py)


def pytest_configure(config):
    config.addinivalue_line("markers", "reference: uses ../shared/reference (marked by the reference_dir fixture)")


def pytest_collection_modifyitems(config, items):
    """Browser tests run last. Tests that use `reference_dir` get the `reference` marker, and are
    skipped before any fixture starts (an app, a browser) when the folder is absent."""
    # Playwright's sync API leaves its event loop set as this thread's running loop until the
    # session ends, so a later test's asyncio.run() would fail; after the browser, none is left.
    items.sort(key=lambda item: BROWSER_TESTS in Path(str(item.path)).parents)
    for item in items:
        if "reference_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.reference)
            if not REFERENCE.is_dir():
                item.add_marker(pytest.mark.skip(reason=REFERENCE_ABSENT))


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """../shared/reference (e.g. reference_dir / "tokenizers" / "gpt2"); skips where absent."""
    if not REFERENCE.is_dir():
        pytest.skip(REFERENCE_ABSENT)
    return REFERENCE


@pytest.fixture(scope="session")
def reference_gpt2(reference_dir) -> str:
    """The real GPT-2 tokenizer folder, an external truth ("Hello world" is [15496, 995])."""
    return str(reference_dir / "tokenizers" / "gpt2")


@pytest.fixture(scope="session")
def tiny_cache_dir(tmp_path_factory) -> Path:
    """Tiny twins are built once per test session and shared by every test and app."""
    return tmp_path_factory.mktemp("studio-cache")


@pytest.fixture(scope="session")
def tiny_settings(tiny_cache_dir, tmp_path_factory):
    from studio.settings import load_settings

    outputs = tmp_path_factory.mktemp("outputs")
    return load_settings(
        ["--profile", "tiny", "--cache-dir", str(tiny_cache_dir), "--outputs", str(outputs)], env={}
    )


@pytest.fixture(scope="session")
def studio_ctx(tiny_settings):
    """One StudioContext (one ModelCache) for the whole session, as in the app."""
    from studio.context import StudioContext

    return StudioContext(tiny_settings)


def require_ray_serve() -> None:
    """Skip the calling test module where Ray Serve (an optional extra) is not installed; CI
    installs it, so there its absence fails instead."""
    try:
        import ray.serve  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("Ray Serve is an optional extra: pip install -r requirements-cluster.txt", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RunningApp:
    def __init__(self, url: str, process: subprocess.Popen, log_path: Path, outputs: Path):
        self.url = url
        self.process = process
        self.log_path = log_path
        self.outputs = outputs

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_app(extra_args: list[str], cache_dir: Path, workdir: Path, timeout: float = 90) -> RunningApp:
    port = free_port()
    log_path = workdir / f"app-{port}.log"
    # Outside the app's working folder and the temp folder, as a real --outputs often is.
    outputs = ROOT / ".cache" / f"test-outputs-{port}"
    env = hub_free_env(PYTHONUNBUFFERED="1")
    args = [
        sys.executable, str(ROOT / "app.py"), "--profile", "tiny", "--port", str(port),
        "--cache-dir", str(cache_dir), "--outputs", str(outputs), *extra_args,
    ]
    log_file = open(log_path, "w")
    process = subprocess.Popen(args, cwd=workdir, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app exited early:\n{log_path.read_text()}")
        try:
            if httpx.get(url, timeout=2).status_code in (200, 401, 403):
                return RunningApp(url, process, log_path, outputs)
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"app did not answer within {timeout}s:\n{log_path.read_text()}")


def stop_app(app: RunningApp) -> None:
    app.process.terminate()
    try:
        app.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        app.process.kill()
    shutil.rmtree(app.outputs, ignore_errors=True)


@pytest.fixture(scope="session")
def running_app(tiny_cache_dir, tmp_path_factory):
    """The real app, started as a user would (python app.py --profile tiny)."""
    app = start_app([], tiny_cache_dir, tmp_path_factory.mktemp("app"))
    yield app
    stop_app(app)
    assert app.process.returncode is not None


@pytest.fixture(scope="session")
def api(running_app):
    """A gradio_client.Client against the running app."""
    from gradio_client import Client

    return Client(running_app.url, verbose=False)
