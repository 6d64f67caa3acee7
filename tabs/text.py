"""Text tab: chat / completion with sampling controls, streaming and Stop; a next-token
explorer; softmax by hand. Only components and wiring here: the work is in studio.text."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from dataclasses import dataclass
from typing import Any, Callable

import gradio as gr

from studio import zero_gpu
from studio.models import catalog
from studio.text import adapters, records, service
from studio.text.filtering import softmax_table
from studio.progress import Cancelled, CancelFlag
from studio.runs import Waiting
from studio.text.results import GenerationRequest, GenerationResult, GenerationUpdate
from studio.text.sampling import MAX_BEAMS, MAX_NEW_TOKENS, PRESETS, SamplingSettings
from studio.text.tokens_view import candidate_bars, token_spans, visible
from tabs import api_types, owner, roles
from tabs.common import TabContext, cancellable_run, friendly, gpu_event, session_folder, wire_cancel
from tabs.gpu import GpuWork, run_events

BALANCED = PRESETS["Balanced"]
# The explorer starts from the raw distribution: every filter off.
UNFILTERED = SamplingSettings(decoding="sample", temperature=1.0, top_k=0, top_p=1.0, min_p=0.0)
TABLE_COLUMNS = ["rank", "token", "token_id", "logit", "probability", "filtered_probability", "kept"]


@dataclass(frozen=True)
class Knob:
    """One sampling control: the SamplingSettings field it sets (also its API parameter's
    name) and how its component is made (starting at the Balanced preset)."""

    name: str
    control: Callable[[Any], gr.components.Component]  # the translator -> the component
    advanced: bool = False  # under "More settings"
    preset: bool = True  # a preset sets it
    explorer: bool = False  # it also steers the next-token explorer


# The sampling knobs, once: the UI, the presets, saved records and the API all follow this.
# Adding a knob = a SamplingSettings field + one line here (+ its labels in text.json).
KNOBS = (
    Knob("decoding", lambda t: gr.Radio(
        [(t("text.greedy"), "greedy"), (t("text.sampling"), "sample"), (t("text.beam"), "beam")],
        value=BALANCED.decoding, label=t("text.decoding"), elem_id="text-decoding"), explorer=True),
    Knob("temperature", lambda t: gr.Slider(
        0, 2, value=BALANCED.temperature, step=0.05, label=t("text.temperature"), info=t("text.temperature_info")),
        explorer=True),
    Knob("top_k", lambda t: gr.Slider(
        0, 200, value=BALANCED.top_k, step=1, label=t("text.top_k"), info=t("text.top_k_info"), elem_id="text-top-k"),
        explorer=True),
    Knob("top_p", lambda t: gr.Slider(
        0.01, 1, value=BALANCED.top_p, step=0.01, label=t("text.top_p"), info=t("text.top_p_info")), explorer=True),
    Knob("min_p", lambda t: gr.Slider(
        0, 0.5, value=BALANCED.min_p, step=0.01, label=t("text.min_p"), info=t("text.min_p_info")), explorer=True),
    Knob("typical_p", lambda t: gr.Slider(
        0.01, 1, value=BALANCED.typical_p, step=0.01, label=t("text.typical_p"), info=t("text.typical_p_info")),
        advanced=True),
    Knob("repetition_penalty", lambda t: gr.Slider(
        1, 2, value=BALANCED.repetition_penalty, step=0.01, label=t("text.repetition_penalty"),
        info=t("text.repetition_penalty_info")), advanced=True),
    Knob("no_repeat_ngram_size", lambda t: gr.Slider(
        0, 10, value=BALANCED.no_repeat_ngram_size, step=1, label=t("text.no_repeat"), info=t("text.no_repeat_info")),
        advanced=True),
    Knob("num_beams", lambda t: gr.Slider(
        1, MAX_BEAMS, value=4, step=1, label=t("text.num_beams"), info=t("text.num_beams_info")),
        advanced=True, preset=False),
    Knob("max_new_tokens", lambda t: gr.Slider(
        1, MAX_NEW_TOKENS, value=BALANCED.max_new_tokens, step=1, label=t("text.max_new_tokens"),
        elem_id="text-max-new-tokens"), preset=False),
    Knob("stop_strings", lambda t: gr.Textbox(
        label=t("text.stop_strings"), info=t("text.stop_strings_info"), lines=2), advanced=True, preset=False),
)
EXPLORER_KNOBS = tuple(k.name for k in KNOBS if k.explorer)
BROWSER = "browser_id"  # the per-browser id among an event's named values (tabs.owner)
BACKEND_FIELDS = tuple(f.name for f in dataclasses.fields(service.BackendChoice))


def knob_value(settings: SamplingSettings, name: str) -> Any:
    """A settings field as its control shows it (a list of stop strings is one per line)."""
    value = getattr(settings, name)
    return "\n".join(value) if isinstance(value, tuple) else value


def settings_from(named: dict[str, Any]) -> SamplingSettings:
    """SamplingSettings from whichever knobs ``named`` holds (the others keep their defaults)."""
    return SamplingSettings(**{k.name: named[k.name] for k in KNOBS if k.name in named})


def backend_from(named: dict[str, Any]) -> service.BackendChoice:
    return service.BackendChoice(**{name: named[name] for name in BACKEND_FIELDS})


def _parameter(name: str, kind: type, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=kind)


# Parameters whose choices the API lists (view_api shows them as enums).
CHOICE_TYPES = {"decoding": api_types.Decoding, "mode": api_types.TextMode, "backend": api_types.TextBackend}


def knob_parameters(defaults: SamplingSettings, names: tuple[str, ...]) -> list[inspect.Parameter]:
    """API parameters for these knobs, typed as the settings fields (stop strings: one text)."""
    hints = typing.get_type_hints(SamplingSettings) | CHOICE_TYPES
    return [
        _parameter(name, str if typing.get_origin(hints[name]) is tuple else hints[name], knob_value(defaults, name))
        for name in names
    ]


def backend_parameters() -> list[inspect.Parameter]:
    defaults = service.BackendChoice()
    return [_parameter(name, CHOICE_TYPES.get(name, str), getattr(defaults, name)) for name in BACKEND_FIELDS]


# A trained adapter, by the job id the Train tab / /train_start gave ("" = the base model).
ADAPTER_PARAMETER = _parameter("adapter", str, "")
# Gradio fills a gr.Request parameter itself; it is not part of the endpoint's API.
REQUEST_PARAMETER = inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=gr.Request)


def api_endpoint(run: Callable[[dict[str, Any]], dict], parameters: list[inspect.Parameter]) -> Callable[..., dict]:
    """``run(named_values)`` behind a function with exactly these parameters: Gradio reads
    the signature and type hints to describe the endpoint, and gradio_client scripts call
    it by these names (or by position, in this order)."""
    signature = inspect.Signature(parameters, return_annotation=dict)

    def endpoint(*args: Any, **kwargs: Any) -> dict:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return run(dict(bound.arguments))

    endpoint.__name__ = endpoint.__qualname__ = run.__name__
    endpoint.__doc__ = run.__doc__
    endpoint.__signature__ = signature  # type: ignore[attr-defined]
    endpoint.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": dict}
    return endpoint


def _by_name(values: dict, components: dict[str, Any]) -> dict[str, Any]:
    """An event's input values (Gradio passes {component: value}) keyed by parameter name."""
    return {name: values[component] for name, component in components.items() if component in values}


