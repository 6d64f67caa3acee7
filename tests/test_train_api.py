"""The training API through gradio_client against the running app (tiny profile)."""

from __future__ import annotations

import os
import signal

import pytest

from studio.progress import wait_until

FINISHED = ("done", "failed", "cancelled", "interrupted")


def wait_for(api, job_id, states=FINISHED, timeout=240) -> dict:
    seen = {}

    def reached():
        seen.update(api.predict(job_id=job_id, api_name="/train_status"))
        return seen["state"] in states

    assert wait_until(reached, timeout, 0.5), seen
    return seen


def test_estimate_over_the_api(api):
    result = api.predict(task="causal_lm", base_model="bigscience/bloom-560m", settings={"r": 4}, api_name="/train_estimate")
    assert result["trainable_parameters"] == 2 * (4 * 64 + 3 * 64 * 4)  # the bloom twin: 2 layers, hidden 64
    assert result["target_modules"] == ["query_key_value"] and result["memory_gb"] > 0


def test_start_watch_and_finish_a_job_with_an_uploaded_file(api, tmp_path):
    from gradio_client import handle_file

    path = tmp_path / "roles.jsonl"
    path.write_text('{"act": "Coach", "prompt": "Keep going."}\n{"act": "Chef", "prompt": "Cook rice."}\n', encoding="utf-8")
    started = api.predict(task="causal_lm", dataset=handle_file(str(path)), base_model="",
                          settings={"max_steps": 3, "batch_size": 2, "cutoff_len": 32}, adapter_name="api-test",
                          api_name="/train_start")
    assert started["state"] in ("queued", "running") and started["name"] == "api-test"
    info = wait_for(api, started["job_id"])
    assert info["state"] == "done", info["message"]
    assert [p["step"] for p in info["loss_history"]] == [1, 2, 3] and info["adapter_path"].endswith("adapter")
    assert any(j["job_id"] == started["job_id"] for j in api.predict(api_name="/train_jobs"))

    # The adapter is ready for the Text tab's /generate at once, for its owner only.
    reply = api.predict(prompt="Coach", mode="completion", model_id="bigscience/bloom-560m", max_new_tokens=4,
                        adapter=started["job_id"], api_name="/generate")
    assert reply["adapter"].startswith("api-test") and reply["generated_tokens"] >= 1
    from gradio_client import Client

    stranger = Client(api.src, verbose=False)  # another session: not their adapter
    with pytest.raises(Exception, match="No finished text adapter"):
        stranger.predict(prompt="Coach", model_id="bigscience/bloom-560m", adapter=started["job_id"], api_name="/generate")


@pytest.mark.parametrize("fields, message", [
    ({"settings": {"r": 0}}, "rank r must be between 1"),
    ({"adapter_name": "../../etc"}, "may not contain slashes"),
    ({"settings": {"prompt_column": "nope"}}, "no column 'nope'"),
])
def test_bad_requests_come_back_as_sentences(api, fields, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=message):
        api.predict(task="causal_lm", **fields, api_name="/train_start")


def test_a_killed_worker_is_reported_and_the_app_keeps_serving(api):
    from gradio_client.exceptions import AppError

    started = api.predict(task="causal_lm", settings={"max_steps": 100000, "cutoff_len": 32}, api_name="/train_start")
    running = wait_for(api, started["job_id"], states=("running",) + FINISHED)
    assert wait_until(lambda: api.predict(job_id=started["job_id"], api_name="/train_status")["step"] >= 1, 240)
    os.kill(api.predict(job_id=started["job_id"], api_name="/train_status")["pid"] or running["pid"], signal.SIGKILL)  # as an OOM kill would
    info = wait_for(api, started["job_id"])
    assert info["state"] == "failed" and "ended unexpectedly" in info["message"]
    assert api.predict(api_name="/models_status")["profile"] == "tiny"  # still serving
    with pytest.raises(AppError, match="only a queued or running job can be cancelled"):
        api.predict(job_id=started["job_id"], api_name="/train_cancel")
    with pytest.raises(AppError, match="is not a job id"):
        api.predict(job_id="../other", api_name="/train_status")


def test_cancel_over_the_api(api):
    started = api.predict(task="causal_lm", settings={"max_steps": 100000, "cutoff_len": 32}, api_name="/train_start")
    api.predict(job_id=started["job_id"], api_name="/train_cancel")
    assert wait_for(api, started["job_id"], timeout=60)["state"] == "cancelled"
