"""A picture upload that the studio reads, not Gradio.

Gradio's ``gr.Image`` opens an upload with PIL before the event runs, so a text file renamed
``.png`` failed there with "Could not preprocess input component… UnidentifiedImageError" and the
file's path on the server. ``PictureInput`` hands the upload's path to the event as it is when
Gradio cannot open it: the studio's own reading (studio.pictures.reading) then refuses it with
the same sentence as the API's, in the reader's language, naming the file and nothing more.
"""

from __future__ import annotations

from typing import Any

import gradio as gr


class PictureInput(gr.Image):
    """Use with ``type="filepath"`` (the only kind of value that can be handed on unread). No
    ``__init__`` of its own: Gradio reads a component's settings from its signature."""

    is_template = True  # the page draws it as gr.Image (Gradio's convention for a component's variant)

    def preprocess(self, payload: Any) -> str | None:
        try:
            return super().preprocess(payload)
        except Exception:  # not a picture Gradio can open: the studio's reading says so
            if self.type != "filepath":
                raise
            path = getattr(payload, "path", None)
            return str(path) if path else None
