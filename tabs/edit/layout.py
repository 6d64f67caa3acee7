"""The Edit tab's components: one sub-tab per declared tool (its controls made from its
declaration, tabs.tools), the shared diffusion settings once, and the progress / result column."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import gradio as gr

from studio.image.edit.work import Diffusion
from studio.tools import Tool
from studio.tools.fields import fields_of
from tabs.common import TabContext
from tabs.tools import Control, controls, text_of

if TYPE_CHECKING:
    from tabs.picture_input import PictureInput


@dataclass
class EditPage:
    tabs: gr.Tabs
    forms: dict[str, dict[str, Control]]  # tool name -> field name -> its control
    buttons: dict[str, gr.Button]
    sub_tabs: dict[str, gr.Tab]
    shared: dict[str, Control]  # the Diffusion group's controls, shown once for every tool
    cancel_button: gr.Button
    status: gr.Markdown
    preview: gr.Image
    result_view: gr.Image
    details: gr.Markdown
    result_path: gr.State
    result_tool: gr.State
    again: gr.Button
    cancel_flag: gr.State | None = field(default=None)

    def picture(self, tool: Tool) -> PictureInput | gr.ImageEditor:
        return self.forms[tool.name][tool.picture]

    @property
    def run_outputs(self) -> list[gr.components.Component]:
        return [self.status, self.preview, self.result_view, self.details, self.result_path, self.result_tool,
                self.again]


def build_page(ctx: TabContext, edit_tools: list[Tool]) -> EditPage:
    """The components, in the tab open now."""
    t = ctx.t
    forms: dict[str, dict[str, Control]] = {}
    buttons: dict[str, gr.Button] = {}
    sub_tabs: dict[str, gr.Tab] = {}
    gr.Markdown(t("edit.intro"))
    with gr.Row():
        with gr.Column(scale=3):
            with gr.Tabs() as edit_tabs:
                for tool in edit_tools:
                    english = tool.name.capitalize()
                    with gr.Tab(text_of(ctx, f"edit.tab.{tool.name}", english), id=f"edit-{tool.name}") \
                            as sub_tabs[tool.name]:
                        forms[tool.name] = controls(ctx, tool.fields, f"edit-{tool.name}")
                        buttons[tool.name] = gr.Button(text_of(ctx, f"edit.run.{tool.name}", english),
                                                       variant="primary", elem_id=f"edit-{tool.name}-run")
            with gr.Accordion(t("edit.shared"), open=True):
                shared = controls(ctx, fields_of(Diffusion), "edit")
        with gr.Column(scale=2):
            cancel_button = gr.Button(t("edit.cancel"), variant="stop", elem_id="edit-cancel")
            status = gr.Markdown(elem_id="edit-status")
            preview = gr.Image(label=t("edit.preview"), interactive=False, height=200, elem_id="edit-preview")
            result_view = gr.Image(label=t("edit.result"), interactive=False, type="filepath", height=360,
                                   elem_id="edit-result")
            details = gr.Markdown(elem_id="edit-details")
            result_path = gr.State(None)
            result_tool = gr.State(None)
            again = gr.Button(t("edit.again"), visible=False, elem_id="edit-again")
            ctx.send_to.source(t("edit.send_picker"), t("edit.send"), result_path, "edit")
    return EditPage(edit_tabs, forms, buttons, sub_tabs, shared, cancel_button, status, preview, result_view,
                    details, result_path, result_tool, again, cancel_flag=gr.State(None))
