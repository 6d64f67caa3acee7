"""Tokenizer tab: text cut into tokens (chips, ids, bytes, counts, compare) and images as
VQ-GAN codebook tokens. Only components and wiring; the work is in ``studio.tokens``."""

from __future__ import annotations

from typing import Any, Callable

import gradio as gr

from studio.models import catalog
from studio.tokens import answer, image_tokens, render, sources, text_tokens
from tabs import api_types, owner
from tabs.common import TabContext, friendly, gpu_event
from tabs.gpu import GpuWork
from tabs.text.shared import text_model_js

EXAMPLE_TEXT = "炎龍老師很幽默\nunbelievable"
SNIPPET = 60  # characters of the dropped CLIP text quoted in the summary


def _counts_markdown(say: Callable[[str], str], view: text_tokens.TokenView) -> str:
    counts = view.counts()
    lines = [say("tokens.counts").format(**{k: ("—" if v is None else f"{v:,}") for k, v in counts.items()})]
    if view.context_window:
        share = f"{counts['context_share']:.2%}"
        lines.append(say("tokens.window").format(context_window=f"{view.context_window:,}", share=share))
        if view.window and view.window.overflow:
            lines.append(say("tokens.overflow").format(kept_tokens=f"{view.window.kept_tokens:,}"))
    else:
        lines.append(say("tokens.window_unknown"))
    if view.clip:
        if view.clip.overflow:
            dropped = view.clip.dropped_text.strip()[:SNIPPET].replace("\n", " ")
            lines.append(say("tokens.clip_cut").format(tokens=view.clip.tokens, dropped=dropped))
        else:
            lines.append(say("tokens.clip_ok").format(tokens=view.clip.tokens))
    return "\n\n".join(lines)


def _round_trip_markdown(say: Callable[[str], str], view: text_tokens.TokenView) -> str:
    if view.round_trip_ok:
        return say("tokens.round_trip_ok")
    decoded = view.decoded[:300].replace("`", "'")
    return say("tokens.round_trip_diff").format(position=view.first_difference(), decoded=f"`{decoded}`")


def build(ctx: TabContext) -> None:
    t, studio, settings = ctx.t, ctx.studio, ctx.settings
    offered = sources.offered(settings)
    default_tokenizer = offered[0]

    # --- API endpoints (scripts get data; the UI below renders the same functions) ---

    def tokenize(text: str, tokenizer: str = default_tokenizer, clip_check: bool = False,
                 detail: api_types.TokenDetail = "compact") -> dict:
        """Cut `text` into tokens with `tokenizer` (a catalog id, any Hub id, or a local folder
        when the app is not shared). `detail="compact"` (default) returns counts and parallel
        lists: token i is `ids[i]`, covering characters `starts[i]`..`ends[i]`, spelled
        `pieces[str(ids[i])]`, and only part of a character when its id is in `byte_pieces`
        (its hex UTF-8 bytes); plus the decode round trip, the context-window cut and, with
        `clip_check`, the CLIP 77-token cut. `detail="full"` (texts up to 40,000 characters)
        returns every token as a dict and the chips that rebuild the text."""
        detail = answer.check_detail(detail, len(text) if isinstance(text, str) else 0)  # before any work
        return answer.answer(text_tokens.tokenize(studio, text, tokenizer, clip_check), detail)

    def compare_tokenizers(text: str, tokenizers: list[str]) -> dict:
        """Token counts of the same `text` under two to four `tokenizers`."""
        views = text_tokens.compare(studio, text, tokenizers)
        return {"rows": [dict(zip(text_tokens.COMPARE_HEADERS, row)) for row in text_tokens.compare_rows(views)]}

    # --- UI handlers ---

    def show_text(text: str, tokenizer: str, clip_check: bool, request: gr.Request = None):
        say = t.for_request(request)
        if not text:
            return f"<p>{say('tokens.empty')}</p>", "", "", ""
        view = text_tokens.tokenize(studio, text, tokenizer, clip_check)
        ids = ", ".join(map(str, view.ids))
        return render.chips_html(view), _counts_markdown(say, view), ids, _round_trip_markdown(say, view)

    def show_compare(text: str, tokenizers: list[str], request: gr.Request = None):
        views = text_tokens.compare(studio, text, tokenizers)
        say = t.for_request(request)
        headers = [say(f"tokens.col.{i}") for i in range(len(text_tokens.COMPARE_HEADERS))]
        return {"headers": headers, "data": text_tokens.compare_rows(views)}, render.compare_html(views)

    with gr.Tab(t("tokens.tab"), id="tokens") as tab:
        gr.Markdown(t("tokens.intro"))
        with gr.Tabs() as inner_tabs:
            with gr.Tab(t("tokens.text_tab"), id="tokens-text-tab"):
                with gr.Row():
                    text = gr.Textbox(EXAMPLE_TEXT, label=t("tokens.text"), lines=5, max_lines=14,
                                      elem_id="tokens-text", scale=3)
                    with gr.Column(scale=2):
                        tokenizer = gr.Dropdown(offered, value=default_tokenizer, allow_custom_value=True,
                                                label=t("tokens.tokenizer"), info=t("tokens.tokenizer_info"),
                                                elem_id="tokens-tokenizer")
                        use_text_model = gr.Button(t("tokens.use_text_model"), size="sm")
                        clip_check = gr.Checkbox(True, label=t("tokens.clip_check"))
                counts = gr.Markdown(elem_id="tokens-counts")
                gr.Markdown(t("tokens.legend"), elem_classes=["tok-legend"])
                chips = gr.HTML(elem_id="tokens-chips", max_height=600)
                with gr.Accordion(t("tokens.details"), open=False):
                    ids = gr.Textbox(label=t("tokens.ids"), lines=3, max_lines=8, buttons=["copy"],
                                     interactive=False, elem_id="tokens-ids")
                    round_trip = gr.Markdown(elem_id="tokens-round-trip")
                with gr.Accordion(t("tokens.compare"), open=False):
                    with gr.Row():
                        compare_pick = gr.Dropdown(offered, value=offered[:3], multiselect=True, max_choices=4,
                                                   allow_custom_value=True, label=t("tokens.compare_pick"), scale=4)
                        compare_button = gr.Button(t("tokens.compare_button"), scale=1)
                    compare_table = gr.Dataframe(headers=text_tokens.COMPARE_HEADERS, interactive=False,
                                                 label=t("tokens.compare_table"), elem_id="tokens-compare-table")
                    compare_view = gr.HTML(max_height=500)

            image_tab(ctx, inner_tabs)

        gr.api(friendly(tokenize), api_name="tokenize")
        gr.api(friendly(compare_tokenizers), api_name="compare_tokenizers")

        text_outputs = [chips, counts, ids, round_trip]
        text_inputs = [text, tokenizer, clip_check]
        live: dict[str, Any] = dict(
            api_visibility="private", trigger_mode="always_last", show_progress="hidden"
        )
        # Re-render while typing: "always_last" drops the stale keystrokes queued meanwhile.
        text.change(friendly(show_text), text_inputs, text_outputs, **live)
        tokenizer.change(friendly(show_text), text_inputs, text_outputs, **live)
        clip_check.change(friendly(show_text), text_inputs, text_outputs, **live)
        tab.select(friendly(show_text), text_inputs, text_outputs, **live)
        use_text_model.click(None, None, tokenizer, js=text_model_js(catalog.default_id(settings, "text")),
                             api_visibility="private")
        compare_button.click(friendly(show_compare), [text, compare_pick], [compare_table, compare_view],
                             api_visibility="private")


