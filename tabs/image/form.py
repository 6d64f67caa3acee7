"""The Image tab's controls, made once: the prompt column (prompt, buttons, image prompts, the
results and history) and the settings column (model, preset file, styles, performance, ratio,
LoRAs, Advanced). Its declared Advanced fields (sharpness, adaptive CFG, ADM, CLIP skip) come from
``ImageRequest``'s own declaration (tabs.tools)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import gradio as gr

from studio.image import checkpoints, preset_files, presets, styles
from studio.image.request import LORA_WEIGHT_RANGE, MAX_IMAGES, MAX_LORAS, ImageRequest
from studio.image.schedulers import UNET_SCHEDULERS
from studio import tools
from studio.tools.fields import PICTURE_KINDS, fields_of
from tabs.common import TabContext
from tabs.i18n import style_key, translations
from tabs.image_prompt_panel import ImagePromptPanel, build_panel
from tabs.tools import controls, optional_number

PRESET_SAMPLER = ""  # the sampler dropdown's "follow the preset" value
# The request's plain fields, each from one control (handlers get {component: value}).
PLAIN_FIELDS = ("prompt", "negative_prompt", "styles", "performance", "aspect_ratio", "image_number", "seed",
                "checkpoint", "steps", "cfg", "scheduler", "width", "height")


@dataclass
class ImageForm:
    fields: dict[str, Any]  # ImageRequest field -> its control (the declared Advanced ones included)
    lora_names: list[gr.Dropdown]
    lora_weights: list[gr.Slider]
    expand_toggle: gr.Checkbox
    prompt_panel: ImagePromptPanel
    generate_button: gr.Button
    cancel_button: gr.Button
    status: gr.Markdown
    preview: gr.Image
    gallery: gr.Gallery
    details: gr.Markdown
    selected_path: gr.State
    history: gr.Gallery
    history_button: gr.Button
    restore_button: gr.Button
    drop_png: gr.File
    refresh_button: gr.Button
    family_note: gr.Markdown
    no_style: gr.Button
    preset_file: gr.Dropdown
    enhance_toggle: gr.Checkbox | None = None  # Enhance each new image (Fooocus's Enhance checkbox)
    enhance: dict[str, Any] = field(default_factory=dict)  # the Enhance tool's own controls, declared there
    cancel_flag: gr.State | None = None
    last_results: gr.State | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def restored(self) -> list[Any]:
        """What a restored run or picture puts back: the form as it was asked."""
        return [*self.fields.values(), *self.lora_names, *self.lora_weights, self.expand_toggle,
                self.enhance_toggle, *self.enhance.values()]


def style_choices(ctx: TabContext, say: Callable[[str], str] | None = None) -> list[tuple[Any, str]]:
    """Every style (Fooocus V2, Random Style, the studio's, the user's files, read again) by its
    name in the reader's language where the tables have one (``say``: a handler's reader)."""
    known = translations()["en"]
    word = say or ctx.t
    return [(word(style_key(name)) if style_key(name) in known else name, name)
            for name in styles.available(ctx.settings.styles_dir)]


def build_form(ctx: TabContext) -> ImageForm:
    t, settings = ctx.t, ctx.settings
    choices = checkpoints.offered(settings)
    with gr.Row():
        with gr.Column(scale=3):
            with gr.Row():
                # One line that grows: Enter draws and Shift+Enter starts a new line, as in a chat (Gradio
                # sends on Enter only from a one-line box; in a taller one Enter is a new line).
                prompt = gr.Textbox(label=t("image.prompt"), placeholder=t("image.prompt_placeholder"),
                                    info=t("image.prompt_info"), lines=1, max_lines=8, scale=5, elem_id="image-prompt")
                with gr.Column(scale=1, min_width=140):
                    generate_button = gr.Button(t("image.generate"), variant="primary", elem_id="image-generate")
                    cancel_button = gr.Button(t("image.cancel"), variant="stop", elem_id="image-cancel")
            expand_toggle = gr.Checkbox(False, label=t("image.expand"), info=t("image.expand_info"),
                                        elem_id="image-expand")
            with gr.Accordion(t("image.prompts"), open=False, elem_id="image-prompts"):
                prompt_panel = build_panel(t)
            with gr.Accordion(t("image.enhance"), open=False, elem_id="image-enhance"):
                enhance_toggle = gr.Checkbox(False, label=t("image.enhance_on"), info=t("image.enhance_info"),
                                             elem_id="image-enhance-on")
                enhance = controls(ctx, [f for f in tools.TOOLS["enhance"].fields
                                         if f.kind not in ("group", *PICTURE_KINDS)], "image-enhance")
            status = gr.Markdown(elem_id="image-status")
            with gr.Row():
                preview = gr.Image(label=t("image.preview"), interactive=False, height=256, scale=1,
                                   elem_id="image-preview")
                gallery = gr.Gallery(label=t("image.results"), columns=4, height=420, scale=3,
                                     elem_id="image-gallery", allow_preview=True)
            details = gr.Markdown(elem_id="image-details")
            selected_path = gr.State(None)
            ctx.send_to.source(t("image.send_picker"), t("image.send"), selected_path, "image")
            with gr.Accordion(t("image.history"), open=True):
                history = gr.Gallery(columns=6, height=300, show_label=False, elem_id="image-history")
                with gr.Row():
                    history_button = gr.Button(t("image.history_refresh"), size="sm")
                    restore_button = gr.Button(t("image.restore"), size="sm", elem_id="image-restore")
                drop_png = gr.File(label=t("image.drop_png"), file_types=[".png"], type="filepath",
                                   height=90, elem_id="image-drop-png")
        with gr.Column(scale=2):
            preset_file = gr.Dropdown(preset_files.names(settings), value=None, label=t("image.preset_file"),
                                      info=t("image.preset_file_info"), elem_id="image-preset-file")
            # The whole column's width: Hub ids are long, and were cut off beside the button.
            checkpoint = gr.Dropdown(choices, value=choices[0], label=t("image.checkpoint"),
                                     info=t("image.checkpoint_info"), allow_custom_value=True,
                                     elem_id="image-checkpoint")
            refresh_button = gr.Button(t("image.refresh"), size="sm")
            family_note = gr.Markdown(elem_id="image-family")
            negative_prompt = gr.Textbox(label=t("image.negative"), info=t("image.negative_info"), lines=2,
                                         elem_id="image-negative")
            style_pick = gr.Dropdown(style_choices(ctx), value=[], multiselect=True, filterable=True,
                                     label=t("image.styles"), info=t("image.styles_info"), elem_id="image-styles")
            no_style = gr.Button(t("image.no_style"), size="sm")
            performance = gr.Radio([(t(f"image.perf.{name}"), name) for name in presets.PERFORMANCES],
                                   value=presets.DEFAULT_PERFORMANCE, label=t("image.performance"),
                                   elem_id="image-performance")
            aspect_ratio = gr.Dropdown(presets.aspect_choices(), value=presets.DEFAULT_ASPECT, label=t("image.aspect"),
                                       elem_id="image-aspect")
            with gr.Row():
                image_number = gr.Slider(1, MAX_IMAGES, value=2, step=1, label=t("image.number"),
                                         elem_id="image-number")
                seed = gr.Number(-1, precision=0, label=t("image.seed"), info=t("image.seed_info"), elem_id="image-seed")
            lora_names, lora_weights = lora_rows(ctx)
            with gr.Accordion(t("image.advanced"), open=False, elem_id="image-advanced"):
                gr.Markdown(t("image.advanced_info"))
                with gr.Row():
                    steps = optional_number(label=t("image.steps"), info=t("image.empty_follows"),
                                            elem_id="image-steps")
                    cfg = optional_number(label=t("image.cfg"), info=t("image.empty_follows"), elem_id="image-cfg")
                sampler = gr.Dropdown([(t("image.sampler_preset"), PRESET_SAMPLER)] + list(UNET_SCHEDULERS),
                                      value=PRESET_SAMPLER, label=t("image.sampler"), elem_id="image-sampler")
                with gr.Row():
                    width = optional_number(label=t("image.width"), placeholder=t("image.size_from_ratio"),
                                            elem_id="image-width")
                    height = optional_number(label=t("image.height"), placeholder=t("image.size_from_ratio"),
                                             elem_id="image-height")
                declared = controls(ctx, [f for f in fields_of(ImageRequest)], "image", open_advanced=True)
    plain = dict(zip(PLAIN_FIELDS, (prompt, negative_prompt, style_pick, performance, aspect_ratio, image_number,
                                    seed, checkpoint, steps, cfg, sampler, width, height)))
    return ImageForm(
        fields={**plain, **declared}, lora_names=lora_names, lora_weights=lora_weights, expand_toggle=expand_toggle,
        prompt_panel=prompt_panel, generate_button=generate_button, cancel_button=cancel_button, status=status,
        preview=preview, gallery=gallery, details=details, selected_path=selected_path, history=history,
        history_button=history_button, restore_button=restore_button, drop_png=drop_png,
        refresh_button=refresh_button, family_note=family_note, no_style=no_style, preset_file=preset_file,
        enhance_toggle=enhance_toggle, enhance=enhance, cancel_flag=gr.State(None), last_results=gr.State([]),
    )


def lora_rows(ctx: TabContext) -> tuple[list[gr.Dropdown], list[gr.Slider]]:
    t, settings = ctx.t, ctx.settings
    names, weights = [], []
    with gr.Accordion(t("image.loras"), open=False):
        gr.Markdown(t("image.loras_info"))
        for i in range(MAX_LORAS):
            with gr.Row():
                names.append(gr.Dropdown(["None"] + checkpoints.offered_loras(settings), value="None",
                                         label=f"{t.plain('image.lora')} {i + 1}", scale=3))
                weights.append(gr.Slider(*LORA_WEIGHT_RANGE, value=1.0, step=0.05, label=t("image.weight"), scale=2))
    return names, weights
