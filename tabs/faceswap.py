"""Face swap tab: source photo(s) of one person, a target photo, numbered faces on both,
which faces to replace, blend / feather / restoration, before and after side by side.
Only components and wiring here: the work is in ``studio.faces``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from studio import safety
from studio.faces import detect as detection
from studio.faces import draw, images, paste, pipeline, uploads
from studio.models import catalog
from studio.pictures.reading import path_of
from tabs import api_types, owner
from tabs.common import TabContext, friendly, gpu_event
from tabs.gpu import GpuWork

MAX_SOURCE_SIDE = 2048  # source photos are kept in session memory at most this large
MODEL_LABELS = {
    pipeline.DETECTOR: "faceswap.detector", pipeline.RECOGNISER: "faceswap.recogniser",
    pipeline.SWAPPER: "faceswap.swapper", pipeline.RESTORER: "faceswap.restorer",
}


def _paths(values: Any) -> list[Any]:
    if values is None:
        return []
    if not isinstance(values, (list, tuple)):
        values = [values]
    return [path_of(v) for v in values if v]


def forget_uploads(paths: list[Any], keep: list[Any] = ()) -> None:
    """Delete uploaded face photos from Gradio's upload folder once read (studio.faces.uploads):
    source faces are held in memory only. ``keep``: photos still needed (the target)."""
    from gradio.utils import get_upload_folder

    uploads.forget(paths, get_upload_folder(), keep)


def take_sources(paths: list[Any], keep: list[Any] = ()) -> list[images.Picture]:
    """Source photos read into memory (and shrunk); their uploaded files are deleted, unless
    one is also in ``keep`` (the same photo given as the target)."""
    try:
        if len(paths) > pipeline.MAX_SOURCES:
            raise gr.Error(f"Use at most {pipeline.MAX_SOURCES} source photos of the same person.", print_exception=False)
        return [images.shrink(images.open_picture(p, f"Source photo {i}"), MAX_SOURCE_SIDE)
                for i, p in enumerate(paths, 1)]
    finally:
        forget_uploads(paths, keep)


def details_markdown(summary: dict) -> str:
    """A swap's summary in words: faces with their boxes and scores, models, seconds (not raw JSON)."""

    def faces(items: list[dict]) -> str:
        return "; ".join(f"{face['number']}: box {', '.join(f'{v:g}' for v in face['box'])}, score {face['score']:.2f}"
                         for face in items) or "none"

    lines = [f"**Replaced:** face {', '.join(map(str, summary['replaced'])) or 'none'}",
             f"**Source faces:** {faces(summary['source_faces'])}",
             f"**Target faces:** {faces(summary['target_faces'])}",
             "**Models:** " + "; ".join(f"{role.replace('face_', '')}: {name}" for role, name in summary["models"].items()),
             "**Seconds:** " + ", ".join(f"{step} {seconds:g}" for step, seconds in summary["seconds"].items())]
    if summary.get("file_name"):
        lines.append(f"**Saved as:** {summary['file_name']}")
    return "\n\n".join(lines)


def licence_table(settings, picked: dict[str, str], say) -> str:
    rows = [f"| {say('faceswap.model')} | id | {say('faceswap.licence')} |", "|---|---|---|"]
    for name, key in MODEL_LABELS.items():
        model_id = picked.get(name) or catalog.default_id(settings, name)
        known = model_id in catalog.entry(name).notes  # a catalog model's licence note, in the reader's language
        rows.append(f"| {say(key)} | `{model_id}` | {say(f'catalog.note.{model_id}' if known else 'catalog.own_file')} |")
    return "\n".join(rows)


