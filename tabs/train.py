"""Train tab: LoRA-tune a causal LM or a classifier on a small table, watch the loss, compare.

Only components and wiring here: the work is in ``studio.train`` (jobs run in their own
worker process; this page reads their folders, so a reload or a restart finds them again).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import gradio as gr

from studio import jobs, zero_gpu
from studio.pictures.reading import path_of
from studio.train import adapters, datasets, service
from studio.train.config import DEFAULT_TEMPLATE, PRECISIONS, SCHEDULERS, TrainConfig
from studio.train.memory import JobMemory
from studio.train.runner import Runner
from tabs import api_types, owner, roles
from tabs.common import TabContext, friendly, gpu_event
from tabs.gpu import GpuWork
from tabs.i18n import Translator, or_english

POLL_SECONDS = 1.0
TASKS = ("causal_lm", "classification", "image_lora")  # labels: train.task.<name>
DEFAULTS = TrainConfig()


def runner_for(ctx: TabContext) -> Runner:
    """One runner per app (kept on the studio context, never in a module global)."""
    runner = getattr(ctx.studio, "train_runner", None)
    if runner is None:
        runner = Runner(ctx.settings.outputs, memory=JobMemory(ctx.studio)).start()
        ctx.studio.train_runner = runner
    return runner


def owner_of(ctx: TabContext, request: gr.Request | None, browser_id: str | None = None) -> str:
    return jobs.owner_name(owner.user_of(ctx, request), browser_id, getattr(request, "session_hash", None))


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
    if info.get("adapter_path"):  # its name: the server's folders are not the students' business
        lines.append(say("train.adapter_line").format(name=Path(info["adapter_path"]).name))
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


def build(ctx: TabContext) -> None:
    t, settings = ctx.t, ctx.settings
    runner = runner_for(ctx)

    # --- API: self-explaining parameters; the same studio functions as the page ----------

    def class_limits(request: gr.Request | None, task: str, base_model: str):
        """A student's limits on a job (steps, jobs at once, the base models offered), or None."""
        rules = roles.limits_for(ctx, request)
        if rules is not None:
            rules.check_model(base_model, service.base_models(ctx.settings, task))
        return rules

    def train_estimate(task: api_types.TrainTask = "causal_lm", base_model: str = "", settings: dict | None = None) -> dict:
        """Trainable parameters, total, percentage and a memory estimate (GB) for LoRA on
        `base_model` ('' = the task's default), from its config only (no weights loaded).
        task: causal_lm | classification. settings: r, alpha, dropout, target_modules,
        batch_size, cutoff_len, precision, gradient_checkpointing, ..."""
        return service.estimate(ctx.settings, task, base_model, settings)

    def train_start(task: api_types.TrainTask = "causal_lm", dataset: gr.FileData | None = None, base_model: str = "",
                    settings: dict | None = None, adapter_name: str = "", request: gr.Request = None) -> dict:
        """Queue a LoRA job; returns its job_id. dataset: CSV / JSON / JSONL / TXT (None = the
        task's sample). settings: r, alpha, dropout, target_modules, learning_rate, epochs,
        max_steps, batch_size, grad_accumulation, warmup_steps, scheduler, precision,
        gradient_checkpointing, seed, save_every, first_rows, cutoff_len, prompt_column,
        response_column, template, train_on_responses_only, text_column, label_column, held_out."""
        path = path_of(dataset) or service.SAMPLES.get(task)
        owner = owner_of(ctx, request)
        job_id = service.start(ctx.settings, runner, owner, task, path, settings, base_model, adapter_name,
                               class_limits(request, task, base_model))
        return service.status(ctx.settings, runner, owner, job_id)

    def train_status(job_id: str, request: gr.Request = None) -> dict:
        """A job's state (queued | running | done | failed | cancelled | interrupted), step,
        total_steps, loss, loss_history [{step, loss}], queue_position, adapter_path, evaluation."""
        return service.status(settings, runner, owner_of(ctx, request), job_id)

    def train_cancel(job_id: str, request: gr.Request = None) -> dict:
        """Cancel a queued or running job; its last checkpoint stays and can be resumed."""
        return service.cancel(settings, runner, owner_of(ctx, request), job_id)

    def train_resume(job_id: str, request: gr.Request = None) -> dict:
        """Resume an interrupted, cancelled or failed job from its last checkpoint."""
        return service.resume(settings, runner, owner_of(ctx, request), job_id)

    def train_jobs(request: gr.Request = None) -> list:
        """Your training jobs, newest first."""
        return service.list_jobs(settings, owner_of(ctx, request))

    # --- the page ---------------------------------------------------------------------------

    with gr.Tab(t("train.tab"), id="train"):
        gr.Markdown(t("train.intro"))
        if not settings.training or zero_gpu.forks(settings):
            gr.Markdown(service.ZERO_GPU_REFUSAL if zero_gpu.forks(settings) else t("train.off"), elem_classes=["banner"])
        with gr.Row():
            task = gr.Radio([(t(f"train.task.{name}"), name) for name in TASKS], value="causal_lm",
                            label=t("train.task"), scale=2)
            base_model = gr.Dropdown(service.base_models(settings, "causal_lm"), value=service.default_base(settings, "causal_lm"),
                                     label=t("train.base_model"), allow_custom_value=True, scale=2)
            adapter_name = gr.Textbox(label=t("train.adapter_name"), placeholder="act-as-coach", scale=1, elem_id="train-adapter-name")
        dataset_path = gr.State(None)
        with gr.Row():
            upload = gr.File(label=t("train.dataset"), file_types=[".csv", ".json", ".jsonl", ".txt", ".zip", ".png", ".jpg", ".jpeg", ".webp"], scale=2)
            with gr.Column(scale=1):
                sample_button = gr.Button(t("train.use_sample"), elem_id="train-sample")
                dataset_note = gr.Markdown(elem_id="train-dataset-note")
        with gr.Row(visible=True) as text_box:
            prompt_column = gr.Dropdown([], label=t("train.prompt_column"), allow_custom_value=True)
            response_column = gr.Dropdown([], label=t("train.response_column"), allow_custom_value=True)
            text_column = gr.Dropdown([], label=t("train.text_column"), allow_custom_value=True, visible=False)
            label_column = gr.Dropdown([], label=t("train.label_column"), allow_custom_value=True, visible=False)
        with gr.Row(visible=True) as rows_box:
            first_rows = gr.Number(DEFAULTS.first_rows, precision=0, label=t("train.first_rows"), minimum=0)
            cutoff_len = gr.Number(DEFAULTS.cutoff_len, precision=0, label=t("train.cutoff_len"), minimum=8, elem_id="train-cutoff")
            responses_only = gr.Checkbox(False, label=t("train.responses_only"))
            held_out = gr.Slider(0, 0.5, DEFAULTS.held_out, step=0.05, label=t("train.held_out"), visible=False)
        with gr.Row(visible=False) as image_box:
            instance_prompt = gr.Textbox("", label=t("train.instance_prompt"), placeholder="a photo of sks dog", scale=3)
            # A CPU with the tiny twin trains at 64 px in seconds; SDXL itself is made for 1024.
            resolution = gr.Number(64 if settings.is_tiny else DEFAULTS.resolution, precision=0, minimum=64, step=8,
                                   label=t("train.resolution"))
            repeats = gr.Number(DEFAULTS.repeats, precision=0, minimum=1, label=t("train.repeats"))
        template = gr.Textbox(DEFAULT_TEMPLATE, lines=3, label=t("train.template"), info=t("train.template_info"))
        preview = gr.Code(label=t("train.preview"), language=None, interactive=False, elem_id="train-preview")
        with gr.Accordion(t("train.lora"), open=False):
            with gr.Row():
                r = gr.Number(DEFAULTS.r, precision=0, label="r", minimum=1)
                alpha = gr.Number(DEFAULTS.alpha, precision=0, label="alpha", minimum=1)
                dropout = gr.Number(DEFAULTS.dropout, label="dropout", minimum=0, maximum=0.99)
                target_modules = gr.Textbox("", label=t("train.targets"), placeholder=t("train.targets_auto"))
        with gr.Accordion(t("train.optimisation"), open=False, elem_id="train-optimisation"):
            with gr.Row():
                learning_rate = gr.Number(DEFAULTS.learning_rate, label=t("train.lr"))
                epochs = gr.Number(DEFAULTS.epochs, precision=0, label=t("train.epochs"), minimum=1)
                max_steps = gr.Number(DEFAULTS.max_steps, precision=0, label=t("train.max_steps"), minimum=0, elem_id="train-max-steps")
                batch_size = gr.Number(DEFAULTS.batch_size, precision=0, label=t("train.batch_size"), minimum=1)
                grad_accumulation = gr.Number(DEFAULTS.grad_accumulation, precision=0, label=t("train.grad_accumulation"), minimum=1)
            with gr.Row():
                warmup_steps = gr.Number(DEFAULTS.warmup_steps, precision=0, label=t("train.warmup"), minimum=0)
                scheduler = gr.Dropdown(list(SCHEDULERS), value=DEFAULTS.scheduler, label=t("train.scheduler"))
                precision = gr.Dropdown(list(PRECISIONS), value=DEFAULTS.precision, label=t("train.precision"))
                checkpointing = gr.Checkbox(False, label=t("train.checkpointing"))
                seed = gr.Number(DEFAULTS.seed, precision=0, label=t("train.seed"))
                save_every = gr.Number(DEFAULTS.save_every, precision=0, label=t("train.save_every"), minimum=1)
        with gr.Row():
            estimate_button = gr.Button(t("train.estimate"))
            start_button = gr.Button(t("train.start"), variant="primary", elem_id="train-start")
        estimate_view = gr.Markdown(elem_id="train-estimate")

        with gr.Row():
            job = gr.Dropdown([], label=t("train.jobs"), elem_id="train-job", scale=3)
            cancel_button = gr.Button(t("train.cancel"), variant="stop", scale=1, elem_id="train-cancel")
            resume_button = gr.Button(t("train.resume"), scale=1)
        job_status = gr.Markdown(elem_id="train-status")
        progress = gr.HTML(elem_id="train-progress")
        plot = gr.LinePlot(loss_frame({}), x="step", y="loss", label=t("train.loss"), elem_id="train-loss", height=320,
                           x_title="step", y_title="loss")  # 260 px cut the axis titles off
        evaluation = gr.Markdown(elem_id="train-eval")
        with gr.Row():
            zip_button = gr.Button(t("train.download"))
            merge_button = gr.Button(t("train.merge"))
            download = gr.File(label=t("train.adapter_zip"), interactive=False)
        with gr.Accordion(t("train.compare"), open=False):
            compare_prompt = gr.Textbox("I want you to act as a motivational coach", label=t("train.compare_prompt"))
            few_shot = gr.Textbox("", lines=5, label=t("train.few_shot"), info=t("train.few_shot_info"))
            max_new = gr.Slider(1, 256, 64, step=1, label=t("train.max_new_tokens"))
            compare_button = gr.Button(t("train.compare_run"))
            with gr.Row():
                base_answer = gr.Textbox(label=t("train.base_answer"), lines=6)
                shot_answer = gr.Textbox(label=t("train.few_shot_answer"), lines=6)
                tuned_answer = gr.Textbox(label=t("train.tuned_answer"), lines=6)
        timer = gr.Timer(POLL_SECONDS, active=False)

        fields = {
            "r": r, "alpha": alpha, "dropout": dropout, "target_modules": target_modules, "learning_rate": learning_rate,
            "epochs": epochs, "max_steps": max_steps, "batch_size": batch_size, "grad_accumulation": grad_accumulation,
            "warmup_steps": warmup_steps, "scheduler": scheduler, "precision": precision,
            "gradient_checkpointing": checkpointing, "seed": seed, "save_every": save_every, "first_rows": first_rows,
            "cutoff_len": cutoff_len, "prompt_column": prompt_column, "response_column": response_column,
            "template": template, "train_on_responses_only": responses_only, "text_column": text_column,
            "label_column": label_column, "held_out": held_out, "instance_prompt": instance_prompt,
            "resolution": resolution, "repeats": repeats,
        }
        mapping_fields = {prompt_column, response_column, text_column, label_column}

        def collect(values: dict) -> dict:
            out = {name: values[component] for name, component in fields.items()}
            for name, value in out.items():  # Gradio numbers arrive as floats
                if isinstance(value, float) and value.is_integer() and isinstance(getattr(DEFAULTS, name), int):
                    out[name] = int(value)
            return out

        # --- dataset, mapping, preview ---

        def show_preview(values: dict, path: str | None, task_value: str):
            if not path:
                return ""
            if task_value == "image_lora":
                return json.dumps(service.preview_images(path, values[instance_prompt]), ensure_ascii=False, indent=1)
            result = service.preview(settings, task_value, path, collect(values))
            shown = {k: v for k, v in result.items() if k not in ("columns", "mapping")}
            return json.dumps(shown, ensure_ascii=False, indent=1) if task_value == "classification" else (
                f"# {result['used_rows']} of {result['rows']} rows; one formatted example:\n{result['example']}")

        def pick_dataset(path: str | None, task_value: str, values: dict):
            if not path:
                return None, "", *[gr.update() for _ in range(4)], ""
            if task_value == "image_lora":
                summary = service.preview_images(path, values[instance_prompt])
                note = f"{Path(path).name}: {summary['images']} image(s)"
                return path, note, *[gr.update() for _ in range(4)], json.dumps(summary, ensure_ascii=False, indent=1)
            rows = service.load_dataset(path, task_value, settings)
            mapping = service.fill_mapping(rows, task_value, {})
            cols = datasets.columns(rows)
            updates = [gr.update(choices=[""] + cols if name == "response_column" else cols, value=mapping.get(name, ""))
                       for name in ("prompt_column", "response_column", "text_column", "label_column")]
            values = {**values, **{fields[n]: mapping.get(n, "") for n in ("prompt_column", "response_column", "text_column", "label_column")}}
            note = f"{Path(path).name}: {len(rows)} rows · columns {', '.join(cols)}"
            return path, note, *updates, show_preview(values, path, task_value)

        pick_outputs = [dataset_path, dataset_note, prompt_column, response_column, text_column, label_column, preview]
        field_set = set(fields.values())
        upload.upload(friendly(lambda f, task_value, *rest: pick_dataset(path_of(f), task_value, dict(zip(fields.values(), rest)))),
                      [upload, task, *fields.values()], pick_outputs, api_visibility="private")
        sample_button.click(friendly(lambda task_value, *rest: pick_dataset(str(service.SAMPLES[task_value]), task_value,
                                                                             dict(zip(fields.values(), rest)))),
                            [task, *fields.values()], pick_outputs, api_visibility="private")

        def preview_event(values: dict):
            return show_preview(values, values[dataset_path], values[task])

        for component in (*mapping_fields, template, first_rows, responses_only, held_out, instance_prompt):
            component.change(friendly(preview_event), field_set | {dataset_path, task}, preview,
                             api_visibility="private", show_progress="hidden")

        def switch_task(task_value: str):
            causal, classes, image = (task_value == name for name in ("causal_lm", "classification", "image_lora"))
            return (gr.update(choices=service.base_models(settings, task_value), value=service.default_base(settings, task_value)),
                    gr.update(visible=not image), gr.update(visible=not image), gr.update(visible=image),
                    gr.update(visible=causal), gr.update(visible=causal), gr.update(visible=classes),
                    gr.update(visible=classes), gr.update(visible=causal), gr.update(visible=causal),
                    gr.update(visible=classes), None, "", "")

        task.change(switch_task, task, [base_model, text_box, rows_box, image_box, prompt_column, response_column,
                                        text_column, label_column, template, responses_only, held_out,
                                        dataset_path, dataset_note, preview], api_visibility="private")

        # --- estimate, start, watch ---

        def ui_estimate(values: dict):
            return estimate_markdown(service.estimate(settings, values[task], values[base_model], collect(values)))

        estimate_button.click(friendly(ui_estimate), field_set | {task, base_model}, estimate_view, api_visibility="private")

        def job_choices(owner: str) -> list[tuple[str, str]]:
            # No state in the label: it changes while the list stays put; the status line shows it.
            return [(f"{j['name']} · {j['task']} · {j['base_model']}", j["job_id"]) for j in service.list_jobs(settings, owner)]

        def view(job_id: str | None, browser_id: str, request: gr.Request | None):
            if not job_id:
                return "", progress_html({}), loss_frame({}), "", gr.Timer(active=False)
            info = service.status(settings, runner, owner_of(ctx, request, browser_id), job_id)
            active = info["state"] in jobs.ACTIVE
            return (status_markdown(info, t.for_request(request)), progress_html(info), loss_frame(info),
                    evaluation_markdown(info.get("evaluation")),
                    gr.Timer(active=active))

        view_outputs = [job_status, progress, plot, evaluation, timer]

        def ui_start(values: dict, request: gr.Request = None):
            owner = owner_of(ctx, request, values[ctx.browser_id])
            job_id = service.start(settings, runner, owner, values[task], values[dataset_path], collect(values),
                                   values[base_model], values[adapter_name],
                                   class_limits(request, values[task], values[base_model]))
            return gr.update(choices=job_choices(owner), value=job_id), *view(job_id, values[ctx.browser_id], request)

        start_button.click(friendly(ui_start), field_set | {task, base_model, adapter_name, dataset_path, ctx.browser_id},
                           [job, *view_outputs], api_visibility="private")
        job.change(friendly(view), [job, ctx.browser_id], view_outputs, api_visibility="private", show_progress="hidden")

        def poll(job_id: str | None, browser_id: str, request: gr.Request = None):
            """A tick: the timer itself is left alone while the job runs (re-sending it on every
            tick restarted it, and the page flickered)."""
            *shown, timer_update = view(job_id, browser_id, request)
            return (*shown, timer_update if not timer_update.active else gr.update())

        timer.tick(friendly(poll), [job, ctx.browser_id], view_outputs, api_visibility="private", show_progress="hidden")

        def ui_cancel(job_id: str, browser_id: str, request: gr.Request = None):
            if not job_id:
                raise gr.Error(t.for_request(request)("train.pick_job"), print_exception=False)
            service.cancel(settings, runner, owner_of(ctx, request, browser_id), job_id)
            return view(job_id, browser_id, request)

        def ui_resume(job_id: str, browser_id: str, request: gr.Request = None):
            if not job_id:
                raise gr.Error(t.for_request(request)("train.pick_job"), print_exception=False)
            service.resume(settings, runner, owner_of(ctx, request, browser_id), job_id)
            return view(job_id, browser_id, request)

        cancel_button.click(friendly(ui_cancel), [job, ctx.browser_id], view_outputs, api_visibility="private")
        resume_button.click(friendly(ui_resume), [job, ctx.browser_id], view_outputs, api_visibility="private")

        def on_load(browser_id: str, request: gr.Request = None):
            """After a reload: this browser's jobs, the newest selected and watched again."""
            choices = job_choices(owner_of(ctx, request, browser_id))
            newest = choices[0][1] if choices else None
            return gr.update(choices=choices, value=newest)

        ctx.after_load.append((friendly(on_load), [job]))

        # --- adapter: download, merge, compare ---

        def ui_zip(job_id: str, browser_id: str, request: gr.Request = None):
            return str(adapters.zip_adapter(settings, owner_of(ctx, request, browser_id), job_id or ""))

        # Merge and Compare load a model of their own: GPU work, in its turn like any other.
        def merge_on_gpu(owner_key: str, job_id: str) -> str:
            return str(adapters.merge(settings, owner_key, job_id))

        def compare_on_gpu(owner_key: str, job_id: str, prompt: str, shots: str | None, max_new_tokens: int) -> dict:
            from studio.train.compare import compare

            return compare(settings, owner_key, job_id, prompt, shots, max_new_tokens)

        merging, comparing = GpuWork(ctx, merge_on_gpu), GpuWork(ctx, compare_on_gpu)

        def ui_merge(job_id: str, browser_id: str, request: gr.Request = None):
            key = owner_of(ctx, request, browser_id)
            target = merging.call(request, key, "Train: merge", key, job_id or "", capped=True)
            return f"Merged model saved to `{target}`."

        def ui_compare(job_id: str, prompt: str, shots: str, max_new_tokens: int, browser_id: str, request: gr.Request = None):
            key = owner_of(ctx, request, browser_id)
            result = comparing.call(request, key, "Train: compare", key, job_id or "", prompt, shots or None,
                                    int(max_new_tokens), capped=True)
            say = t.for_request(request)
            return (*(_shown_answer(result[key], say) for key in ("base", "base_few_shot", "tuned")), result["few_shot"])

        zip_button.click(friendly(ui_zip), [job, ctx.browser_id], download, api_visibility="private")
        merge_button.click(friendly(ui_merge), [job, ctx.browser_id], job_status, api_visibility="private",
                           **gpu_event(ctx))
        compare_button.click(friendly(ui_compare), [job, compare_prompt, few_shot, max_new, ctx.browser_id],
                             [base_answer, shot_answer, tuned_answer, few_shot], api_visibility="private",
                             **gpu_event(ctx))

        gr.api(friendly(train_estimate), api_name="train_estimate")
        gr.api(friendly(train_start), api_name="train_start")
        gr.api(friendly(train_status), api_name="train_status")
        gr.api(friendly(train_cancel), api_name="train_cancel")
        gr.api(friendly(train_resume), api_name="train_resume")
        gr.api(friendly(train_jobs), api_name="train_jobs")