def _message_text(content: Any) -> str:
    """Chatbot messages come back as a string or as a list of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    if isinstance(content, dict):
        return str(content.get("text", ""))
    return "" if content is None else str(content)


def _as_history(messages: Any) -> list[dict]:
    return [
        {"role": m["role"], "content": _message_text(m.get("content"))}
        for m in messages or []
        if isinstance(m, dict) and m.get("role") in ("user", "assistant")
    ]


def _stats_markdown(result: GenerationResult) -> str:
    ttft = f" · first token after {result.time_to_first_token:.2f} s" if result.time_to_first_token else ""
    seed = f" · seed {result.seed}" if result.seed is not None else ""
    lines = [
        f"**{result.tokens_per_second:.1f} tokens/s** · {result.generated_tokens} new tokens · "
        f"{result.prompt_tokens} prompt tokens · {result.seconds:.2f} s{ttft}{seed} · "
        f"ended: {result.stopped_by} · {result.backend}: `{result.model}`"
        + (f" + adapter `{result.adapter}`" if result.adapter else "")
    ]
    lines += [f"> {note}" for note in result.notes]
    return "\n\n".join(lines)


def _table_columns(say: Callable[[str], str]) -> list[str]:
    """The candidates table's column names, in the reader's language."""
    return [say(f"text.col.{column}") for column in TABLE_COLUMNS]


def _table_rows(table) -> list[list[Any]]:
    return [
        [c.rank, visible(c.token), c.token_id, c.logit, round(c.probability, 5), round(c.filtered_probability, 5),
         "kept" if c.kept else "removed"]
        for c in table.candidates
    ]


def softmax_view(scores: str, temperature: float) -> dict:
    """Softmax of scores typed by hand, at temperature 1 and at `temperature`."""
    rows = softmax_table(scores, temperature)
    return {"headers": list(rows[0]), "data": [list(r.values()) for r in rows]}


def softmax_shown(scores: str, temperature: float, say: Any) -> dict:
    """``softmax_view`` with its column names in the reader's language (the API keeps its own)."""
    table = softmax_view(scores, temperature)
    keys = ("text.softmax.score", "text.softmax.exp", "text.softmax.p1", "text.softmax.pt")
    table["headers"] = [say(key).format(temperature=f"{float(temperature):g}") for key in keys]
    return table