def build(ctx: TabContext) -> None:
    t, studio, settings = ctx.t, ctx.studio, ctx.settings

    # --- the GPU's part: plain values in, plain values out (on ZeroGPU, across a fork) ------

    def faces_on_gpu(picture: Any, score_threshold: float, detector: str) -> tuple:
        """(the picture as read, its faces) for a path or a picture held in memory."""
        return pipeline.find_faces(studio, picture, score_threshold, detector)

    def swap_on_gpu(swap_request: pipeline.SwapRequest, folder: str, safe: bool) -> Any:
        """The swapped picture, screened before it is saved or shown when ``safe`` (studio.safety)."""
        with safety.screening(studio, safe):
            return pipeline.swap_faces(studio, swap_request, Path(folder))

    finding = GpuWork(ctx, faces_on_gpu)
    swapping = GpuWork(ctx, swap_on_gpu)

    def find(request: gr.Request | None, key: str, picture: Any, score: float, detector: str) -> tuple:
        return finding.call(request, key, "Faces: find", picture, score, detector)

    def swap(request: gr.Request | None, key: str, swap_request: pipeline.SwapRequest, folder: Path) -> Any:
        return swapping.call(request, key, "Faces: swap", swap_request, str(folder), studio.class_rules.limits.safety,
                             capped=True)

    # --- API: self-explaining parameters; the same studio functions as the UI ------------

    def detect_faces(image: gr.FileData, score_threshold: float = detection.DEFAULT_SCORE,
                     detector: str = "", request: gr.Request = None) -> dict:
        """Faces in `image`, numbered left to right: each `number`, `box` [x1, y1, x2, y2],
        `landmarks` (eyes, nose, mouth corners as [x, y]) and `score`. score_threshold 0-1."""
        picture, faces = find(request, owner.key_for(ctx, request), path_of(image), score_threshold, detector)
        return {"width": picture.rgb.shape[1], "height": picture.rgb.shape[0],
                "faces": [f.as_dict(i) for i, f in enumerate(faces, 1)]}

    def swap_faces(source_images: list[gr.FileData], target_image: gr.FileData, source_face: int = 1,
                   target_faces: str = pipeline.ALL, reference_image: gr.FileData | None = None, blend: float = 1.0,
                   mask_feather: float = 0.1, mask_region: api_types.MaskRegion = "box", restore_strength: float = 0.0,
                   score_threshold: float = detection.DEFAULT_SCORE, detector: str = "", recogniser: str = "",
                   swapper: str = "", restorer: str = "", request: gr.Request = None) -> dict:
        """Put the face number `source_face` of the source photos (one or more of the same person,
        their identities averaged) into `target_image`. target_faces: 'all', numbers like '2' or
        '1, 3', or 'similar' (the face most like `reference_image`). blend 0-1, mask_feather 0-0.5,
        mask_region 'box' | 'oval', restore_strength 0-1 (0 = no restoration). Returns the saved
        PNG and the faces found."""
        faces_only = _paths(source_images) + _paths(reference_image)
        needed = _paths(target_image)  # the same upload may be a source too: one file
        swap_request = pipeline.SwapRequest(
            source_images=take_sources(_paths(source_images), needed), target_image=path_of(target_image),
            source_face=source_face, target_faces=target_faces,
            reference_image=path_of(reference_image) if reference_image else None,
            blend=blend, mask_feather=mask_feather, mask_region=mask_region, restore_strength=restore_strength,
            score_threshold=score_threshold, detector=detector, recogniser=recogniser, swapper=swapper,
            restorer=restorer,
        )
        try:
            result = swap(request, owner.key_for(ctx, request), swap_request, owner.folder_for(ctx, request))
        finally:
            forget_uploads(faces_only, needed)
        return {"image": gr.FileData(path=result.path), **result.summary()}

    # --- UI ------------------------------------------------------------------------------

    with gr.Tab(t("faceswap.tab"), id="faceswap"):
        gr.Markdown(t("faceswap.intro"))
        gr.Markdown(t("faceswap.consent"), elem_id="faceswap-consent", elem_classes=["banner"])
        with gr.Row():
            with gr.Column():
                sources = gr.File(label=t("faceswap.sources"), file_count="multiple", file_types=["image"],
                                  type="filepath", height=120, elem_id="faceswap-sources")
                source_pictures = gr.State([])  # this session's source photos, in memory only
                source_view = gr.Image(label=t("faceswap.source_faces"), interactive=False, height=300,
                                       elem_id="faceswap-source-view")
                source_face = gr.Number(1, precision=0, minimum=1, label=t("faceswap.source_face"),
                                        info=t("faceswap.source_face_info"), elem_id="faceswap-source-face")
            with gr.Column():
                target = gr.Image(label=t("faceswap.target"), type="filepath", height=300, elem_id="faceswap-target")
                ctx.send_to.register("faceswap-target", t("faceswap.send_target"), target, "faceswap")
                target_view = gr.Image(label=t("faceswap.target_faces"), interactive=False, height=300,
                                       elem_id="faceswap-target-view")
                target_faces = gr.Textbox(pipeline.ALL, label=t("faceswap.which"), info=t("faceswap.which_info"),
                                          elem_id="faceswap-which")
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
        with gr.Accordion(t("faceswap.options"), open=True):
            with gr.Row():
                blend = gr.Slider(0, 1, 1.0, step=0.05, label=t("faceswap.blend"), info=t("faceswap.blend_info"))
                feather = gr.Slider(0, 0.5, 0.1, step=0.01, label=t("faceswap.feather"), info=t("faceswap.feather_info"))
                region = gr.Radio([(t(f"faceswap.region.{name}"), name) for name in paste.REGIONS], value="box",
                                  label=t("faceswap.region"))
            with gr.Row():
                restore_strength = gr.Slider(0, 1, 0.0, step=0.05, label=t("faceswap.restore"),
                                             info=t("faceswap.restore_info"))
                threshold = gr.Slider(0.05, 0.95, detection.DEFAULT_SCORE, step=0.05, label=t("faceswap.threshold"))
            reference = gr.Image(label=t("faceswap.reference"), type="filepath", height=160,
                                 elem_id="faceswap-reference")
        with gr.Accordion(t("faceswap.models"), open=False):
            pickers = {
                name: gr.Dropdown(pipeline.offered(settings, name), value=catalog.default_id(settings, name),
                                  label=t(key), allow_custom_value=False, elem_id=f"faceswap-{name}")
                for name, key in MODEL_LABELS.items()
            }
            licences = gr.Markdown(licence_table(settings, {}, t.plain), elem_id="faceswap-licences")

        def show_licences(*picked: str, request: gr.Request = None):
            return licence_table(settings, dict(zip(MODEL_LABELS, picked)), t.for_request(request))

        for picker in pickers.values():
            picker.change(friendly(show_licences), list(pickers.values()), licences, api_visibility="private")

        def licences_on_load(_browser_id: str, request: gr.Request = None):
            return licence_table(settings, {}, t.for_request(request))

        ctx.after_load.append((friendly(licences_on_load), [licences]))

        def ui_take_sources(files, score, detector, target_file, browser_id, request: gr.Request = None):
            say = t.for_request(request)
            pictures = take_sources(_paths(files), _paths(target_file))
            if not pictures:
                return [], None, None, ""
            picture, faces = find(request, owner.key_for(ctx, request, browser_id), pictures[0], score, detector)
            message = say("faceswap.sources_held").format(count=len(pictures)) + "\n\n" + \
                say("faceswap.found").format(where=say("faceswap.source"), count=len(faces))
            return pictures, None, draw.annotate(picture.to_pil(), faces), message

        sources.upload(friendly(ui_take_sources), [sources, threshold, pickers[pipeline.DETECTOR], target, ctx.browser_id],
                       [source_pictures, sources, source_view, found], api_visibility="private", **gpu_event(ctx))

        def ui_detect(held, target_file, score, detector, browser_id, request: gr.Request = None):
            say = t.for_request(request)
            shown: dict[Any, Any] = {}
            lines = []
            for label, component, path in ((say("faceswap.source"), source_view, (held or [None])[0]),
                                           (say("faceswap.target_short"), target_view, target_file)):
                if not path:
                    shown[component] = None
                    continue
                picture, faces = find(request, owner.key_for(ctx, request, browser_id), path, score, detector)
                shown[component] = draw.annotate(picture.to_pil(), faces)
                lines.append(say("faceswap.found").format(where=label, count=len(faces)))
            return shown[source_view], shown[target_view], "\n\n".join(lines)

        detect_button.click(friendly(ui_detect), [source_pictures, target, threshold, pickers[pipeline.DETECTOR],
                                                  ctx.browser_id],
                            [source_view, target_view, found], api_visibility="private", **gpu_event(ctx))

        def ui_swap(held, target_file, number, which, reference_file, blend_value, feather_value,
                    region_value, restore_value, score, detector, recogniser, swapper, restorer, browser_id,
                    request: gr.Request = None):
            say = t.for_request(request)
            swap_request = pipeline.SwapRequest(
                source_images=list(held or []), target_image=target_file, source_face=int(number or 1),
                target_faces=which, reference_image=reference_file, blend=blend_value, mask_feather=feather_value,
                mask_region=region_value, restore_strength=restore_value, score_threshold=score,
                detector=detector, recogniser=recogniser, swapper=swapper, restorer=restorer,
            )
            if not swap_request.source_images:
                raise gr.Error(say("faceswap.need_source"), print_exception=False)
            if not target_file:
                raise gr.Error(say("faceswap.need_target"), print_exception=False)
            result = swap(request, owner.key_for(ctx, request, browser_id), swap_request,
                          owner.folder_for(ctx, request, browser_id))
            chosen = set(result.replaced)
            message = say("faceswap.done").format(faces=", ".join(map(str, result.replaced)))
            notes = "\n\n".join(f"> {n}" for n in result.notes)
            return (result.before, result.path, result.path, details_markdown(result.summary()),
                    draw.annotate(result.before, result.target_faces, chosen), message + ("\n\n" + notes if notes else ""))

        swap_inputs = [source_pictures, target, source_face, target_faces, reference, blend, feather, region, restore_strength,
                       threshold, *pickers.values(), ctx.browser_id]
        swap_button.click(friendly(ui_swap), swap_inputs, [before, after, result_path, details, target_view, found],
                          api_visibility="private", **gpu_event(ctx))

        gr.api(friendly(detect_faces), api_name="detect_faces", **gpu_event(ctx))
        gr.api(friendly(swap_faces), api_name="swap_faces", **gpu_event(ctx))
