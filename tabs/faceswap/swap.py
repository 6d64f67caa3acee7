"""Swapping: the held source faces into the target's chosen faces, before and after side by side
with the details in words, and the /swap_faces endpoint."""

from __future__ import annotations

import gradio as gr

from studio.faces import draw, pipeline
from tabs import owner
from tabs.common import TabContext, friendly, gpu_event
from tabs.faceswap.layout import FacePage
from tabs.faceswap.source_photos import forget_uploads, take_sources
from tabs.faceswap.work import FaceWork
from tabs.tools import request_api


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


def wire_swap(ctx: TabContext, work: FaceWork, page: FacePage) -> None:
    t = ctx.t

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
        result = work.swap(request, owner.key_for(ctx, request, browser_id), swap_request,
                           owner.folder_for(ctx, request, browser_id))
        chosen = set(result.replaced)
        message = say("faceswap.done").format(faces=", ".join(map(str, result.replaced)))
        notes = "\n\n".join(f"> {n}" for n in result.notes)
        return (result.before, result.path, result.path, details_markdown(result.summary()),
                draw.annotate(result.before, result.target_faces, chosen), message + ("\n\n" + notes if notes else ""))

    swap_inputs = [page.source_pictures, page.target, page.source_face, page.target_faces, page.reference, page.blend,
                   page.feather, page.region, page.restore_strength, page.threshold, *page.pickers.values(),
                   ctx.browser_id]
    page.swap_button.click(friendly(ui_swap), swap_inputs,
                           [page.before, page.after, page.result_path, page.details, page.target_view, page.found],
                           api_visibility="private", **gpu_event(ctx))


SUMMARY = ("Put the face number `source_face` of the source photos (their identities averaged) into `target_image`, "
           "on the faces `target_faces` names. Returns the saved PNG and the faces found.")


def register_api(ctx: TabContext, work: FaceWork) -> None:
    """/swap_faces, its parameters made from SwapRequest's declaration (tabs.tools.request_api)."""

    def run(job: pipeline.SwapRequest, request: gr.Request | None) -> dict:
        needed = [job.target_image]  # the same upload may be a source too: one file
        faces_only = list(job.source_images) + ([job.reference_image] if job.reference_image else [])
        try:
            job.source_images = take_sources(list(job.source_images), needed)
            result = work.swap(request, owner.key_for(ctx, request), job, owner.folder_for(ctx, request))
        finally:
            forget_uploads(faces_only, needed)
        return {"image": gr.FileData(path=result.path), **result.summary()}

    endpoint = request_api(pipeline.SwapRequest, "swap_faces", SUMMARY, run, ctx.settings)
    gr.api(friendly(endpoint), api_name="swap_faces", **gpu_event(ctx))
