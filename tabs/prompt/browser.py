"""What the browser does on its own: the result sent to the Image tab, and the Text tab's model
taken as the LLM. Neither needs the server."""

from __future__ import annotations

import json

from tabs.common import TabContext
from tabs.i18n import LOCALES
from tabs.prompt.form import PromptForm


def text_model_js(default_id: str) -> str:
    """Reads the Text tab's model box in the browser; Gradio draws a tab on its first visit,
    so an unopened Text tab still means its default."""
    return f"() => document.querySelector('#text-model input')?.value || {json.dumps(default_id)}"


def send_to_image_js(tab_labels: list[str]) -> str:
    """Client side: the Image tab's module is not ours to wire, so the browser opens its tab
    (found by its label in any UI language), waits for Gradio to draw it, fills its prompt
    boxes and sends an 'input' event so that Gradio sees the new values."""
    return """
async (prompt, negative) => {
  const box = (id) => document.querySelector(`#${id} textarea`);
  const labels = %s;
  const button = [...document.querySelectorAll('button[role=tab]')].find((b) => labels.includes(b.innerText.trim()));
  button?.click();
  for (let i = 0; i < 50 && !box('image-prompt'); i++) await new Promise((r) => setTimeout(r, 100));
  const fill = (id, value) => {
    const area = box(id);
    if (!area) return;
    area.value = value;
    area.dispatchEvent(new Event('input', { bubbles: true }));
  };
  fill('image-prompt', prompt || '');
  if (negative) fill('image-negative', negative);
  return [];
}
""" % json.dumps(tab_labels, ensure_ascii=False)


def wire_browser(ctx: TabContext, form: PromptForm, default_model: str) -> None:
    t = ctx.t
    image_tab_labels = sorted({t.text("image.tab", locale) for locale in LOCALES})
    form.send_button.click(None, [form.output, form.negative], None, js=send_to_image_js(image_tab_labels),
                           api_visibility="private")
    form.use_text_model.click(None, None, form.model_id, js=text_model_js(default_model), api_visibility="private")
