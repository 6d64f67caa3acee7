"""Offline standard profile: one short probe of the Hub, remembered; cached models still load.

Every endpoint here is on 127.0.0.1: a closed port (refused at once), a server that
accepts and never answers (a dropped connection), and one that answers.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

import pytest

from studio.models.hub_access import HubAccess
from tests.conftest import ROOT, hub_free_env


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens here once the socket is closed


@pytest.fixture()
def silent_endpoint():
    """Accepts connections and never answers, like a network that drops packets."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()


@pytest.fixture()
def answering_endpoint():
    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):
            self.send_response(404)  # any answer at all means the Hub is reachable
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_closed_port_is_unreachable_and_an_answer_of_any_status_is_reachable(answering_endpoint):
    assert HubAccess(f"http://127.0.0.1:{closed_port()}").reachable() is False
    assert HubAccess(answering_endpoint).reachable() is True


def test_a_silent_endpoint_is_given_up_on_after_the_timeout(silent_endpoint):
    hub = HubAccess(silent_endpoint, timeout=0.5)
    started = time.perf_counter()
    assert hub.reachable() is False
    assert time.perf_counter() - started < 3  # the probe's own timeout, not the client's retries


def test_the_answer_is_remembered_for_a_while_then_asked_again():
    now = [0.0]
    hub = HubAccess(f"http://127.0.0.1:{closed_port()}", remember_seconds=60, clock=lambda: now[0])
    assert [hub.reachable() for _ in range(5)] == [False] * 5
    assert hub.probes == 1
    now[0] = 59.0
    hub.reachable()
    assert hub.probes == 1
    now[0] = 61.0
    hub.reachable()
    assert hub.probes == 2


def test_callers_arriving_together_share_one_probe(silent_endpoint):
    hub = HubAccess(silent_endpoint, timeout=0.5)
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(hub.reachable())) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [False] * 6 and hub.probes == 1


# The Hub client reads HF_ENDPOINT / HF_HUB_CACHE / HF_HUB_OFFLINE when it is imported, so the
# standard profile's offline behaviour is checked in a fresh interpreter with those set.
LOAD_BOTH = """
import json, sys, time
import torch, transformers
from studio.models import loaders
from studio.models.specs import ModelSpec
results = {}
for name, source in (("missing", "Qwen/Qwen2.5-0.5B-Instruct"), ("cached", "studio-test/cached-gpt2")):
    started = time.perf_counter()
    try:
        model = loaders.load(ModelSpec("causal_lm", source), torch.float32, sys.argv[1])
        outcome = "loaded " + type(model.model).__name__
    except Exception as exc:
        outcome = type(exc).__name__ + ": " + str(exc)
    results[name] = {"seconds": time.perf_counter() - started, "outcome": outcome}
print("RESULTS " + json.dumps(results))
"""


def put_in_hub_cache(folder, hub_cache, repo_id: str) -> None:
    """Lay ``folder`` out the way the Hub client caches a download: refs/main -> snapshot."""
    repo = hub_cache / ("models--" + repo_id.replace("/", "--"))
    commit = "0123456789abcdef0123456789abcdef01234567"
    shutil.copytree(folder, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)


def test_offline_a_missing_model_fails_fast_and_a_cached_one_still_loads(tiny_cache_dir, tmp_path):
    from studio.models import tiny

    hub_cache = tmp_path / "hub"
    put_in_hub_cache(tiny.ensure_built("gpt2", tiny_cache_dir), hub_cache, "studio-test/cached-gpt2")
    env = hub_free_env()
    del env["HF_HUB_OFFLINE"]  # online, with a Hub that does not answer
    env.update(
        HF_ENDPOINT=f"http://127.0.0.1:{closed_port()}",  # no Hub: the client would retry ~46 s
        HF_HUB_CACHE=str(hub_cache),
        HF_HUB_DISABLE_TELEMETRY="1",
        PYTHONPATH=str(ROOT),
    )
    run = subprocess.run(
        [sys.executable, "-c", LOAD_BOTH, str(tmp_path / "tiny")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    lines = [line for line in run.stdout.splitlines() if line.startswith("RESULTS ")]
    assert lines, run.stdout + run.stderr
    results = json.loads(lines[0][len("RESULTS "):])

    missing = results["missing"]
    assert missing["outcome"].startswith("ModelUnavailable: Model 'Qwen/Qwen2.5-0.5B-Instruct' could not be loaded")
    assert "no internet connection" in missing["outcome"] and str(hub_cache) in missing["outcome"]
    assert missing["seconds"] < 5, missing
    assert results["cached"]["outcome"] == "loaded GPT2LMHeadModel", results["cached"]


def test_the_suite_ignores_the_users_hugging_face_variables(tmp_path):
    """An offline cluster's shell (TRANSFORMERS_OFFLINE=1, its own HF_HOME and endpoint) runs the
    suite as CI does: conftest clears them before any library reads them."""
    test = "tests/test_hub_access.py::test_offline_a_missing_model_fails_fast_and_a_cached_one_still_loads"
    env = {**os.environ, "TRANSFORMERS_OFFLINE": "1", "HF_HUB_OFFLINE": "0", "HF_HOME": str(tmp_path / "elsewhere"),
           "HF_ENDPOINT": "http://127.0.0.1:9", "HF_TOKEN": "hf_not_a_token", "DIFFUSERS_VERBOSITY": "debug"}
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", test],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
