"""A page reloaded during its run gets the run's form back, and follows the run (progress, images
as they come, then the history) until it ends, as if it had never gone away; its Cancel still
reaches the run (the run's own flag comes back with the form)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import gradio as gr

from studio.pictures import outputs
from studio.runs import LatestRuns, Run
from tabs import owner
from tabs.common import TabContext, friendly, worded
from tabs.image.form import ImageForm
from tabs.image.results import details_markdown, gallery_item

FOLLOW_SECONDS = 1.0  # how often a reloaded page reads a run's progress


def wire_follow(ctx: TabContext, runs: LatestRuns, form: ImageForm) -> None:
    follow_timer = gr.Timer(FOLLOW_SECONDS, active=False)
    restored = form.restored

    def follow_view(run: Run, folder: Path, say: Callable[[str], str]) -> tuple:
        shown = [gallery_item(item) for item in run.delivered]
        selected = len(shown) - 1 if shown else None
        # The newest picture's details (seed, size, prompt): a reloaded page showed none.
        details = details_markdown(run.delivered[-1].parameters, say) if run.delivered else gr.skip()
        if not run.ended:
            progress_event = run.last_progress
            if progress_event is not None:
                said = say("image.status_step").format(label=worded(progress_event.label, say),
                                                       step=progress_event.step, total=progress_event.total)
            elif run.place is not None:
                said = say("app.waiting_turn").format(place=run.place)
            else:
                said = say("image.status_starting")
            preview_image = progress_event.preview if progress_event and progress_event.preview else gr.skip()
            return said, gr.Gallery(value=shown, selected_index=selected), preview_image, gr.skip(), details, \
                gr.Timer(active=True)
        key = {"done": "image.status_done", "cancelled": "image.status_cancelled"}.get(run.outcome, "image.status_error")
        return say(key).format(count=len(shown)), gr.Gallery(value=shown, selected_index=selected), gr.skip(), \
            outputs.history(folder), details, gr.Timer(active=False)

    def restore_run(browser_id: str, request: gr.Request = None):
        found = runs.current(owner.key_for(ctx, request, browser_id))
        if found is None:  # nothing run from this browser lately
            return (*(gr.skip() for _ in restored), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(),
                    gr.Timer(active=False))
        run, values = found
        if run.ended:  # its pictures and details as they ended; the form is the user's own again
            return (*(gr.skip() for _ in restored), gr.skip(),
                    *follow_view(run, owner.folder_for(ctx, request, browser_id), ctx.t.for_request(request)))
        run.follow()
        folder = owner.folder_for(ctx, request, browser_id)
        return (*(values.get(component, gr.skip()) for component in restored), run.flag,
                *follow_view(run, folder, ctx.t.for_request(request)))

    def follow_run(browser_id: str, request: gr.Request = None):
        found = runs.current(owner.key_for(ctx, request, browser_id))
        if found is None:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.Timer(active=False)
        found[0].follow()
        return follow_view(found[0], owner.folder_for(ctx, request, browser_id), ctx.t.for_request(request))

    followed = [form.status, form.gallery, form.preview, form.history, form.details, follow_timer]
    ctx.after_load.append((friendly(restore_run), [*restored, form.cancel_flag, *followed]))
    follow_timer.tick(friendly(follow_run), ctx.browser_id, followed, api_visibility="private", show_progress="hidden")
