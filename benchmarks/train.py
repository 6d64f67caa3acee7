"""Training speed: optimizer steps/s of the Train tab's runner (a job in its own worker
process, with its progress log and checkpoints) against a bare PEFT loop written the way a
script would, on the same tiny model, data and settings (as a ratio; target >= 0.9), plus
the runner's fixed start-up cost (queue -> worker process -> model loaded -> first step).

    python benchmarks/train.py                 # the bloom twin, offline, on the CPU
    python benchmarks/train.py --steps 200 --batch-size 8
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.progress import wait_until  # noqa: E402
from studio.settings import load_settings  # noqa: E402
from studio import jobs
from studio.train import datasets, service  # noqa: E402
from studio.train.config import TrainConfig  # noqa: E402
from studio.train.runner import Runner  # noqa: E402

WARMUP_STEPS = 5  # steps left out of the rate (first-call allocations)


def runner_run(settings, values: dict) -> tuple[float, float]:
    """(steps/s after warm-up, seconds from submit to the first step minus one step)."""
    runner = Runner(settings.outputs).start()
    submitted = time.time()
    job_id = service.start(settings, runner, "session-bench", "causal_lm", service.SAMPLES["causal_lm"], values)
    folder = jobs.job_dir(settings.outputs, "session-bench", job_id)
    assert wait_until(lambda: jobs.read_state(folder).get("state") in ("done", "failed"), 3600, 0.5)
    state = jobs.read_state(folder)
    if state["state"] != "done":
        raise SystemExit(f"the job failed: {state.get('message')}")
    log = jobs.read_log(folder)
    times = {line["step"]: line["time"] for line in log}
    last = max(times)
    rate = (last - WARMUP_STEPS) / (times[last] - times[WARMUP_STEPS])
    runner.close()
    return rate, times[1] - submitted - 1 / rate


def bare_run(model_path: str, values: dict) -> float:
    """A plain PEFT loop: tokenizer, get_peft_model, AdamW, linear schedule, loss.backward()."""
    import random

    import torch
    from peft import LoraConfig, TaskType, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, get_scheduler

    config = TrainConfig.from_dict({**values, "task": "causal_lm"})
    rows = datasets.read_rows(service.SAMPLES["causal_lm"])
    config = TrainConfig.from_dict({**config.to_dict(), **datasets.guess_mapping(datasets.columns(rows), "causal_lm")})
    texts = [e.text for e in datasets.causal_examples(rows, config)]
    torch.manual_seed(config.seed)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path)
    model = get_peft_model(model, LoraConfig(r=config.r, lora_alpha=config.alpha, lora_dropout=config.dropout,
                                             target_modules=["query_key_value"], task_type=TaskType.CAUSAL_LM))
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.learning_rate)
    scheduler = get_scheduler("linear", optimizer, num_warmup_steps=0, num_training_steps=config.max_steps)
    model.train()
    order = list(range(len(texts)))
    stamps = []
    per_epoch = math.ceil(len(texts) / config.batch_size)
    for step in range(config.max_steps):
        epoch, within = divmod(step, per_epoch)
        if within == 0:
            random.Random(config.seed + epoch).shuffle(order)
        batch = [texts[i] + tokenizer.eos_token for i in order[within * config.batch_size:(within + 1) * config.batch_size]]
        inputs = tokenizer(batch, return_tensors="pt", padding=True, truncation=True, max_length=config.cutoff_len)
        labels = inputs["input_ids"].masked_fill(inputs["attention_mask"] == 0, -100)
        loss = model(**inputs, labels=labels).loss
        loss.backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        loss.item()  # a script prints it; the runner logs it
        stamps.append(time.perf_counter())
    return (len(stamps) - WARMUP_STEPS) / (stamps[-1] - stamps[WARMUP_STEPS - 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--cutoff", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=2, help="alternate runner / bare this many times; best of each")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(["--profile", "tiny", "--cache-dir", str(Path(tmp) / "cache"),
                                  "--outputs", str(Path(tmp) / "outputs")], env={})
        values = {"max_steps": args.steps, "batch_size": args.batch_size, "cutoff_len": args.cutoff,
                  "save_every": 10_000, "learning_rate": 2e-4}
        _, model_path = service.resolve_model(settings, "causal_lm", "")
        runs, bares = [], []
        for _ in range(args.rounds):  # alternated, so load from other programs hits both alike
            runs.append(runner_run(settings, values))
            bares.append(bare_run(model_path, values))
        runner_rate, startup = max(r for r, _ in runs), min(s for _, s in runs)
        bare_rate = max(bares)
    print(f"bloom twin, {args.steps} steps, batch {args.batch_size}, cut-off {args.cutoff}, CPU, best of {args.rounds}")
    print(f"runner (worker process):  {runner_rate:8.2f} optimizer steps/s")
    print(f"bare PEFT loop:           {bare_rate:8.2f} optimizer steps/s")
    print(f"ratio runner / bare:      {runner_rate / bare_rate:8.2f}  (target >= 0.9)")
    print(f"runner start-up cost:     {startup:8.2f} s  (submit -> worker -> model loaded -> first step)")


if __name__ == "__main__":
    main()
