"""The next-token explorer: the model's top candidates for the next token, before and after the
sampling filters, and one token drawn and appended; /next_token and /sample_next_token."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import gradio as gr

from studio.text.tokens_view import candidate_bars, visible
from tabs import owner
from tabs.common import TabContext, friendly, gpu_event
from tabs.i18n import Translator
from tabs.text.api_signature import (
    ADAPTER_PARAMETER,
    BROWSER,
    REQUEST_PARAMETER,
    api_endpoint,
    backend_from,
    backend_parameters,
    by_name,
    knob_parameters,
    parameter,
)
from tabs.text.knobs import EXPLORER_KNOBS, UNFILTERED, settings_from
from tabs.text.shared import SharedControls
from tabs.text.work import TextWork

if TYPE_CHECKING:
    import pandas as pd

    from studio.text.explorer import NextTokenTable

TABLE_COLUMNS = ["rank", "token", "token_id", "logit", "probability", "filtered_probability", "kept"]


@dataclass
class ExplorerParts:
    tab: gr.Tab
    prompt: gr.Textbox
    top_n: gr.Slider
    show_button: gr.Button
    sample_button: gr.Button
    drawn: gr.Markdown
    bars: gr.HTML
    table: gr.Dataframe


def layout(t: Translator) -> ExplorerParts:
    with gr.Tab(t("text.explorer_tab"), id="text-explorer") as tab:
        gr.Markdown(t("text.explorer_intro"))
        prompt = gr.Textbox(label=t("text.explorer_prompt"), value="從前從前，有一個", lines=1, max_lines=6,
                            info=t("text.prompt_info"), elem_id="explorer-prompt")
        top_n = gr.Slider(5, 100, value=20, step=1, label=t("text.top_n"))
        with gr.Row():
            show_button = gr.Button(t("text.show"), variant="primary", elem_id="explorer-show")
            sample_button = gr.Button(t("text.sample"), elem_id="explorer-sample")
        drawn = gr.Markdown(elem_id="explorer-drawn")
        bars = gr.HTML(elem_id="explorer-bars")
        # Shown with its first rows, whose headers are in the reader's language (an empty table's
        # headers would stay in the language the page was built in).
        table = gr.Dataframe(headers=table_columns(t.plain), interactive=False, visible=False,
                             elem_id="explorer-table")
    return ExplorerParts(tab, prompt, top_n, show_button, sample_button, drawn, bars, table)


def table_columns(say: Callable[[str], str]) -> list[str]:
    """The candidates table's column names, in the reader's language."""
    return [say(f"text.col.{column}") for column in TABLE_COLUMNS]


def shown_rows(shown: pd.DataFrame | None) -> list[list[Any]]:
    """A Dataframe's rows as Gradio hands them back, without its empty starting row."""
    rows = shown.values.tolist() if hasattr(shown, "values") else []
    return [row for row in rows if any(cell not in (None, "") for cell in row)]


def table_rows(table: NextTokenTable) -> list[list[Any]]:
    return [
        [c.rank, visible(c.token), c.token_id, c.logit, round(c.probability, 5), round(c.filtered_probability, 5),
         "kept" if c.kept else "removed"]
        for c in table.candidates
    ]


class Explorer:
    """The explorer's work from named values (its fields, or an API call's parameters)."""

    def __init__(self, ctx: TabContext, work: TextWork):
        self.ctx, self.work = ctx, work

    def table(self, named: dict[str, Any], request: gr.Request | None) -> NextTokenTable:
        endpoint = backend_from(named).endpoint(self.ctx.settings)
        browser_id = named.get(BROWSER)
        return self.work.candidates(
            request, owner.key_for(self.ctx, request, browser_id), named["prompt"], settings_from(named),
            int(named["number_of_candidates"]), named["model_id"], endpoint,
            self.work.adapter_for(request, browser_id, named["model_id"], named["adapter"]),
        )

    def sample(self, named: dict[str, Any], request: gr.Request | None) -> dict:
        browser_id = named.get(BROWSER)
        new_prompt, token, used_seed = self.work.sample(
            request, owner.key_for(self.ctx, request, browser_id), named["prompt"], settings_from(named),
            named["seed"], named["model_id"],
            self.work.adapter_for(request, browser_id, named["model_id"], named["adapter"]),
        )
        return {"prompt": new_prompt, "token": token, "seed": used_seed}


