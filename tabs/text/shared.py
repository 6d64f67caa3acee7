"""The Text tab's shared controls: where text runs (the local model or an OpenAI-compatible
endpoint), which model and trained adapter, and the sampling knobs column. Chat and the
explorer read them; the Diffusion mode's side-by-side uses the model."""

from __future__ import annotations

import json
from dataclasses import dataclass

import gradio as gr

from studio.models import catalog
from studio.text import adapters, service
from tabs import owner
from tabs.common import TabContext, friendly
from tabs.text.api_signature import BACKEND_FIELDS
from tabs.text.knobs import KnobsColumn

MODEL_BOX = "text-model"


def text_model_js(default_id: str) -> str:
    """Reads the Text tab's model box in the browser (tabs share no server-side state): the Prompt
    and Tokens tabs take it on request. Gradio draws a tab on its first visit, so an unopened Text
    tab still means its default."""
    return f"() => document.querySelector('#{MODEL_BOX} input')?.value || {json.dumps(default_id)}"


@dataclass
class ModelRow:
    backend: gr.Radio
    model_id: gr.Dropdown
    adapter: gr.Dropdown
    remote_row: gr.Row
    remote: dict[str, gr.components.Component]  # BackendChoice field -> its control
    model_choices: list[str]


@dataclass
class SharedControls:
    """What every part of the tab may read: the model row and the knobs column."""

    row: ModelRow
    column: KnobsColumn

    @property
    def model_id(self) -> gr.Dropdown:
        return self.row.model_id

    @property
    def model_choices(self) -> list[str]:
        return self.row.model_choices

    @property
    def knobs(self) -> dict[str, gr.components.Component]:
        return self.column.knobs


def model_row(ctx: TabContext) -> ModelRow:
    t = ctx.t
    model_choices = catalog.choices(ctx.settings, "text")
    with gr.Row():
        backend = gr.Radio(
            [(t("text.backend_local"), "local"), (t("text.backend_openai"), "openai")],
            value="local", label=t("text.backend"), scale=2, elem_id="text-backend",
        )
        model_id = gr.Dropdown(
            model_choices, value=model_choices[0], label=t("text.model"), info=t("text.model_info"),
            allow_custom_value=True, scale=3, elem_id=MODEL_BOX,
        )
        adapter = gr.Dropdown(
            [(t("text.no_adapter"), "")], value="", label=t("text.adapter"), info=t("text.adapter_info"),
            scale=2, elem_id="text-adapter",
        )
    with gr.Row(visible=False) as remote_row:
        endpoint_url = gr.Textbox(
            service.server_endpoint(), label=t("text.endpoint_url"), placeholder="http://localhost:1234/v1", scale=3,
        )
        endpoint_model = gr.Textbox(label=t("text.endpoint_model"), placeholder="qwen2.5-1.5b-instruct", scale=2)
        endpoint_key = gr.Textbox(label=t("text.endpoint_key"), info=t("text.endpoint_key_info"), type="password",
                                  scale=2)
    remote = dict(zip(BACKEND_FIELDS, (backend, endpoint_url, endpoint_model, endpoint_key)))
    return ModelRow(backend, model_id, adapter, remote_row, remote, model_choices)


def wire_model_row(ctx: TabContext, row: ModelRow) -> None:
    """The endpoint fields show for the OpenAI backend; the adapter list follows the model."""
    t, studio = ctx.t, ctx.studio
    row.backend.change(
        lambda b: (gr.update(visible=b == "openai"), gr.update(visible=b == "local")),
        row.backend, [row.remote_row, row.model_id], api_visibility="private",
    )

    def adapter_choices(model: str, current: str, browser_id: str, request: gr.Request = None) -> dict:
        """This user's adapters trained on the model in use (new ones appear when the list is opened)."""
        found = adapters.available(studio.settings, owner.key_for(ctx, request, browser_id), model or None)
        choices = [(t.for_request(request)("text.no_adapter"), "")] + [(a.label, a.job_id) for a in found]
        return gr.update(choices=choices, value=current if current in {a.job_id for a in found} else "")

    adapter_inputs = [row.model_id, row.adapter, ctx.browser_id]
    row.model_id.change(friendly(adapter_choices), adapter_inputs, row.adapter, api_visibility="private")
    row.adapter.focus(friendly(adapter_choices), adapter_inputs, row.adapter, api_visibility="private")

    def adapters_on_load(browser_id: str, request: gr.Request = None) -> dict:
        return adapter_choices(row.model_choices[0], "", browser_id, request)

    ctx.after_load.append((friendly(adapters_on_load), [row.adapter]))
