"""Finding faces: source photos taken into memory as they are uploaded (their faces numbered),
Detect on the source and the target, and the /detect_faces endpoint."""

from __future__ import annotations

from typing import Any

import gradio as gr

from studio.faces import detect as detection
from studio.faces import draw, pipeline
from studio.pictures.reading import path_of
from tabs import owner
from tabs.common import TabContext, friendly, gpu_event
from tabs.faceswap.layout import FacePage
from tabs.faceswap.source_photos import _paths, take_sources
from tabs.faceswap.work import FaceWork


def wire_detect(ctx: TabContext, work: FaceWork, page: FacePage) -> None:
    t = ctx.t
    find, source_view, target_view = work.find, page.source_view, page.target_view
    detector_picker = page.pickers[pipeline.DETECTOR]

    def ui_take_sources(files, score, detector, target_file, browser_id, request: gr.Request = None):
        say = t.for_request(request)
        pictures = take_sources(_paths(files), _paths(target_file))
        if not pictures:
            return [], None, None, ""
        picture, faces = find(request, owner.key_for(ctx, request, browser_id), pictures[0], score, detector)
        message = say("faceswap.sources_held").format(count=len(pictures)) + "\n\n" + \
            say("faceswap.found").format(where=say("faceswap.source"), count=len(faces))
        return pictures, None, draw.annotate(picture.to_pil(), faces), message

    page.sources.upload(friendly(ui_take_sources), [page.sources, page.threshold, detector_picker, page.target,
                                                    ctx.browser_id],
                        [page.source_pictures, page.sources, source_view, page.found], api_visibility="private",
                        **gpu_event(ctx))

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

    page.detect_button.click(friendly(ui_detect), [page.source_pictures, page.target, page.threshold, detector_picker,
                                                   ctx.browser_id],
                             [source_view, target_view, page.found], api_visibility="private", **gpu_event(ctx))


def register_api(ctx: TabContext, work: FaceWork) -> None:
    def detect_faces(image: gr.FileData, score_threshold: float = detection.DEFAULT_SCORE,
                     detector: str = "", request: gr.Request = None) -> dict:
        """Faces in `image`, numbered left to right: each `number`, `box` [x1, y1, x2, y2],
        `landmarks` (eyes, nose, mouth corners as [x, y]) and `score`. score_threshold 0-1."""
        picture, faces = work.find(request, owner.key_for(ctx, request), path_of(image), score_threshold, detector)
        return {"width": picture.rgb.shape[1], "height": picture.rgb.shape[0],
                "faces": [f.as_dict(i) for i, f in enumerate(faces, 1)]}

    gr.api(friendly(detect_faces), api_name="detect_faces", **gpu_event(ctx))
