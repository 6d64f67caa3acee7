"""The Train tab's form: task, base model and adapter name; the dataset (upload or sample) and
how its columns map; the image LoRA's own fields; the template and its preview; the LoRA and
optimisation settings; Estimate and Start. Every TrainConfig field has one control here."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from studio.train import service
from studio.train.config import DEFAULT_TEMPLATE, PRECISIONS, SCHEDULERS, TrainConfig
from tabs.common import TabContext
from tabs.i18n import Translator

TASKS = ("causal_lm", "classification", "image_lora")  # labels: train.task.<name>
DEFAULTS = TrainConfig()
# The TrainConfig fields the form sets (a job's settings, the estimate's and the preview's).
CONFIG_FIELDS = (
    "r", "alpha", "dropout", "target_modules", "learning_rate", "epochs", "max_steps", "batch_size",
    "grad_accumulation", "warmup_steps", "scheduler", "precision", "gradient_checkpointing", "seed", "save_every",
    "first_rows", "cutoff_len", "prompt_column", "response_column", "template", "train_on_responses_only",
    "text_column", "label_column", "held_out", "instance_prompt", "resolution", "repeats",
)
MAPPING_FIELDS = ("prompt_column", "response_column", "text_column", "label_column")  # a table's columns


@dataclass
class TrainForm:
    task: gr.Radio
    base_model: gr.Dropdown
    adapter_name: gr.Textbox
    dataset_path: gr.State  # gr.State: the picked dataset's file
    upload: gr.File
    sample_button: gr.Button
    dataset_note: gr.Markdown
    text_box: gr.Row  # the table's columns (language models)
    rows_box: gr.Row  # rows, cutoff and held-out share (language models)
    image_box: gr.Row  # the image LoRA's own fields
    preview: gr.Code
    estimate_button: gr.Button
    start_button: gr.Button
    estimate_view: gr.Markdown
    fields: dict[str, gr.components.Component]  # TrainConfig field -> its control

    def collect(self, values: dict) -> dict:
        """The job's settings from the handler's {component: value}."""
        out = {name: values[component] for name, component in self.fields.items()}
        for name, value in out.items():  # Gradio numbers arrive as floats
            if isinstance(value, float) and value.is_integer() and isinstance(getattr(DEFAULTS, name), int):
                out[name] = int(value)
        return out


def build_form(ctx: TabContext) -> TrainForm:
    t, settings = ctx.t, ctx.settings
    with gr.Row():
        task = gr.Radio([(t(f"train.task.{name}"), name) for name in TASKS], value="causal_lm",
                        label=t("train.task"), scale=2)
        base_model = gr.Dropdown(service.base_models(settings, "causal_lm"), value=service.default_base(settings, "causal_lm"),
                                 label=t("train.base_model"), allow_custom_value=True, scale=2)
        adapter_name = gr.Textbox(label=t("train.adapter_name"), placeholder="act-as-coach", scale=1, elem_id="train-adapter-name")
    dataset_path = gr.State(None)
    with gr.Row():
        upload = gr.File(label=t("train.dataset"), file_types=[".csv", ".json", ".jsonl", ".txt", ".zip", ".png", ".jpg", ".jpeg", ".webp"], scale=2,
                         elem_id="train-dataset")
        with gr.Column(scale=1):
            sample_button = gr.Button(t("train.use_sample"), elem_id="train-sample")
            dataset_note = gr.Markdown(elem_id="train-dataset-note")
    controls: dict[str, gr.components.Component] = {}
    text_box, rows_box, image_box = _data_controls(t, settings.is_tiny, controls)
    controls["template"] = gr.Textbox(DEFAULT_TEMPLATE, lines=3, label=t("train.template"), info=t("train.template_info"))
    preview = gr.Code(label=t("train.preview"), language=None, interactive=False, elem_id="train-preview")
    _lora_controls(t, controls)
    _optimisation_controls(t, controls)
    with gr.Row():
        estimate_button = gr.Button(t("train.estimate"))
        start_button = gr.Button(t("train.start"), variant="primary", elem_id="train-start")
    estimate_view = gr.Markdown(elem_id="train-estimate")
    return TrainForm(task, base_model, adapter_name, dataset_path, upload, sample_button, dataset_note, text_box,
                     rows_box, image_box, preview, estimate_button, start_button, estimate_view,
                     {name: controls[name] for name in CONFIG_FIELDS})


def _data_controls(t: Translator, tiny: bool,
                   controls: dict[str, gr.components.Component]) -> tuple[gr.Row, gr.Row, gr.Row]:
    """What to read from the dataset: a table's columns and rows, or the image LoRA's fields."""
    with gr.Row(visible=True) as text_box:
        controls["prompt_column"] = gr.Dropdown([], label=t("train.prompt_column"), allow_custom_value=True)
        controls["response_column"] = gr.Dropdown([], label=t("train.response_column"), allow_custom_value=True)
        controls["text_column"] = gr.Dropdown([], label=t("train.text_column"), allow_custom_value=True, visible=False)
        controls["label_column"] = gr.Dropdown([], label=t("train.label_column"), allow_custom_value=True, visible=False)
    with gr.Row(visible=True) as rows_box:
        controls["first_rows"] = gr.Number(DEFAULTS.first_rows, precision=0, label=t("train.first_rows"), minimum=0)
        controls["cutoff_len"] = gr.Number(DEFAULTS.cutoff_len, precision=0, label=t("train.cutoff_len"), minimum=8,
                                           elem_id="train-cutoff")
        controls["train_on_responses_only"] = gr.Checkbox(False, label=t("train.responses_only"))
        controls["held_out"] = gr.Slider(0, 0.5, DEFAULTS.held_out, step=0.05, label=t("train.held_out"), visible=False)
    with gr.Row(visible=False) as image_box:
        controls["instance_prompt"] = gr.Textbox("", label=t("train.instance_prompt"), placeholder="a photo of sks dog",
                                                 scale=3)
        # A CPU with the tiny twin trains at 64 px in seconds; SDXL itself is made for 1024.
        controls["resolution"] = gr.Number(64 if tiny else DEFAULTS.resolution, precision=0, minimum=64, step=8,
                                           label=t("train.resolution"))
        controls["repeats"] = gr.Number(DEFAULTS.repeats, precision=0, minimum=1, label=t("train.repeats"))
    return text_box, rows_box, image_box


def _lora_controls(t: Translator, controls: dict[str, gr.components.Component]) -> None:
    with gr.Accordion(t("train.lora"), open=False):
        with gr.Row():
            controls["r"] = gr.Number(DEFAULTS.r, precision=0, label="r", minimum=1)
            controls["alpha"] = gr.Number(DEFAULTS.alpha, precision=0, label="alpha", minimum=1)
            controls["dropout"] = gr.Number(DEFAULTS.dropout, label="dropout", minimum=0, maximum=0.99)
            controls["target_modules"] = gr.Textbox("", label=t("train.targets"), placeholder=t("train.targets_auto"))


def _optimisation_controls(t: Translator, controls: dict[str, gr.components.Component]) -> None:
    with gr.Accordion(t("train.optimisation"), open=False, elem_id="train-optimisation"):
        with gr.Row():
            controls["learning_rate"] = gr.Number(DEFAULTS.learning_rate, label=t("train.lr"))
            controls["epochs"] = gr.Number(DEFAULTS.epochs, precision=0, label=t("train.epochs"), minimum=1)
            controls["max_steps"] = gr.Number(DEFAULTS.max_steps, precision=0, label=t("train.max_steps"), minimum=0,
                                              elem_id="train-max-steps")
            controls["batch_size"] = gr.Number(DEFAULTS.batch_size, precision=0, label=t("train.batch_size"), minimum=1)
            controls["grad_accumulation"] = gr.Number(DEFAULTS.grad_accumulation, precision=0,
                                                      label=t("train.grad_accumulation"), minimum=1)
        with gr.Row():
            controls["warmup_steps"] = gr.Number(DEFAULTS.warmup_steps, precision=0, label=t("train.warmup"), minimum=0)
            controls["scheduler"] = gr.Dropdown(list(SCHEDULERS), value=DEFAULTS.scheduler, label=t("train.scheduler"))
            controls["precision"] = gr.Dropdown(list(PRECISIONS), value=DEFAULTS.precision, label=t("train.precision"))
            controls["gradient_checkpointing"] = gr.Checkbox(False, label=t("train.checkpointing"))
            controls["seed"] = gr.Number(DEFAULTS.seed, precision=0, label=t("train.seed"))
            controls["save_every"] = gr.Number(DEFAULTS.save_every, precision=0, label=t("train.save_every"), minimum=1)
