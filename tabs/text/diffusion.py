"""The Diffusion sub-tab: an answer that starts as a row of [MASK]s and is unmasked a few
positions per step. The steps stream to the page as they happen; a slider (and Play) goes back
through them; a button runs the same prompt through next-token generation, to compare the
number of model calls; the slide's fill-in-the-blank panel sits below."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import gradio as gr

from studio.models import catalog
from studio.progress import Stopped
from studio.runs import Waiting
from studio.text.diffusion.request import (
    CATALOG_NAME,
    MAX_LENGTH,
    MAX_TEMPERATURE,
    DiffusionRequest,
    DiffusionResult,
    DiffusionStep,
    DiffusionUpdate,
)
from studio.text.results import GenerationRequest, GenerationUpdate
from studio.text.sampling import SamplingSettings
from tabs import owner
from tabs.common import TabContext, cancellable_run, friendly, wire_cancel
from tabs.gpu import run_events
from tabs.text import diffusion_view as view
from tabs.text import fill_mask_panel
from tabs.text.api_signature import BROWSER, by_name
from tabs.text.diffusion_view import RunFigures, Say
from tabs.text.diffusion_work import DEFAULTS, PROMPT_EXAMPLE, DiffusionWork
from tabs.text.explorer import shown_rows
from tabs.text.shared import SharedControls

if TYPE_CHECKING:
    import pandas as pd

REQUEST_FIELDS = ("prompt", "model_id", "length", "steps", "block_length", "remasking", "temperature", "seed")
UPDATE_SECONDS = 0.25  # the step rows are sent at most this often while a run streams (and at its end)
PLAY_SECONDS = 0.6  # Play shows the next step this often


@dataclass
class DiffusionParts:
    tab: gr.Tab
    controls: dict[str, gr.components.Component]  # REQUEST_FIELDS -> its control
    run_button: gr.Button
    stop_button: gr.Button
    compare_button: gr.Button
    stats: gr.Markdown
    answer: gr.Textbox
    shown: gr.HTML
    scrub: gr.Slider
    play_button: gr.Button
    pause_button: gr.Button
    timer: gr.Timer
    rows: gr.HTML
    table: gr.Dataframe
    compare: gr.Markdown
    compare_text: gr.Textbox
    blanks: fill_mask_panel.BlanksParts


def _request_controls(ctx: TabContext) -> dict[str, gr.components.Component]:
    t = ctx.t
    models = catalog.choices(ctx.settings, CATALOG_NAME)
    prompt = gr.Textbox(PROMPT_EXAMPLE, label=t("text.prompt"), lines=2, elem_id="diffusion-prompt")
    model_id = gr.Dropdown(models, value=models[0], label=t("text.model"), info=t("text.diffusion.model_info"),
                           allow_custom_value=True, elem_id="diffusion-model")
    with gr.Row():
        length = gr.Slider(1, MAX_LENGTH, value=DEFAULTS.length, step=1, label=t("text.diffusion.length"),
                           info=t("text.diffusion.length_info"), elem_id="diffusion-length")
        steps = gr.Slider(1, MAX_LENGTH, value=DEFAULTS.steps, step=1, label=t("text.diffusion.steps"),
                          info=t("text.diffusion.steps_info"), elem_id="diffusion-steps")
        block_length = gr.Slider(1, MAX_LENGTH, value=DEFAULTS.block_length, step=1,
                                 label=t("text.diffusion.block_length"), info=t("text.diffusion.block_length_info"),
                                 elem_id="diffusion-block-length")
    with gr.Row():
        remasking = gr.Radio(
            [(t("text.diffusion.low_confidence"), "low_confidence"), (t("text.diffusion.random"), "random")],
            value=DEFAULTS.remasking, label=t("text.diffusion.remasking"), info=t("text.diffusion.remasking_info"),
            elem_id="diffusion-remasking",
        )
        temperature = gr.Slider(0, MAX_TEMPERATURE, value=DEFAULTS.temperature, step=0.05,
                                label=t("text.temperature"), info=t("text.temperature_info"),
                                elem_id="diffusion-temperature")
        seed = gr.Number(DEFAULTS.seed, precision=0, label=t("text.seed"), info=t("text.seed_info"),
                         elem_id="diffusion-seed")
    return dict(zip(REQUEST_FIELDS, (prompt, model_id, length, steps, block_length, remasking, temperature, seed)))


def layout(ctx: TabContext) -> DiffusionParts:
    t = ctx.t
    with gr.Tab(t("text.diffusion_tab"), id="text-diffusion") as tab:
        gr.Markdown(t("text.diffusion.intro"))
        controls = _request_controls(ctx)
        with gr.Row():
            run_button = gr.Button(t("text.diffusion.run"), variant="primary", elem_id="diffusion-run")
            stop_button = gr.Button(t("text.stop"), variant="stop", elem_id="diffusion-stop")
            compare_button = gr.Button(t("text.diffusion.compare_run"), elem_id="diffusion-compare-run")
        stats = gr.Markdown(elem_id="diffusion-stats")
        answer = gr.Textbox(label=t("text.diffusion.answer"), lines=3, interactive=False, elem_id="diffusion-answer")
        shown = gr.HTML(view.shown_step([], 0, ctx.t.plain), css_template=view.TOKEN_CSS, elem_id="diffusion-shown")
        with gr.Row():
            scrub = gr.Slider(0, 1, value=0, step=1, label=t("text.diffusion.scrub"), scale=4,
                              elem_id="diffusion-scrub")
            play_button = gr.Button(t("text.diffusion.play"), scale=1, elem_id="diffusion-play")
            pause_button = gr.Button(t("text.diffusion.pause"), scale=1, elem_id="diffusion-pause")
        timer = gr.Timer(PLAY_SECONDS, active=False)
        with gr.Accordion(t("text.diffusion.all_steps"), open=True):
            rows = gr.HTML(css_template=view.TOKEN_CSS, elem_id="diffusion-rows")
        with gr.Accordion(t("text.diffusion.confidences"), open=False):
            table = gr.Dataframe(headers=list(view.STEP_COLUMNS), interactive=False, elem_id="diffusion-table")
        with gr.Accordion(t("text.diffusion.compare"), open=True):
            gr.Markdown(t("text.diffusion.compare_intro"))
            compare = gr.Markdown(elem_id="diffusion-compare")
            compare_text = gr.Textbox(label=t("text.diffusion.compare_answer"), lines=3, interactive=False,
                                      elem_id="diffusion-compare-answer")
        blanks = fill_mask_panel.layout(ctx)
    return DiffusionParts(tab, controls, run_button, stop_button, compare_button, stats, answer, shown, scrub,
                          play_button, pause_button, timer, rows, table, compare, compare_text, blanks)


def running_markdown(step: DiffusionStep, total: int, say: Say) -> str:
    return say("text.diffusion.running").format(step=step.step, steps=total, masked=step.masked,
                                                passes=step.forward_passes)


def result_markdown(result: DiffusionResult, length: int, say: Say) -> str:
    ended = say(f"text.diffusion.ended.{'stopped' if result.stopped_by != 'finished' else 'finished'}")
    line = say("text.diffusion.done").format(passes=result.forward_passes, length=length, seconds=result.seconds,
                                             seed=result.seed, model=result.model, ended=ended)
    return "\n\n".join([line, *(f"> {note}" for note in result.notes)])


class Pace:
    """Whether enough time has passed since the last update sent to the page."""

    def __init__(self, seconds: float):
        self.seconds, self.last = seconds, 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now - self.last < self.seconds:
            return False
        self.last = now
        return True


def wire(ctx: TabContext, shared: SharedControls, work: DiffusionWork, parts: DiffusionParts) -> None:
    steps_state = gr.State([])  # this page's last run, step by step (DiffusionStep records)
    figures_state = gr.State({})  # "diffusion" / "next_token" -> RunFigures, for the side by side
    wire_run(ctx, work, parts, steps_state, figures_state)
    wire_player(ctx, parts, steps_state)
    wire_compare(ctx, shared, work, parts, figures_state)
    wire_headers(ctx, parts)
    fill_mask_panel.wire(ctx, work, parts.blanks)


def wire_run(ctx: TabContext, work: DiffusionWork, parts: DiffusionParts, steps_state: gr.State,
             figures_state: gr.State) -> None:
    """Run streams every step to the page (the rows at a pace a browser keeps up with); Stop ends
    the run within a step and keeps the steps made."""
    t, p = ctx.t, parts
    flag = gr.State(None)
    fields = {**p.controls, BROWSER: ctx.browser_id}

    def streamed(steps: list[DiffusionStep], total: int, say: Say) -> dict:
        latest = steps[-1]
        return {p.stats: running_markdown(latest, total, say), p.shown: view.shown_step(steps, len(steps) - 1, say),
                p.scrub: gr.update(maximum=max(1, len(steps) - 1), value=len(steps) - 1),
                p.rows: view.all_rows(steps, say)}

    def finished(steps: list[DiffusionStep], result: DiffusionResult, length: int, figures: dict, say: Say) -> dict:
        steps = steps or [DiffusionStep(0, 0, [None] * length, [], [], 0, 0.0)]  # stopped before its first record
        figures = {**figures, "diffusion": RunFigures(result.model, result.forward_passes, length, result.seconds)}
        return {
            **streamed(steps, len(steps) - 1, say), p.stats: result_markdown(result, length, say),
            p.answer: result.text, p.table: view.table(view.STEP_COLUMNS, view.confidence_rows(steps), say,
                                                       "text.diffusion.col"),
            steps_state: steps, figures_state: figures, p.compare: view.comparison_markdown(figures, say),
        }

    def ui_diffuse(values: dict, request: gr.Request = None):
        named = by_name(values, fields)
        say = t.for_request(request)
        diffusion = DiffusionRequest(**{name: named[name] for name in REQUEST_FIELDS})
        run = work.start(diffusion, request, owner.key_for(ctx, request, named[BROWSER]), flag=values[flag])
        steps: list[DiffusionStep] = []
        pace = Pace(UPDATE_SECONDS)
        yield {p.timer: gr.Timer(active=False), p.answer: "", steps_state: []}
        for event in run_events(run):
            if isinstance(event, Waiting):
                yield {p.stats: say("app.waiting_turn").format(place=event.place)}
            elif isinstance(event, Stopped):
                yield {p.stats: say("app.cancelled_before_start")}
            elif isinstance(event, DiffusionUpdate) and event.result is not None:
                yield finished(steps, event.result, int(named["length"]), values[figures_state], say)
            elif isinstance(event, DiffusionUpdate):
                steps.append(event.step)
                if pace.due():
                    yield streamed(steps, int(named["steps"]), say)

    outputs = [p.stats, p.answer, p.shown, p.scrub, p.rows, p.table, p.timer, p.compare, steps_state, figures_state]
    cancellable_run(ctx, [p.run_button.click], ui_diffuse, {figures_state, *fields.values()}, outputs, flag, p.stats)
    wire_cancel(ctx, p.stop_button, flag, p.stats)


def wire_player(ctx: TabContext, parts: DiffusionParts, steps_state: gr.State) -> None:
    """The slider shows any step; Play steps through them (a timer moving the slider), Pause stops."""
    t, p = ctx.t, parts
    light = {"api_visibility": "private", "show_progress": "hidden"}

    def ui_scrub(index: int, steps: list[DiffusionStep], request: gr.Request = None) -> str:
        return view.shown_step(steps, index, t.for_request(request))

    def ui_play(index: int, steps: list[DiffusionStep], request: gr.Request = None) -> tuple:
        if len(steps) < 2:
            return gr.skip(), gr.skip(), gr.Timer(active=False)
        start = 0 if int(index or 0) >= len(steps) - 1 else int(index or 0)  # from the start once at the end
        return start, view.shown_step(steps, start, t.for_request(request)), gr.Timer(active=True)

    def ui_tick(index: int, steps: list[DiffusionStep], request: gr.Request = None) -> tuple:
        last = len(steps) - 1
        following = min(int(index or 0) + 1, max(last, 0))
        return following, view.shown_step(steps, following, t.for_request(request)), gr.Timer(active=following < last)

    p.scrub.input(ui_scrub, [p.scrub, steps_state], p.shown, **light)
    p.play_button.click(ui_play, [p.scrub, steps_state], [p.scrub, p.shown, p.timer], **light)
    p.timer.tick(ui_tick, [p.scrub, steps_state], [p.scrub, p.shown, p.timer], **light)
    p.pause_button.click(lambda: gr.Timer(active=False), None, p.timer, **light)


def wire_compare(ctx: TabContext, shared: SharedControls, work: DiffusionWork, parts: DiffusionParts,
                 figures_state: gr.State) -> None:
    """The same prompt through next-token generation (the Text tab's model, greedy, as many new
    tokens as the answer's length): one forward pass per token, next to diffusion's count."""
    t, p = ctx.t, parts
    flag = gr.State(None)
    fields = {"prompt": p.controls["prompt"], "length": p.controls["length"], "model_id": shared.model_id,
              BROWSER: ctx.browser_id}

    def ui_compare(values: dict, request: gr.Request = None):
        named = by_name(values, fields)
        say = t.for_request(request)
        settings = SamplingSettings(decoding="greedy", repetition_penalty=1.0, max_new_tokens=int(named["length"]))
        generation = GenerationRequest(named["prompt"], "chat", named["model_id"], settings=settings)
        key = owner.key_for(ctx, request, named[BROWSER])
        run = work.text.start_generation(generation, None, request, key, flag=values[flag])
        for event in run_events(run):
            if isinstance(event, Waiting):
                yield {p.compare: say("app.waiting_turn").format(place=event.place)}
            elif isinstance(event, GenerationUpdate) and event.result is None:
                yield {p.compare_text: event.text}
            elif isinstance(event, GenerationUpdate):
                result = event.result
                # Each new token is one call of the model (the prompt's pass gives the first).
                passes = RunFigures(result.model, result.generated_tokens, result.generated_tokens, result.seconds)
                figures = {**values[figures_state], "next_token": passes}
                yield {p.compare_text: result.text, figures_state: figures,
                       p.compare: view.comparison_markdown(figures, say)}

    cancellable_run(ctx, [p.compare_button.click], ui_compare, {figures_state, *fields.values()},
                    [p.compare, p.compare_text, figures_state], flag, p.compare)
    wire_cancel(ctx, p.stop_button, flag, p.compare)


def wire_headers(ctx: TabContext, parts: DiffusionParts) -> None:
    """The tables' column names in the reader's language when the sub-tab opens (rows kept)."""
    t, p = ctx.t, parts

    def headers(step_table: pd.DataFrame | None, fill_table: pd.DataFrame | None,
                request: gr.Request = None) -> tuple[dict, ...]:
        say = t.for_request(request)
        return tuple(
            view.table(columns, shown_rows(shown), say, "text.diffusion.col")
            for columns, shown in ((view.STEP_COLUMNS, step_table), (view.FILL_COLUMNS, fill_table))
        )

    p.tab.select(friendly(headers), [p.table, p.blanks.table], [p.table, p.blanks.table], api_visibility="private",
                 show_progress="hidden")