def wire(ctx: TabContext, shared: SharedControls, explorer: Explorer, parts: ExplorerParts) -> None:
    t, p = ctx.t, parts
    fields = {
        "prompt": p.prompt, "number_of_candidates": p.top_n, "model_id": shared.model_id,
        "seed": shared.column.seed, "adapter": shared.row.adapter, BROWSER: ctx.browser_id,
        **{name: shared.knobs[name] for name in EXPLORER_KNOBS}, **shared.row.remote,
    }

    def candidates_view(named: dict[str, Any], request: gr.Request | None) -> tuple[str, gr.Dataframe]:
        found = explorer.table(named, request)
        rows = {"headers": table_columns(t.for_request(request)), "data": table_rows(found)}
        return candidate_bars(found), gr.Dataframe(value=rows, visible=True)

    def ui_candidates(values: dict, request: gr.Request = None) -> tuple[str, gr.Dataframe]:
        return candidates_view(by_name(values, fields), request)

    def ui_sample(values: dict, request: gr.Request = None) -> tuple[str, str, str, gr.Dataframe]:
        say = t.for_request(request)
        named = by_name(values, fields)
        if backend_from(named).backend != "local":
            raise gr.Error(say("text.sample_local_only"))
        drawn_token = explorer.sample(named, request)
        bars_html, rows = candidates_view({**named, "prompt": drawn_token["prompt"]}, request)
        note = f"{say('text.drawn')} `{visible(drawn_token['token'])}` (seed {drawn_token['seed']})"
        return drawn_token["prompt"], note, bars_html, rows

    def explorer_headers(shown: pd.DataFrame | None, request: gr.Request = None) -> dict:
        """The candidates table's column names in the reader's language (its rows kept)."""
        return {"headers": table_columns(t.for_request(request)), "data": shown_rows(shown)}

    p.tab.select(friendly(explorer_headers), p.table, p.table, api_visibility="private", show_progress="hidden")
    inputs = set(fields.values())
    for trigger in (p.show_button.click, p.prompt.submit):
        trigger(friendly(ui_candidates), inputs, [p.bars, p.table], api_visibility="private", **gpu_event(ctx))
    p.sample_button.click(friendly(ui_sample), inputs, [p.prompt, p.drawn, p.bars, p.table],
                          api_visibility="private", **gpu_event(ctx))


def api_parameters(model_choices: list[str]) -> tuple[list[inspect.Parameter], list[inspect.Parameter]]:
    """(/next_token's parameters, /sample_next_token's): new ones go at the end, for scripts."""
    common = [parameter("prompt", str), parameter("model_id", str, model_choices[0]),
              *knob_parameters(UNFILTERED, EXPLORER_KNOBS)]
    next_token = [*common, parameter("number_of_candidates", int, 20), *backend_parameters(), ADAPTER_PARAMETER,
                  REQUEST_PARAMETER]
    sample = [*common, parameter("seed", int, -1), ADAPTER_PARAMETER, REQUEST_PARAMETER]
    return next_token, sample


def register_api(ctx: TabContext, shared: SharedControls, explorer: Explorer) -> None:
    def next_token(named: dict[str, Any]) -> dict:
        """The top candidates for the next token of `prompt` (raw continuation): logit,
        probability at temperature 1, probability after temperature / top-k / top-p / min-p,
        and whether the filters keep it."""
        table = explorer.table(named, named["request"])
        return {
            "candidates": [c.as_row() for c in table.candidates],
            "kept_count": table.kept_count,
            "vocabulary_size": table.vocabulary_size,
            "prompt_tokens": table.prompt_tokens,
            "note": table.note,
        }

    def sample_next_token(named: dict[str, Any]) -> dict:
        """Draw one token from the filtered distribution and append it (local backend)."""
        return explorer.sample(named, named["request"])

    next_token_parameters, sample_parameters = api_parameters(shared.model_choices)
    gr.api(friendly(api_endpoint(next_token, next_token_parameters)), api_name="next_token", **gpu_event(ctx))
    gr.api(friendly(api_endpoint(sample_next_token, sample_parameters)), api_name="sample_next_token",
           **gpu_event(ctx))
