"""The face swap page: the source photos and the target with their numbered faces, Detect and
Swap, before and after, the details, the options and the models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from studio.faces import pipeline
from studio.tools.fields import fields_of
from tabs.common import TabContext
from tabs.faceswap.models_panel import layout_models
from tabs.picture_input import PictureInput
from tabs.tools import control, controls

DECLARED = {field.name: field for field in fields_of(pipeline.SwapRequest)}  # each control's one declaration


@dataclass
class FacePage:
    sources: gr.File
    source_pictures: gr.State
    source_view: gr.Image
    source_face: gr.Number
    target: PictureInput
    target_view: gr.Image
    target_faces: gr.Textbox
    detect_button: gr.Button
    swap_button: gr.Button
    found: gr.Markdown
    before: gr.Image
    after: gr.Image
    result_path: gr.State
    details: gr.Markdown
    blend: gr.Slider
    feather: gr.Slider
    region: gr.Radio
    restore_strength: gr.Slider
    threshold: gr.Slider
    reference: PictureInput
    pickers: dict[str, gr.Dropdown]  # role -> its model's dropdown
    licences: gr.Markdown


def build_page(ctx: TabContext) -> FacePage:
    t = ctx.t
    with gr.Row():
        with gr.Column():
            sources = _sources_column(ctx)
        with gr.Column():
            targets = _target_column(ctx)
    with gr.Row():
        detect_button = gr.Button(t("faceswap.detect"), elem_id="faceswap-detect")
        swap_button = gr.Button(t("faceswap.swap"), variant="primary", elem_id="faceswap-swap")
    found = gr.Markdown(elem_id="faceswap-found")
    with gr.Row():
        before = gr.Image(label=t("faceswap.before"), interactive=False, elem_id="faceswap-before")
        after = gr.Image(label=t("faceswap.after"), interactive=False, format="png", elem_id="faceswap-after")
    result_path = gr.State(None)
    ctx.send_to.source(t("faceswap.send_picker"), t("faceswap.send"), result_path, "faceswap")
    with gr.Accordion(t("faceswap.details"), open=False):
        details = gr.Markdown(elem_id="faceswap-details")
    options = _options(ctx)
    pickers, licences = layout_models(ctx)
    return FacePage(**sources, **targets, detect_button=detect_button, swap_button=swap_button, found=found,
                    before=before, after=after, result_path=result_path, details=details, **options,
                    pickers=pickers, licences=licences)


def _sources_column(ctx: TabContext) -> dict[str, Any]:
    t = ctx.t
    sources = gr.File(label=t("faceswap.sources"), file_count="multiple", file_types=["image"],
                      type="filepath", height=120, elem_id="faceswap-sources")
    source_pictures = gr.State([])  # this session's source photos, in memory only
    source_view = gr.Image(label=t("faceswap.source_faces"), interactive=False, height=300,
                           elem_id="faceswap-source-view")
    source_face = control(ctx, DECLARED["source_face"], "faceswap-source-face")
    return dict(sources=sources, source_pictures=source_pictures, source_view=source_view, source_face=source_face)


def _target_column(ctx: TabContext) -> dict[str, Any]:
    t = ctx.t
    target = PictureInput(label=t("faceswap.target"), type="filepath", height=300, elem_id="faceswap-target")
    ctx.send_to.register("faceswap-target", t("faceswap.send_target"), target, "faceswap")
    target_view = gr.Image(label=t("faceswap.target_faces"), interactive=False, height=300,
                           elem_id="faceswap-target-view")
    target_faces = control(ctx, DECLARED["target_faces"], "faceswap-which")
    return dict(target=target, target_view=target_view, target_faces=target_faces)


def _options(ctx: TabContext) -> dict[str, Any]:
    """The swap's options, each made from its declaration (studio.faces.pipeline.SwapRequest)."""

    def made(*names: str) -> list[Any]:
        return list(controls(ctx, [DECLARED[name] for name in names], "faceswap").values())

    with gr.Accordion(ctx.t("faceswap.options"), open=True):
        with gr.Row():
            blend, feather, region = made("blend", "mask_feather", "mask_region")
        with gr.Row():
            restore_strength, threshold = made("restore_strength", "score_threshold")
        reference = control(ctx, DECLARED["reference_image"], "faceswap-reference")
    return dict(blend=blend, feather=feather, region=region, restore_strength=restore_strength, threshold=threshold,
                reference=reference)
