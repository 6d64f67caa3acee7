"""Picking a dataset (an upload or the task's sample), filling its column mapping, previewing one
formatted example as the settings change, and the form following the task."""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr

from studio.pictures.reading import path_of
from studio.train import datasets, service
from tabs.common import TabContext, friendly
from tabs.train.form import MAPPING_FIELDS, TrainForm


def wire_dataset(ctx: TabContext, form: TrainForm) -> None:
    settings, fields = ctx.settings, form.fields
    task, upload, dataset_path, preview = form.task, form.upload, form.dataset_path, form.preview

    def show_preview(values: dict, path: str | None, task_value: str):
        if not path:
            return ""
        if task_value == "image_lora":
            return json.dumps(service.preview_images(path, values[fields["instance_prompt"]]), ensure_ascii=False, indent=1)
        result = service.preview(settings, task_value, path, form.collect(values))
        shown = {k: v for k, v in result.items() if k not in ("columns", "mapping")}
        return json.dumps(shown, ensure_ascii=False, indent=1) if task_value == "classification" else (
            f"# {result['used_rows']} of {result['rows']} rows; one formatted example:\n{result['example']}")

    def pick_dataset(path: str | None, task_value: str, values: dict):
        if not path:
            return None, "", *[gr.update() for _ in range(4)], ""
        if task_value == "image_lora":
            summary = service.preview_images(path, values[fields["instance_prompt"]])
            note = f"{Path(path).name}: {summary['images']} image(s)"
            return path, note, *[gr.update() for _ in range(4)], json.dumps(summary, ensure_ascii=False, indent=1)
        rows = service.load_dataset(path, task_value, settings)
        mapping = service.fill_mapping(rows, task_value, {})
        cols = datasets.columns(rows)
        updates = [gr.update(choices=[""] + cols if name == "response_column" else cols, value=mapping.get(name, ""))
                   for name in MAPPING_FIELDS]
        values = {**values, **{fields[n]: mapping.get(n, "") for n in MAPPING_FIELDS}}
        note = f"{Path(path).name}: {len(rows)} rows · columns {', '.join(cols)}"
        return path, note, *updates, show_preview(values, path, task_value)

    pick_outputs = [dataset_path, form.dataset_note, *(fields[name] for name in MAPPING_FIELDS), preview]
    field_set = set(fields.values())
    # Handlers of {component: value} with the request: a refusal reads in the page's language.
    def on_upload(values: dict, request: gr.Request = None):
        return pick_dataset(path_of(values[upload]), values[task], values)

    def on_sample(values: dict, request: gr.Request = None):
        return pick_dataset(str(service.SAMPLES[values[task]]), values[task], values)

    upload.upload(friendly(on_upload), {upload, task, *fields.values()}, pick_outputs, api_visibility="private")
    form.sample_button.click(friendly(on_sample), {task, *fields.values()}, pick_outputs, api_visibility="private")

    def preview_event(values: dict):
        return show_preview(values, values[dataset_path], values[task])

    for name in (*MAPPING_FIELDS, "template", "first_rows", "train_on_responses_only", "held_out", "instance_prompt"):
        fields[name].change(friendly(preview_event), field_set | {dataset_path, task}, preview,
                            api_visibility="private", show_progress="hidden")
    _wire_task_switch(ctx, form)


def _wire_task_switch(ctx: TabContext, form: TrainForm) -> None:
    """Another task: its base models, its fields shown, and the picked dataset forgotten."""
    settings, fields = ctx.settings, form.fields

    def switch_task(task_value: str):
        causal, classes, image = (task_value == name for name in ("causal_lm", "classification", "image_lora"))
        return (gr.update(choices=service.base_models(settings, task_value), value=service.default_base(settings, task_value)),
                gr.update(visible=not image), gr.update(visible=not image), gr.update(visible=image),
                gr.update(visible=causal), gr.update(visible=causal), gr.update(visible=classes),
                gr.update(visible=classes), gr.update(visible=causal), gr.update(visible=causal),
                gr.update(visible=classes), None, "", "")

    form.task.change(switch_task, form.task, [form.base_model, form.text_box, form.rows_box, form.image_box,
                                              *(fields[name] for name in MAPPING_FIELDS), fields["template"],
                                              fields["train_on_responses_only"], fields["held_out"],
                                              form.dataset_path, form.dataset_note, form.preview],
                     api_visibility="private")
