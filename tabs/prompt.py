"""Prompt tab: an idea in any language expanded into an English image prompt (LLM, or GPT-2
restricted to visual words), an image described as a prompt, the result sent to the Image
tab, and the same seed drawn from both prompts. The work is in ``studio.prompts``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import gradio as gr

from studio import safety, zero_gpu
from studio.models import catalog
from studio.prompts import classic, describe, instructions
from studio.prompts.expand import MAX_VARIANTS, ExpandOptions, ExpandResult, expand
from studio.prompts.side_by_side import side_by_side
from studio.text import service
from studio.tokens.clip_limit import CLIP_LIMIT
from tabs import api_types, owner, roles
from tabs.common import TabContext, friendly, gpu_event
from tabs.gpu import GpuWork
from tabs.i18n import LOCALES

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


def _language_markdown(say: Callable[[str], str], result: ExpandResult) -> str:
    kind = say(f"prompt.lang_{result.language.kind}")
    return say("prompt.language").format(kind=kind, share=result.language.cjk_share)


def _tokens_markdown(say: Callable[[str], str], tokens: int) -> str:
    return say("prompt.tokens_over" if tokens > CLIP_LIMIT else "prompt.tokens").format(tokens=tokens)


def _variants_markdown(result: ExpandResult) -> str:
    lines = []
    for index, variant in enumerate(result.variants, 1):
        seed = f"seed {variant.seed} · " if variant.seed is not None else ""
        lines.append(f"**{index}.** {seed}{variant.tokens} CLIP tokens\n\n{variant.prompt}")
        lines += [f"> {note}" for note in variant.notes]
    return "\n\n".join(lines)


def build(ctx: TabContext) -> None:
    t, studio, settings = ctx.t, ctx.studio, ctx.settings
    model_choices = catalog.choices(settings, "text")

    # --- the GPU's part: plain values in, plain values out (on ZeroGPU, across a fork) ------

    def expand_on_gpu(text: str, options: ExpandOptions, endpoint: Any) -> Any:
        return expand(studio, text, options, endpoint)

    def classic_on_gpu(text: str, temperature: float, seed: Any) -> Any:
        return classic.classic_expand(studio, text, temperature, seed)

    def describe_on_gpu(image: str, mode: str) -> str:
        return describe.describe(studio, image, mode)

    def compare_on_gpu(original: str, expanded: str, negative: str, seed: Any, folder: str, safe: bool) -> Any:
        with safety.screening(studio, safe):
            return side_by_side(studio, original, expanded, negative, seed, folder=Path(folder))

    def expanded(request: gr.Request | None, text: str, options: ExpandOptions, endpoint: Any) -> Any:
        rules = roles.limits_for(ctx, request)
        if rules is not None:  # a student picks the LLM from the catalog (and the teacher's allow-list)
            rules.check_model(options.model_id or "", catalog.choices(settings, "text"))
        return expanding.call(request, owner.key_for(ctx, request), "Prompt: expand", text, options, endpoint)

    expanding = GpuWork(ctx, expand_on_gpu, lambda named: zero_gpu.text_work(
        instructions.LENGTHS.get(named["options"].length, (None, 256))[1] * max(1, int(named["options"].variants or 1))))
    classic_expanding = GpuWork(ctx, classic_on_gpu)
    describing = GpuWork(ctx, describe_on_gpu)
    comparing = GpuWork(ctx, compare_on_gpu)

    # --- API: self-explaining parameters; the same studio functions as the UI --------------

    def expand_prompt(
        text: str,
        length: api_types.ExpansionLength = "medium",
        target: api_types.ExpansionTarget = "sdxl",
        temperature: float = 0.7,
        seed: int = -1,
        variants: int = 1,
        keep_english: bool = True,
        trim_to_77_tokens: bool = False,
        model_id: str = "",
        backend: api_types.TextBackend = "local",
        endpoint_url: str = "",
        endpoint_model: str = "",
        endpoint_api_key: str = "",
        request: gr.Request = None,
    ) -> dict:
        """Turn `text` (any language) into an English image prompt and a negative prompt.
        length: short | medium | rich. target: sdxl (comma-separated tags) | zimage (sentences).
        seed -1 = random; variant i (1-4 variants) uses seed + i. keep_english: English text is
        returned as it is. model_id '' = the Text tab's default LLM; backend 'openai' uses
        endpoint_*. Returns english_prompt, negative_prompt, clip_tokens (of 77), language,
        expanded (False: the original text came back, notes say why) and every variant."""
        endpoint = service.endpoint_for(settings, backend, endpoint_url, endpoint_model, endpoint_api_key)
        options = ExpandOptions(length, target, temperature, seed, variants, keep_english, trim_to_77_tokens,
                                model_id or None)
        result = expanded(request, text, options, endpoint)
        best = result.best
        return {
            "english_prompt": best.prompt, "negative_prompt": best.negative, "clip_tokens": best.tokens,
            "language": result.language.kind, "expanded": best.expanded, "notes": best.notes,
            "variants": [v.summary() for v in result.variants],
        }

    def describe_image(image: str, mode: api_types.DescribeMode = "photo", request: gr.Request = None) -> str:
        """A prompt for `image` (a file) from the captioning model. mode: photo | art (Art / Anime)."""
        return describing.call(request, owner.key_for(ctx, request), "Prompt: describe", image, mode)

    # --- UI handlers ---

    def on_expand(text, length, target, temperature, seed, variants, keep_english, trim, model_id,
                  backend, endpoint_url, endpoint_model, endpoint_key, request: gr.Request = None):
        say = t.for_request(request)
        endpoint = service.endpoint_for(settings, backend, endpoint_url, endpoint_model, endpoint_key)
        options = ExpandOptions(length, target, temperature, seed, variants, keep_english, trim, model_id or None)
        result = expanded(request, text, options, endpoint)
        best = result.best
        info_line = _language_markdown(say, result) + " · " + _tokens_markdown(say, best.tokens)
        if not best.expanded:  # the text came back as it was: say why here, not only in the variants
            info_line += "\n\n" + "\n\n".join(f"> {note}" for note in best.notes or [say("prompt.not_expanded")])
        return best.prompt, best.negative, info_line, _variants_markdown(result)

    def on_classic(text, temperature, seed, request: gr.Request = None):
        say = t.for_request(request)
        result = classic_expanding.call(request, owner.key_for(ctx, request), "Prompt: classic", text, temperature, seed)
        tokenizer_note = say("prompt.classic_added").format(count=len(result.added), seed=result.seed)
        return result.prompt, gr.update(), "\n\n".join([tokenizer_note] + [f"> {n}" for n in result.notes]), ""

    def on_compare(original, expanded, negative, seed, request: gr.Request = None):
        say = t.for_request(request)
        pair = comparing.call(request, owner.key_for(ctx, request), "Prompt: compare", original, expanded, negative, seed,
                              str(owner.folder_for(ctx, request)), studio.class_rules.limits.safety, capped=True)
        return (pair.original.path or pair.original.image, pair.expanded.path or pair.expanded.image,
                say("prompt.compare_done").format(seed=pair.seed))

    # --- UI ------------------------------------------------------------------------------

    with gr.Tab(t("prompt.tab"), id="prompt"):
        gr.Markdown(t("prompt.intro"))
        with gr.Row():
            with gr.Column(scale=3):
                text = gr.Textbox(label=t("prompt.input"), placeholder=t("prompt.input_placeholder"), lines=3,
                                  elem_id="prompt-input")
                with gr.Row():
                    expand_button = gr.Button(t("prompt.expand"), variant="primary", elem_id="prompt-expand")
                    classic_button = gr.Button(t("prompt.classic"), elem_id="prompt-classic")
                info = gr.Markdown(elem_id="prompt-info")
                output = gr.Textbox(label=t("prompt.output"), lines=3, elem_id="prompt-output")
                negative = gr.Textbox(label=t("prompt.negative"), lines=1, elem_id="prompt-negative")
                send_button = gr.Button(t("prompt.send_image"), elem_id="prompt-send-image")
                with gr.Accordion(t("prompt.variants_out"), open=False):
                    variants_view = gr.Markdown(elem_id="prompt-variants")
            with gr.Column(scale=2):
                length = gr.Radio(
                    [(t(f"prompt.length_{name}"), name) for name in instructions.LENGTHS],
                    value="medium", label=t("prompt.length"), elem_id="prompt-length",
                )
                target = gr.Radio(
                    [(t("prompt.target_sdxl"), "sdxl"), (t("prompt.target_zimage"), "zimage")],
                    value="sdxl", label=t("prompt.target"), elem_id="prompt-target",
                )
                temperature = gr.Slider(0, 2, 0.7, step=0.05, label=t("prompt.temperature"))
                with gr.Row():
                    seed = gr.Number(-1, precision=0, label=t("prompt.seed"), elem_id="prompt-seed")
                    variants = gr.Slider(1, MAX_VARIANTS, 1, step=1, label=t("prompt.variants"))
                keep_english = gr.Checkbox(True, label=t("prompt.keep_english"))
                trim = gr.Checkbox(False, label=t("prompt.trim"))
                model_id = gr.Dropdown(model_choices, value=model_choices[0], label=t("prompt.model"),
                                       allow_custom_value=True, elem_id="prompt-model")
                use_text_model = gr.Button(t("prompt.use_text_model"), size="sm")
                with gr.Accordion(t("prompt.endpoint"), open=False):
                    backend = gr.Radio(["local", "openai"], value="local", label=t("prompt.backend"),
                                       info=t("prompt.backend_info"))
                    endpoint_url = gr.Textbox(service.server_endpoint(), label=t("prompt.endpoint_url"),
                                              placeholder="http://localhost:1234/v1")
                    endpoint_model = gr.Textbox(label=t("prompt.endpoint_model"))
                    endpoint_key = gr.Textbox(label=t("prompt.endpoint_key"), type="password")

        with gr.Accordion(t("prompt.describe"), open=False):
            with gr.Row():
                describe_upload = gr.Image(type="filepath", label=t("prompt.describe_image"), height=240,
                                           elem_id="prompt-describe-image")
                with gr.Column():
                    mode = gr.Radio([(t("prompt.mode_photo"), "photo"), (t("prompt.mode_art"), "art")],
                                    value="photo", label=t("prompt.describe_mode"), elem_id="prompt-describe-mode")
                    describe_button = gr.Button(t("prompt.describe_button"), elem_id="prompt-describe")
                    # The caption lands here, by its button; the user decides whether it becomes the prompt.
                    caption = gr.Textbox(label=t("prompt.caption"), lines=3, elem_id="prompt-caption")
                    use_caption = gr.Button(t("prompt.use_caption"), size="sm", elem_id="prompt-use-caption")

        with gr.Accordion(t("prompt.compare"), open=False):
            gr.Markdown(t("prompt.compare_intro"))
            compare_button = gr.Button(t("prompt.compare_button"), elem_id="prompt-compare")
            compare_note = gr.Markdown(elem_id="prompt-compare-note")
            with gr.Row():
                original_image = gr.Image(label=t("prompt.compare_original"), interactive=False,
                                          elem_id="prompt-compare-original")
                expanded_image = gr.Image(label=t("prompt.compare_expanded"), interactive=False,
                                          elem_id="prompt-compare-expanded")

        expand_inputs = [text, length, target, temperature, seed, variants, keep_english, trim, model_id,
                         backend, endpoint_url, endpoint_model, endpoint_key]
        result_outputs = [output, negative, info, variants_view]
        expand_button.click(friendly(on_expand), expand_inputs, result_outputs, api_visibility="private",
                            **gpu_event(ctx))
        classic_button.click(friendly(on_classic), [text, temperature, seed], result_outputs,
                             api_visibility="private", **gpu_event(ctx))
        describe_button.click(friendly(describe_image), [describe_upload, mode], caption,
                              api_name="describe_image", **gpu_event(ctx))

        def caption_as_prompt(text_value: str, request: gr.Request = None):
            """The caption becomes the result (the negative prompt stays yours); the info line
            says where it came from instead of what an earlier expansion said."""
            if not (text_value or "").strip():
                raise gr.Error(t.for_request(request)("prompt.no_caption"), print_exception=False)
            return text_value, t.for_request(request)("prompt.from_caption"), ""

        use_caption.click(caption_as_prompt, caption, [output, info, variants_view], api_visibility="private")
        image_tab_labels = sorted({t.text("image.tab", locale) for locale in LOCALES})
        send_button.click(None, [output, negative], None, js=send_to_image_js(image_tab_labels), api_visibility="private")
        use_text_model.click(None, None, model_id, js=text_model_js(model_choices[0]), api_visibility="private")
        compare_button.click(friendly(on_compare), [text, output, negative, seed],
                             [original_image, expanded_image, compare_note], api_visibility="private",
                             **gpu_event(ctx))
        gr.api(friendly(expand_prompt), api_name="expand_prompt", **gpu_event(ctx))
