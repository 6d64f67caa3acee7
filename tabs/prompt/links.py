"""The Prompt tab's links to other tabs: its result sent to the Image tab (by the server, through
``ctx.send_to``), and the Text tab's model taken as the LLM (read in the browser)."""

from __future__ import annotations

from tabs.common import TabContext
from tabs.prompt.form import PromptForm
from tabs.text.shared import text_model_js


def wire_links(ctx: TabContext, form: PromptForm, default_model: str) -> None:
    ctx.send_to.prompt_source(form.send_button, form.output, form.negative, "image")
    form.use_text_model.click(None, None, form.model_id, js=text_model_js(default_model), api_visibility="private")