def image_tab(ctx: TabContext, inner_tabs: gr.Tabs) -> None:
    """The image sub-tab: a picture as VQ-GAN codebook tokens, the grid, and the picture the
    indices alone decode to (in the tab open now)."""
    t, studio, settings = ctx.t, ctx.studio, ctx.settings

    def image_tokens_on_gpu(image: str | None, vq_model: str, max_side: int) -> image_tokens.ImageTokens:
        """The GPU's part (on ZeroGPU, across a fork): plain values in and out."""
        return image_tokens.image_tokens(studio, image, vq_model, max_side)

    vq_encoding = GpuWork(ctx, image_tokens_on_gpu)

    def show_image(image: str | None, vq_model: str, max_side: float, request: gr.Request = None,
                   progress=gr.Progress(track_tqdm=True)):
        """Encode `image` (a file) with the VQ-GAN `vq_model`, the longer side scaled to
        `max_side` pixels. Returns: the index grid with its size and codebook size (JSON),
        the encoded image, the image decoded from the indices alone, the grid as an HTML
        heatmap, and a one-line summary."""
        progress(0, desc="Loading the VQ model")
        result = vq_encoding.call(request, owner.key_for(ctx, request), "Tokenizer: image", image, vq_model, int(max_side))
        info = result.info()
        summary = t.for_request(request)("tokens.image_info").format(**{k: v for k, v in info.items() if k != "grid"})
        return info, result.image, result.reconstruction, render.index_grid_html(result.grid), summary

    with gr.Tab(t("tokens.image_tab"), id="tokens-image-tab"):
        gr.Markdown(t("tokens.image_lesson"))
        with gr.Row():
            upload = gr.File(label=t("tokens.image_file"), file_types=["image"], type="filepath",
                             elem_id="tokens-image-file")
            # Images from other tabs ("send to") arrive here.
            ctx.send_to.register("tokens-image", t("tokens.send_target"), upload, "tokens",
                                 inner=((inner_tabs, "tokens-image-tab"),))
            with gr.Column():
                vq_model = gr.Dropdown(catalog.choices(settings, "vq"), label=t("tokens.vq_model"),
                                       allow_custom_value=True)  # a Hub id too; the studio judges it
                side = gr.Slider(image_tokens.MIN_SIDE, image_tokens.MAX_SIDE, image_tokens.DEFAULT_SIDE,
                                 step=16, label=t("tokens.side"))
                encode = gr.Button(t("tokens.encode"), variant="primary")
        image_summary = gr.Markdown(elem_id="tokens-image-summary")
        with gr.Row():
            original = gr.Image(label=t("tokens.original"), interactive=False)
            reconstruction = gr.Image(label=t("tokens.reconstruction"), interactive=False)
        grid = gr.HTML(label=t("tokens.grid"), elem_id="tokens-grid", max_height=700)
        grid_json = gr.JSON(label=t("tokens.grid"), visible=False)

    image_outputs = [grid_json, original, reconstruction, grid, image_summary]
    encode.click(friendly(show_image), [upload, vq_model, side], image_outputs,
                 api_name="image_tokens", **gpu_event(ctx))
    upload.upload(friendly(show_image), [upload, vq_model, side], image_outputs,
                  api_visibility="private", **gpu_event(ctx))
