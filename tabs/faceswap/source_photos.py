"""Uploaded face photos: read into memory (source photos, shrunk) and their files deleted from
Gradio's upload folder once read, so that source faces are held in memory only."""

from __future__ import annotations

from typing import Any

import gradio as gr

from studio.faces import images, pipeline, uploads
from studio.pictures.reading import path_of

MAX_SOURCE_SIDE = 2048  # source photos are kept in session memory at most this large


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
