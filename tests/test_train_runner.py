"""Real training jobs on the tiny twins, each in its own worker process: loss falls, the
adapter loads and changes the model, accuracy rises, cancel / resume / crash behave."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
import torch

from studio.progress import wait_until
from studio.settings import with_overrides
from studio import jobs
from studio.train import adapters, service
from studio.train.runner import Runner

OWNER = "session-tests"
FINISHED = ("done", "failed", "cancelled", "interrupted")


@pytest.fixture()
def setup(tiny_settings, tmp_path):
    settings = with_overrides(tiny_settings, outputs=str(tmp_path / "outputs"))
    runner = Runner(settings.outputs).start()
    yield settings, runner
    for job_id in runner.queue():  # leave no worker behind
        folder = jobs.root(settings.outputs) / OWNER / job_id
        if jobs.read_state(folder).get("state") in jobs.ACTIVE:
            runner.cancel(folder)
    wait_until(lambda: not runner.queue() or runner.tick() or False, 30)
    runner.close()


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def wait_state(settings, runner, job_id, states=FINISHED, timeout=240) -> dict:
    info = {}

    def reached():
        info.update(service.status(settings, runner, OWNER, job_id))
        return info["state"] in states

    assert wait_until(reached, timeout, 0.2), info
    return info


def role_rows(tmp_path: Path) -> Path:
    rows = [["Coach", "Keep going, one small step today."], ["Chef", "Slice the tomatoes and beat the eggs."],
            ["Poet", "Rain hums on the tin roofs of night."], ["Guide", "Look first at the swirling sky."]]
    return write_csv(tmp_path / "roles.csv", ["act", "prompt"], rows)


def test_causal_lm_job_lowers_loss_and_saves_a_working_adapter(setup, tmp_path):
    settings, runner = setup
    job_id = service.start(settings, runner, OWNER, "causal_lm", role_rows(tmp_path), {
        "r": 8, "alpha": 16, "learning_rate": 1e-2, "max_steps": 20, "batch_size": 4, "cutoff_len": 48,
        "save_every": 10, "train_on_responses_only": True})
    info = wait_state(settings, runner, job_id)
    assert info["state"] == "done", info["message"]
    losses = [point["loss"] for point in info["loss_history"]]
    assert [p["step"] for p in info["loss_history"]] == list(range(1, 21))
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3
    folder = Path(info["adapter_path"])
    assert (folder / "adapter_model.safetensors").is_file() and (folder.parent / "loss.csv").is_file()

    job = jobs.read_json(folder.parent / "job.json")
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    ids = torch.tensor([[5, 6, 7, 8, 9]])
    base = AutoModelForCausalLM.from_pretrained(job["model_path"]).eval()
    with torch.no_grad():
        before = base(ids).logits
        tuned = PeftModel.from_pretrained(base, str(folder)).eval()
        after = tuned(ids).logits
    assert not torch.allclose(before, after, atol=1e-4)
    trainable = sum(p.numel() for n, p in tuned.named_parameters() if "lora_" in n)
    assert trainable == 2 * (8 * 64 + 3 * 64 * 8)  # 2 layers of A (8x64) and B (192x8)

    listed = jobs.list_adapters(settings, OWNER)
    assert [a["job_id"] for a in listed] == [job_id] and listed[0]["base_model"] == "bigscience/bloom-560m"
    assert jobs.list_adapters(settings, "session-someone-else") == []
    archive = adapters.zip_adapter(settings, OWNER, job_id)
    import zipfile

    assert "adapter/adapter_model.safetensors" in zipfile.ZipFile(archive).namelist()

    merged = adapters.merge(settings, OWNER, job_id)  # base + adapter folded into one plain model
    with torch.no_grad():
        folded = AutoModelForCausalLM.from_pretrained(merged).eval()(ids).logits
    assert torch.allclose(folded, after, atol=1e-4)
    assert jobs.list_adapters(settings, OWNER)[0]["merged_path"] == str(merged)

    from studio.train.compare import compare

    answers = compare(settings, OWNER, job_id, "Coach", max_new_tokens=8)
    assert answers["prompt_seen"].startswith("### Instruction:\nCoach")
    assert "Keep going" in answers["few_shot"] and all(k in answers for k in ("base", "base_few_shot", "tuned"))


def test_classifier_accuracy_rises_on_a_separable_set(setup, tmp_path):
    settings, runner = setup
    rng = random.Random(0)
    good, bad, filler = ["good", "great", "love"], ["bad", "awful", "hate"], ["the", "film", "was", "a", "it"]
    rows = []
    for i in range(60):
        words = (good if i % 2 else bad) * 2 + rng.sample(filler, 2)
        rng.shuffle(words)
        rows.append([" ".join(words), "pos" if i % 2 else "neg"])
    path = write_csv(tmp_path / "reviews.csv", ["review", "sentiment"], rows)
    job_id = service.start(settings, runner, OWNER, "classification", path, {
        "r": 8, "learning_rate": 2e-2, "max_steps": 30, "batch_size": 8, "held_out": 0.3, "first_rows": 0})
    info = wait_state(settings, runner, job_id)
    assert info["state"] == "done", info["message"]
    evaluation = info["evaluation"]
    assert evaluation["label_names"] == ["neg", "pos"]
    assert evaluation["after"]["accuracy"] > evaluation["before"]["accuracy"]
    assert evaluation["after"]["accuracy"] >= 0.9
    assert sum(map(sum, evaluation["after"]["confusion_matrix"])) == 18


def test_cancel_keeps_the_checkpoint_and_resume_continues(setup, tmp_path):
    settings, runner = setup
    job_id = service.start(settings, runner, OWNER, "causal_lm", role_rows(tmp_path), {
        "max_steps": 100000, "save_every": 3, "batch_size": 2, "cutoff_len": 32})
    folder = jobs.job_dir(settings.outputs, OWNER, job_id)
    assert wait_until(lambda: len(jobs.checkpoints(folder)) >= 1 and jobs.summary(folder)["step"] >= 4, 240)
    pid = jobs.read_state(folder)["pid"]
    service.cancel(settings, runner, OWNER, job_id)
    info = wait_state(settings, runner, job_id, timeout=30)
    assert info["state"] == "cancelled" and info["resumable"]
    import psutil

    assert wait_until(lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, 15)
    kept = jobs.checkpoints(folder)[-1]
    checkpoint_step = int(kept.name.split("-")[1])
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    job = jobs.read_json(folder / "job.json")
    PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(job["model_path"]), str(kept))  # still loads

    service.resume(settings, runner, OWNER, job_id)
    assert wait_until(lambda: jobs.summary(folder)["step"] >= checkpoint_step + 2, 240)
    state = jobs.read_state(folder)
    assert state["state"] == "running" and state["resumed_from"] == checkpoint_step
    steps = [line["step"] for line in jobs.read_log(folder)]
    assert steps[:checkpoint_step + 2] == list(range(1, checkpoint_step + 3))  # no gap, no repeat
    service.cancel(settings, runner, OWNER, job_id)
    wait_state(settings, runner, job_id, timeout=30)


def test_a_crashing_worker_is_reported_and_the_queue_goes_on(tiny_settings, tmp_path):
    import os

    settings = with_overrides(tiny_settings, outputs=str(tmp_path / "outputs"))
    runner = Runner(settings.outputs, env={**os.environ, "STUDIO_TRAIN_FAIL_AT_STEP": "2"}).start()
    try:
        first = service.start(settings, runner, OWNER, "causal_lm", role_rows(tmp_path), {"max_steps": 5})
        second = service.start(settings, runner, OWNER, "causal_lm", role_rows(tmp_path), {"max_steps": 5})
        assert service.status(settings, runner, OWNER, second)["queue_position"] == 1  # waits its turn
        info = wait_state(settings, runner, first)
        assert info["state"] == "failed" and "forced failure at step 2" in info["message"]
        assert wait_state(settings, runner, second)["state"] == "failed"  # the next job still ran
    finally:
        runner.close()


def test_restart_marks_a_vanished_job_interrupted(tiny_settings, tmp_path):
    settings = with_overrides(tiny_settings, outputs=str(tmp_path / "outputs"))
    folder = jobs.root(settings.outputs) / OWNER / jobs.new_job_id()
    jobs.write_json(folder / "job.json", {"created": 1, "config": {"task": "causal_lm"}})
    jobs.set_state(folder, "running", pid=2**22 + 12345)  # no such process
    Runner(settings.outputs)  # a new app start
    assert jobs.read_state(folder)["state"] == "interrupted"
    assert service.list_jobs(settings, OWNER)[0]["state"] == "interrupted"
    assert service.list_jobs(settings, "session-other") == []


def test_a_long_jobs_status_carries_a_thinned_loss_history():
    """Polled every second: the answer stays small however long the job, and keeps the ends."""
    points = [{"step": i, "loss": 1 / i} for i in range(1, 20_001)]
    kept = jobs.thinned(points)
    assert len(kept) == jobs.MAX_PLOTTED and kept[0] == points[0] and kept[-1] == points[-1]
    assert all(a["step"] < b["step"] for a, b in zip(kept, kept[1:]))
    assert jobs.thinned(points[:10]) == points[:10]
