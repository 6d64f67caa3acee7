"""Face swap tab: source photo(s) of one person, a target photo, numbered faces on both,
which faces to replace, blend / feather / restoration, before and after side by side.
Only components and wiring here: the work is in ``studio.faces``. One module per part:

- ``work``: the GPU's part (finding faces, swapping), in its turn;
- ``source_photos``: uploaded photos read into memory and their files deleted;
- ``layout``: the page's components; ``models_panel``: the models by role and their licences;
- ``detect``: sources taken in, Detect, and /detect_faces;
- ``swap``: Swap, its details in words, and /swap_faces.
"""

from __future__ import annotations

import gradio as gr

from tabs.common import TabContext
from tabs.faceswap import detect, swap
from tabs.faceswap.layout import build_page
from tabs.faceswap.models_panel import wire_licences
from tabs.faceswap.work import FaceWork

# Names other modules and tests import from ``tabs.faceswap`` (as when it was one file).
from tabs.faceswap.models_panel import MODEL_LABELS, licence_table  # noqa: F401,E402
from tabs.faceswap.source_photos import MAX_SOURCE_SIDE, _paths, forget_uploads, take_sources  # noqa: F401,E402
from tabs.faceswap.swap import details_markdown  # noqa: F401,E402


def build(ctx: TabContext) -> None:
    t = ctx.t
    work = FaceWork(ctx)
    with gr.Tab(t("faceswap.tab"), id="faceswap"):
        gr.Markdown(t("faceswap.intro"))
        gr.Markdown(t("faceswap.consent"), elem_id="faceswap-consent", elem_classes=["banner"])
        page = build_page(ctx)
        wire_licences(ctx, page.pickers, page.licences)
        detect.wire_detect(ctx, work, page)
        swap.wire_swap(ctx, work, page)
        detect.register_api(ctx, work)
        swap.register_api(ctx, work)
