"""How the Train tab shows things: a job's progress bar, status line, loss curve and held-out
evaluation, a LoRA estimate, and a compared answer. Plain values in, Markdown / HTML / a frame out."""

from __future__ import annotations

from typing import Callable

from tabs.i18n import Translator, or_english


def progress_html(info: dict) -> str:
    if not info:  # no job picked: no bar (a "step 0 / ?" bar says nothing)
        return ""
    total, step = info.get("total_steps") or 0, info.get("step") or 0
    share = min(step / total, 1.0) if total else 0.0
    eta = info.get("eta_seconds")
    rate = info.get("samples_per_second")
    figures = f"step {step} / {total or '?'}" + (f" · {rate:g} samples/s" if rate else "") + (
        f" · ETA {eta:.0f} s" if eta and info.get("state") == "running" else "")
    return (f"<div class='train-progress' data-step='{step}' data-state='{info.get('state', '')}'>"
            f"<div style='font-family:monospace;font-size:0.9em'>{figures}</div>"
            "<div style='background:#e5e7eb;border-radius:4px;height:10px;overflow:hidden'>"
            f"<div style='background:#4f46e5;height:10px;width:{100 * share:.1f}%'></div></div></div>")


def status_markdown(info: dict, say: Callable[[str], str] | None = None) -> str:
    """A job's state, where it waits, its loss and its message, in the reader's language."""
    say = say or (lambda key: Translator.text(key, "en"))
    queue, state = info.get("queue_position"), info.get("state")
    where = ""
    if state == "queued":  # "running now" belongs to a running job only
        where = say("train.where_ahead").format(count=queue) if queue else say("train.where_next")
    loss = say("train.loss_line").format(loss=f"{info['loss']:.4f}") if isinstance(info.get("loss"), (int, float)) else ""
    state_word = or_english(say, f"train.state.{state}", str(state))
    lines = [f"**{info.get('name')}** ({info.get('task')}, `{info.get('base_model')}`): **{state_word}**{where}{loss}"]
    if info.get("message"):
        key = info.get("message_key")
        lines.append(say(f"train.msg.{key}").format(**(info.get("message_args") or {})) if key else info["message"])
    if info.get("adapter_path"):  # its name and job: the server's folders are not the students' business
        key = "train.adapter_line_text" if info.get("task") == "causal_lm" else "train.adapter_line"
        lines.append(say(key).format(name=info.get("name"), job=info.get("job_id", "")))
    return "\n\n".join(lines)


def _shown_answer(text: str, say) -> str:
    """An answer of only spaces and line breaks (a small model often gives one) would look like
    an empty box: say so instead."""
    if (text or "").strip():
        return text
    return say("train.blank_answer").format(characters=len(text or ""))


def evaluation_markdown(evaluation: dict | None) -> str:
    if not evaluation:
        return ""
    names = evaluation.get("label_names", [])
    parts = []
    for when in ("before", "after"):
        result = evaluation.get(when)
        if not result:
            continue
        header = "| true \\ predicted | " + " | ".join(names) + " |\n|---|" + "---|" * len(names)
        rows = "\n".join(f"| {names[i]} | " + " | ".join(map(str, row)) + " |" for i, row in enumerate(result["confusion_matrix"]))
        parts.append(f"**{when}: accuracy {result['accuracy']}** (held-out rows)\n\n{header}\n{rows}")
    return "\n\n".join(parts)


def loss_frame(info: dict):
    import pandas as pd

    # Typed columns even when empty: the plot then reads loss as a number, not as categories.
    frame = pd.DataFrame(info.get("loss_history") or [], columns=["step", "loss"])
    return frame.astype({"step": "int64", "loss": "float64"})


def estimate_markdown(result: dict) -> str:
    lines = [f"**trainable params: {result['trainable_parameters']:,} || all params: {result['total_parameters']:,} || "
             f"trainable%: {result['trainable_percent']:.4f}**",
             f"LoRA on `{', '.join(result['target_modules'])}` of `{result['base_model']}`."]
    if "memory_gb" in result:  # language models; the image LoRA counts the UNet only
        parts = ", ".join(f"{k.replace('_', ' ')} {v} GB" for k, v in result["memory_parts_gb"].items())
        lines.append(f"Memory to train, roughly: **{result['memory_gb']} GB** in {result['precision']} ({parts}).")
    return "\n\n".join(lines)