def build(ctx: TabContext) -> None:
    t, studio = ctx.t, ctx.studio
    model_choices = catalog.choices(ctx.settings, "text")

    # --- the API: clean, self-explaining parameters; same studio functions as the UI -------

    # --- the GPU's part: plain values in, plain values out (on ZeroGPU, across a fork) ------

    def generate_on_gpu(generation: GenerationRequest, endpoint: Any, cancel: CancelFlag):
        """The reply as it grows (``GenerationUpdate``s), the last one with the result."""
        yield from service.stream_generation(studio, generation, endpoint, cancel)

    def candidates_on_gpu(prompt: str, settings: SamplingSettings, top_n: int, model_id: str, endpoint: Any,
                          adapter: Any) -> Any:
        return service.candidates(studio, prompt, settings, top_n, model_id, endpoint, adapter)

    def sample_on_gpu(prompt: str, settings: SamplingSettings, seed: int, model_id: str, adapter: Any) -> tuple:
        from studio.text.explorer import sample_next_token as draw

        return draw(studio, prompt, settings, seed, model_id, adapter)

    texting = GpuWork(ctx, generate_on_gpu, lambda named: zero_gpu.text_work(
        named["generation"].settings.max_new_tokens or MAX_NEW_TOKENS))
    exploring = GpuWork(ctx, candidates_on_gpu)
    sampling = GpuWork(ctx, sample_on_gpu)

    def class_models(request: gr.Request | None, model_id: str) -> None:
        """A student picks from the catalog (and the teacher's allow-list); any other id would be
        downloaded for the whole class."""
        rules = roles.limits_for(ctx, request)
        if rules is not None:
            rules.check_model(model_id, catalog.choices(ctx.settings, "text"))

    def start_generation(generation: GenerationRequest, endpoint: Any, request: gr.Request | None, key: str,
                         flag: CancelFlag | None = None) -> Any:
        class_models(request, generation.model_id)
        return texting.start(request, key, f"Text: {generation.settings.max_new_tokens} tokens", generation, endpoint,
                             flag=flag)

    # --- the API: clean, self-explaining parameters; same studio functions as the UI -------

    def generate(named: dict[str, Any]) -> dict:
        """Generate a reply (mode 'chat', with the model's chat template) or a continuation
        (mode 'completion'). decoding: greedy | sample | beam. seed -1 = random (reported back).
        stop_strings: one per line. backend: 'local' or 'openai' (then endpoint_*).
        Returns text, prompt_tokens, generated_tokens, tokens_per_second, seconds, seed, ..."""
        request = named["request"]
        generation = GenerationRequest(
            named["prompt"], named["mode"], named["model_id"], named["system_prompt"], [], settings_from(named),
            named["seed"], adapter_of(named, request),
        )
        endpoint = backend_from(named).endpoint(studio.settings)
        result = None
        for update in run_events(start_generation(generation, endpoint, request, owner.key_for(ctx, request))):
            result = getattr(update, "result", None) or result
        if result is None:
            raise Cancelled()
        return result.summary()

    def explore(named: dict[str, Any], request: gr.Request | None) -> Any:
        """The next-token table for ``named`` (the explorer's fields), in its turn on the GPU."""
        endpoint = backend_from(named).endpoint(studio.settings)
        class_models(request, named["model_id"])
        return exploring.call(request, owner.key_for(ctx, request, named.get(BROWSER)), "Text: next-token table",
                              named["prompt"], settings_from(named), int(named["number_of_candidates"]),
                              named["model_id"], endpoint, adapter_of(named, request))

    def next_token(named: dict[str, Any]) -> dict:
        """The top candidates for the next token of `prompt` (raw continuation): logit,
        probability at temperature 1, probability after temperature / top-k / top-p / min-p,
        and whether the filters keep it."""
        table = explore(named, named["request"])
        return {
            "candidates": [c.as_row() for c in table.candidates],
            "kept_count": table.kept_count,
            "vocabulary_size": table.vocabulary_size,
            "prompt_tokens": table.prompt_tokens,
            "note": table.note,
        }

    def sample_next_token(named: dict[str, Any]) -> dict:
        """Draw one token from the filtered distribution and append it (local backend)."""
        request = named["request"]
        class_models(request, named["model_id"])
        new_prompt, token, used_seed = sampling.call(
            request, owner.key_for(ctx, request, named.get(BROWSER)), "Text: sample a token", named["prompt"],
            settings_from(named), named["seed"], named["model_id"], adapter_of(named, request),
        )
        return {"prompt": new_prompt, "token": token, "seed": used_seed}

    def adapter_of(named: dict[str, Any], request: gr.Request | None) -> Any:
        """The requester's own trained adapter named by its job id ("" for none)."""
        return adapters.resolve(studio.settings, owner.key_for(ctx, request, named.get(BROWSER)), named["model_id"], named["adapter"])

    generate_parameters = [
        _parameter("prompt", str), _parameter("mode", api_types.TextMode, "chat"), _parameter("model_id", str, model_choices[0]),
        _parameter("system_prompt", str, ""), *knob_parameters(BALANCED, tuple(k.name for k in KNOBS)),
        *backend_parameters(), ADAPTER_PARAMETER, REQUEST_PARAMETER,
    ]
    # The seed sits before stop_strings, where it has always been (scripts may pass arguments by position).
    generate_parameters.insert(
        [p.name for p in generate_parameters].index("stop_strings"), _parameter("seed", int, -1)
    )
    explorer_parameters = [
        _parameter("prompt", str), _parameter("model_id", str, model_choices[0]),
        *knob_parameters(UNFILTERED, EXPLORER_KNOBS),
    ]
    next_token_parameters = [
        *explorer_parameters, _parameter("number_of_candidates", int, 20), *backend_parameters(), ADAPTER_PARAMETER,
        REQUEST_PARAMETER,
    ]
    sample_parameters = [*explorer_parameters, _parameter("seed", int, -1), ADAPTER_PARAMETER, REQUEST_PARAMETER]

    # --- the UI ------------------------------------------------------------------------

    with gr.Tab(t("text.tab"), id="text"):
        gr.Markdown(t("text.intro"))
        with gr.Row():
            backend = gr.Radio(
                [(t("text.backend_local"), "local"), (t("text.backend_openai"), "openai")],
                value="local", label=t("text.backend"), scale=2, elem_id="text-backend",
            )
            model_id = gr.Dropdown(
                model_choices, value=model_choices[0], label=t("text.model"), info=t("text.model_info"),
                allow_custom_value=True, scale=3, elem_id="text-model",
            )
            adapter = gr.Dropdown(
                [(t("text.no_adapter"), "")], value="", label=t("text.adapter"), info=t("text.adapter_info"),
                scale=2, elem_id="text-adapter",
            )
        with gr.Row(visible=False) as remote_row:
            endpoint_url = gr.Textbox(
                service.server_endpoint(), label=t("text.endpoint_url"), placeholder="http://localhost:1234/v1", scale=3,
            )
            endpoint_model = gr.Textbox(label=t("text.endpoint_model"), placeholder="qwen2.5-1.5b-instruct", scale=2)
            endpoint_key = gr.Textbox(label=t("text.endpoint_key"), info=t("text.endpoint_key_info"), type="password", scale=2)

        with gr.Row():
            with gr.Column(scale=3):
                with gr.Tabs():
                    with gr.Tab(t("text.generate_tab"), id="text-generate"):
                        mode = gr.Radio(
                            [(t("text.mode_chat"), "chat"), (t("text.mode_completion"), "completion")],
                            value="chat", label=t("text.mode"), elem_id="text-mode",
                        )
                        system_prompt = gr.Textbox(label=t("text.system"), lines=1, elem_id="text-system")
                        chatbot = gr.Chatbot(label=t("text.chat"), height=360, elem_id="text-chatbot")
                        completion = gr.Textbox(
                            label=t("text.completion"), lines=10, visible=False, interactive=False,
                            elem_id="text-completion",
                        )
                        prompt = gr.Textbox(
                            label=t("text.prompt"), placeholder=t("text.prompt_placeholder"), lines=3,
                            elem_id="text-prompt",
                        )
                        with gr.Row():
                            generate_button = gr.Button(t("text.generate"), variant="primary", elem_id="text-generate-btn")
                            stop_button = gr.Button(t("text.stop"), variant="stop", elem_id="text-stop-btn")
                            clear_button = gr.Button(t("text.clear"), elem_id="text-clear-btn")
                        stats = gr.Markdown(elem_id="text-stats")
                        with gr.Row():
                            record_file = gr.File(label=t("text.record"), interactive=False, elem_id="text-record")
                            load_record = gr.UploadButton(
                                t("text.load_record"), file_types=[".json"], elem_id="text-load-record",
                            )
                        with gr.Accordion(t("text.tokens_view"), open=True):
                            tokens_html = gr.HTML(elem_id="text-tokens")
                        with gr.Accordion(t("text.seen"), open=False):
                            seen = gr.Textbox(show_label=False, lines=6, interactive=False, elem_id="text-seen")
                    with gr.Tab(t("text.explorer_tab"), id="text-explorer") as explorer_tab:
                        gr.Markdown(t("text.explorer_intro"))
                        explorer_prompt = gr.Textbox(
                            label=t("text.explorer_prompt"), value="從前從前，有一個", lines=2, elem_id="explorer-prompt",
                        )
                        top_n = gr.Slider(5, 100, value=20, step=1, label=t("text.top_n"))
                        with gr.Row():
                            show_button = gr.Button(t("text.show"), variant="primary", elem_id="explorer-show")
                            sample_button = gr.Button(t("text.sample"), elem_id="explorer-sample")
                        drawn = gr.Markdown(elem_id="explorer-drawn")
                        bars = gr.HTML(elem_id="explorer-bars")
                        table = gr.Dataframe(headers=_table_columns(t.plain),
                                             interactive=False, elem_id="explorer-table")
                    with gr.Tab(t("text.softmax_tab"), id="text-softmax"):
                        gr.Markdown(t("text.softmax_intro"))
                        scores = gr.Textbox(label=t("text.scores"), value="2.0, 1.0, 0.1", elem_id="softmax-scores")
                        softmax_temperature = gr.Slider(0, 5, value=1.0, step=0.05, label=t("text.temperature"))
                        softmax_button = gr.Button(t("text.softmax_run"), elem_id="softmax-run")
                        softmax_out = gr.Dataframe(interactive=False, elem_id="softmax-table")

            with gr.Column(scale=2):
                preset = gr.Radio(list(PRESETS), value="Balanced", label=t("text.preset"), info=t("text.preset_info"))
                built = {k.name: k.control(t) for k in KNOBS if not k.advanced}
                seed = gr.Number(-1, precision=0, label=t("text.seed"), info=t("text.seed_info"), elem_id="text-seed")
                with gr.Accordion(t("text.more"), open=False):
                    built.update({k.name: k.control(t) for k in KNOBS if k.advanced})
        knobs = {k.name: built[k.name] for k in KNOBS}  # in KNOBS order

        history = gr.State([])
        stop_flag = gr.State(None)
        remote = dict(zip(BACKEND_FIELDS, (backend, endpoint_url, endpoint_model, endpoint_key)))

        # --- generation: stream into the chat or the completion box ---

        generation_fields = {
            "prompt": prompt, "mode": mode, "model_id": model_id, "system_prompt": system_prompt, "seed": seed,
            "adapter": adapter, BROWSER: ctx.browser_id, **knobs, **remote,
        }

        def ui_generate(values: dict, request: gr.Request = None, progress=gr.Progress(track_tqdm=True)):
            named = _by_name(values, generation_fields)
            say = t.for_request(request)
            chat_history = _as_history(values[history])
            prompt_text, mode_value = named["prompt"], named["mode"]
            generation = GenerationRequest(
                prompt_text, mode_value, named["model_id"], named["system_prompt"], chat_history,
                settings_from(named), named["seed"], adapter_of(named, request),
            )
            endpoint = backend_from(named).endpoint(studio.settings)
            run = start_generation(generation, endpoint, request, owner.key_for(ctx, request, named[BROWSER]),
                                   flag=values[stop_flag])
            shown = chat_history + [{"role": "user", "content": prompt_text or ""}]
            for update in run_events(run):
                if isinstance(update, Waiting):
                    yield {stats: say("app.waiting_turn").format(place=update.place)}
                    continue
                if not isinstance(update, GenerationUpdate):
                    continue
                out: dict = {seen: update.prompt_seen}
                if mode_value == "chat":
                    out[chatbot] = shown + [{"role": "assistant", "content": update.text}]
                else:
                    out[completion] = (prompt_text or "") + update.text
                if update.result is not None:
                    result = update.result
                    out.update({stats: _stats_markdown(result), tokens_html: token_spans(result.tokens)})
                    # Saved with its parameters in this user's folder, so it can be reproduced.
                    out[record_file] = str(records.save_generation(session_folder(ctx, request), generation, result))
                    if mode_value == "chat":
                        out[history] = shown + [{"role": "assistant", "content": result.text}]
                        out[prompt] = ""
                yield out

        generation_outputs = [chatbot, completion, history, stats, seen, tokens_html, prompt, record_file]
        generation_inputs = {history, *generation_fields.values()}
        cancellable_run(ctx, [generate_button.click, prompt.submit], ui_generate, generation_inputs,
                        generation_outputs, stop_flag, stats)
        # Stop reaches the worker through its flag: the reply ends within a token and keeps what
        # was written, with its figures ("ended: stopped by you").
        wire_cancel(ctx, stop_button, stop_flag, stats)

        def ui_load_record(path):
            """Put a saved generation's mode, prompts, model, seed and settings back."""
            saved, saved_seed = records.load_generation(path)
            return {
                mode: saved.mode, prompt: saved.prompt, system_prompt: saved.system_prompt,
                model_id: saved.model_id or model_choices[0], seed: -1 if saved_seed is None else saved_seed,
                **{control: knob_value(saved.settings, name) for name, control in knobs.items()},
            }

        load_record.upload(
            friendly(ui_load_record), load_record,
            [mode, prompt, system_prompt, model_id, seed, *knobs.values()], api_visibility="private",
        )
        clear_button.click(
            lambda: ([], [], "", "", "", ""), None, [chatbot, history, completion, stats, tokens_html, seen],
            api_visibility="private",
        )
        mode.change(
            lambda m: (gr.update(visible=m == "chat"), gr.update(visible=m == "chat"), gr.update(visible=m != "chat")),
            mode, [chatbot, system_prompt, completion], api_visibility="private",
        )
        backend.change(
            lambda b: (gr.update(visible=b == "openai"), gr.update(visible=b == "local")),
            backend, [remote_row, model_id], api_visibility="private",
        )

        def adapter_choices(model: str, current: str, browser_id: str, request: gr.Request = None):
            """This user's adapters trained on the model in use (new ones appear when the list is opened)."""
            found = adapters.available(studio.settings, owner.key_for(ctx, request, browser_id), model or None)
            choices = [(t.for_request(request)("text.no_adapter"), "")] + [(a.label, a.job_id) for a in found]
            return gr.update(choices=choices, value=current if current in {a.job_id for a in found} else "")

        adapter_inputs = [model_id, adapter, ctx.browser_id]
        model_id.change(friendly(adapter_choices), adapter_inputs, adapter, api_visibility="private")
        adapter.focus(friendly(adapter_choices), adapter_inputs, adapter, api_visibility="private")
        def adapters_on_load(browser_id: str, request: gr.Request = None):
            return adapter_choices(model_choices[0], "", browser_id, request)

        ctx.after_load.append((friendly(adapters_on_load), [adapter]))

        def explorer_headers(shown: Any, request: gr.Request = None):
            """The candidates table's column names in the reader's language (its rows kept)."""
            say = t.for_request(request)
            rows = shown.values.tolist() if hasattr(shown, "values") else []
            rows = [row for row in rows if any(cell not in (None, "") for cell in row)]  # not the empty start
            return {"headers": _table_columns(say), "data": rows}

        explorer_tab.select(friendly(explorer_headers), table, table, api_visibility="private", show_progress="hidden")

        preset_controls = {k.name: knobs[k.name] for k in KNOBS if k.preset}

        def apply_preset(name):
            return {control: knob_value(PRESETS[name], knob) for knob, control in preset_controls.items()}

        preset.change(apply_preset, preset, list(preset_controls.values()), api_visibility="private")

        # --- explorer ---

        explorer_fields = {
            "prompt": explorer_prompt, "number_of_candidates": top_n, "model_id": model_id, "seed": seed,
            "adapter": adapter, BROWSER: ctx.browser_id, **{name: knobs[name] for name in EXPLORER_KNOBS}, **remote,
        }

        def candidates_view(named: dict[str, Any], request: gr.Request | None) -> tuple[str, list[list[Any]]]:
            found = explore(named, request)
            say = t.for_request(request)
            return candidate_bars(found), {"headers": _table_columns(say), "data": _table_rows(found)}

        def ui_candidates(values: dict, request: gr.Request = None):
            return candidates_view(_by_name(values, explorer_fields), request)

        def ui_sample(values: dict, request: gr.Request = None):
            say = t.for_request(request)
            named = _by_name(values, explorer_fields)
            if backend_from(named).backend != "local":
                raise gr.Error(say("text.sample_local_only"))
            drawn_token = sample_next_token({**named, "request": request})
            bars_html, rows = candidates_view({**named, "prompt": drawn_token["prompt"]}, request)
            note = f"{say('text.drawn')} `{visible(drawn_token['token'])}` (seed {drawn_token['seed']})"
            return drawn_token["prompt"], note, bars_html, rows

        explorer_inputs = set(explorer_fields.values())
        for trigger in (show_button.click, explorer_prompt.submit):
            trigger(friendly(ui_candidates), explorer_inputs, [bars, table], api_visibility="private", **gpu_event(ctx))
        sample_button.click(
            friendly(ui_sample), explorer_inputs, [explorer_prompt, drawn, bars, table],
            api_visibility="private", **gpu_event(ctx),
        )

        # --- softmax by hand (no model) ---
        def ui_softmax(scores_text: str, temperature: float, request: gr.Request = None) -> dict:
            return softmax_shown(scores_text, temperature, t.for_request(request))

        softmax_button.click(friendly(ui_softmax), [scores, softmax_temperature], softmax_out, api_visibility="private")
        gr.api(friendly(softmax_view), api_name="softmax")

        gr.api(friendly(api_endpoint(generate, generate_parameters)), api_name="generate", **gpu_event(ctx))
        gr.api(friendly(api_endpoint(next_token, next_token_parameters)), api_name="next_token", **gpu_event(ctx))
        gr.api(friendly(api_endpoint(sample_next_token, sample_parameters)), api_name="sample_next_token", **gpu_event(ctx))
