"""Generation: chat or completion, streamed into the page, stopped by Stop, saved as a record
with its settings (and loaded back); and the /generate endpoint, the same run for scripts."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import gradio as gr

from studio.progress import Cancelled
from studio.runs import Waiting
from studio.text import records
from studio.text.results import GenerationRequest, GenerationResult, GenerationUpdate
from studio.text.tokens_view import token_spans, visible
from tabs import api_types, owner
from tabs.common import TabContext, cancellable_run, friendly, gpu_event, session_folder, wire_cancel
from tabs.gpu import run_events
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
from tabs.text.knobs import BALANCED, KNOB_NAMES, knob_value, settings_from
from tabs.text.shared import SharedControls
from tabs.text.work import TextWork


@dataclass
class ChatParts:
    mode: gr.Radio
    system_prompt: gr.Textbox
    chatbot: gr.Chatbot
    completion: gr.Textbox
    prompt: gr.Textbox
    generate_button: gr.Button
    stop_button: gr.Button
    clear_button: gr.Button
    stats: gr.Markdown
    record_file: gr.File
    load_record: gr.UploadButton
    tokens_html: gr.HTML
    seen: gr.Textbox


def bubble_text(text: str) -> str:
    """A reply with nothing printable (spaces, new lines, control characters: a random-weight
    twin's greedy reply often is) shows its characters made visible, not an empty bubble."""
    if text and not any(ch.isprintable() and not ch.isspace() for ch in text):
        return visible("".join(ch if ch.isprintable() or ch in " \n\t" else "\ufffd" for ch in text))
    return text


def layout(t: Translator) -> ChatParts:
    with gr.Tab(t("text.generate_tab"), id="text-generate"):
        mode = gr.Radio(
            [(t("text.mode_chat"), "chat"), (t("text.mode_completion"), "completion")],
            value="chat", label=t("text.mode"), elem_id="text-mode",
        )
        system_prompt = gr.Textbox(label=t("text.system"), lines=1, elem_id="text-system")
        chatbot = gr.Chatbot(label=t("text.chat"), height=360, elem_id="text-chatbot")
        completion = gr.Textbox(label=t("text.completion"), lines=10, visible=False, interactive=False,
                                elem_id="text-completion")
        # One line that grows: Enter sends, Shift+Enter starts a new line, as chat apps do (Gradio
        # sends on Enter only from a one-line box).
        prompt = gr.Textbox(label=t("text.prompt"), placeholder=t("text.prompt_placeholder"),
                            info=t("text.prompt_info"), lines=1, max_lines=10, elem_id="text-prompt")
        with gr.Row():
            generate_button = gr.Button(t("text.generate"), variant="primary", elem_id="text-generate-btn")
            stop_button = gr.Button(t("text.stop"), variant="stop", elem_id="text-stop-btn")
            clear_button = gr.Button(t("text.clear"), elem_id="text-clear-btn")
        stats = gr.Markdown(elem_id="text-stats")
        with gr.Row():
            record_file = gr.File(label=t("text.record"), interactive=False, elem_id="text-record")
            load_record = gr.UploadButton(t("text.load_record"), file_types=[".json"], elem_id="text-load-record")
        with gr.Accordion(t("text.tokens_view"), open=True):
            tokens_html = gr.HTML(elem_id="text-tokens")
        with gr.Accordion(t("text.seen"), open=False):
            seen = gr.Textbox(show_label=False, lines=6, interactive=False, elem_id="text-seen")
    return ChatParts(mode, system_prompt, chatbot, completion, prompt, generate_button, stop_button, clear_button,
                     stats, record_file, load_record, tokens_html, seen)


def _message_text(content: Any) -> str:
    """Chatbot messages come back as a string or as a list of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    if isinstance(content, dict):
        return str(content.get("text", ""))
    return "" if content is None else str(content)


def as_history(messages: Any) -> list[dict]:
    return [
        {"role": m["role"], "content": _message_text(m.get("content"))}
        for m in messages or []
        if isinstance(m, dict) and m.get("role") in ("user", "assistant")
    ]


def stats_markdown(result: GenerationResult) -> str:
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


def wire(ctx: TabContext, shared: SharedControls, work: TextWork, parts: ChatParts) -> None:
    wire_generation(ctx, shared, work, parts)
    wire_records(shared, parts)


def wire_generation(ctx: TabContext, shared: SharedControls, work: TextWork, parts: ChatParts) -> None:
    """Generate (or Enter in the prompt) streams the reply into the chat or the completion box."""
    t, p = ctx.t, parts
    history = gr.State([])
    stop_flag = gr.State(None)
    fields = {
        "prompt": p.prompt, "mode": p.mode, "model_id": shared.model_id, "system_prompt": p.system_prompt,
        "seed": shared.column.seed, "adapter": shared.row.adapter, BROWSER: ctx.browser_id, **shared.knobs,
        **shared.row.remote,
    }

    def ui_generate(values: dict, request: gr.Request = None, progress=gr.Progress(track_tqdm=True)):
        named = by_name(values, fields)
        say = t.for_request(request)
        chat_history = as_history(values[history])
        prompt_text, chat_mode = named["prompt"], named["mode"] == "chat"
        generation = GenerationRequest(
            prompt_text, named["mode"], named["model_id"], named["system_prompt"], chat_history,
            settings_from(named), named["seed"],
            work.adapter_for(request, named[BROWSER], named["model_id"], named["adapter"]),
        )
        endpoint = backend_from(named).endpoint(ctx.settings)
        run = work.start_generation(generation, endpoint, request, owner.key_for(ctx, request, named[BROWSER]),
                                    flag=values[stop_flag])
        shown = chat_history + [{"role": "user", "content": prompt_text or ""}]
        for update in run_events(run):
            if isinstance(update, Waiting):
                yield {p.stats: say("app.waiting_turn").format(place=update.place)}
                continue
            if not isinstance(update, GenerationUpdate):
                continue
            out: dict = {p.seen: update.prompt_seen}
            if chat_mode:
                out[p.chatbot] = shown + [{"role": "assistant", "content": bubble_text(update.text)}]
            else:
                out[p.completion] = (prompt_text or "") + update.text
            if update.result is not None:
                result = update.result
                out.update({p.stats: stats_markdown(result), p.tokens_html: token_spans(result.tokens)})
                # Saved with its parameters in this user's folder, so it can be reproduced.
                out[p.record_file] = str(records.save_generation(session_folder(ctx, request), generation, result))
                if chat_mode:
                    out[history] = shown + [{"role": "assistant", "content": result.text}]
                    out[p.prompt] = ""
            yield out

    outputs = [p.chatbot, p.completion, history, p.stats, p.seen, p.tokens_html, p.prompt, p.record_file]
    cancellable_run(ctx, [p.generate_button.click, p.prompt.submit], ui_generate, {history, *fields.values()},
                    outputs, stop_flag, p.stats)
    # Stop reaches the worker through its flag: the reply ends within a token and keeps what
    # was written, with its figures ("ended: stopped by you").
    wire_cancel(ctx, p.stop_button, stop_flag, p.stats)
    p.clear_button.click(
        lambda: ([], [], "", "", "", ""), None, [p.chatbot, history, p.completion, p.stats, p.tokens_html, p.seen],
        api_visibility="private",
    )


def wire_records(shared: SharedControls, parts: ChatParts) -> None:
    """A saved record puts its settings back; the mode shows the chat or the completion box."""
    p, knobs = parts, shared.knobs

    def ui_load_record(path: str) -> dict:
        """Put a saved generation's mode, prompts, model, seed and settings back."""
        saved, saved_seed = records.load_generation(path)
        return {
            p.mode: saved.mode, p.prompt: saved.prompt, p.system_prompt: saved.system_prompt,
            shared.model_id: saved.model_id or shared.model_choices[0],
            shared.column.seed: -1 if saved_seed is None else saved_seed,
            **{control: knob_value(saved.settings, name) for name, control in knobs.items()},
        }

    p.load_record.upload(
        friendly(ui_load_record), p.load_record,
        [p.mode, p.prompt, p.system_prompt, shared.model_id, shared.column.seed, *knobs.values()],
        api_visibility="private",
    )
    p.mode.change(
        lambda m: (gr.update(visible=m == "chat"), gr.update(visible=m == "chat"), gr.update(visible=m != "chat")),
        p.mode, [p.chatbot, p.system_prompt, p.completion], api_visibility="private",
    )


def generate_parameters(model_choices: list[str]) -> list[inspect.Parameter]:
    found = [
        parameter("prompt", str), parameter("mode", api_types.TextMode, "chat"),
        parameter("model_id", str, model_choices[0]), parameter("system_prompt", str, ""),
        *knob_parameters(BALANCED, KNOB_NAMES), *backend_parameters(), ADAPTER_PARAMETER, REQUEST_PARAMETER,
    ]
    # The seed sits before stop_strings, where it has always been (scripts may pass arguments by position).
    found.insert([p.name for p in found].index("stop_strings"), parameter("seed", int, -1))
    return found


def run_to_end(work: TextWork, generation: GenerationRequest, named: dict[str, Any], request: gr.Request | None,
               key: str) -> GenerationResult:
    """The whole generation at once (the API); ``Cancelled`` when it was stopped before a result."""
    endpoint = backend_from(named).endpoint(work.ctx.settings)
    result = None
    for update in run_events(work.start_generation(generation, endpoint, request, key)):
        result = getattr(update, "result", None) or result
    if result is None:
        raise Cancelled()
    return result


def register_api(ctx: TabContext, shared: SharedControls, work: TextWork) -> None:
    def generate(named: dict[str, Any]) -> dict:
        """Generate a reply (mode 'chat', with the model's chat template) or a continuation
        (mode 'completion'). decoding: greedy | sample | beam. seed -1 = random (reported back).
        stop_strings: one per line. backend: 'local' or 'openai' (then endpoint_*).
        Returns text, prompt_tokens, generated_tokens, tokens_per_second, seconds, seed, ..."""
        request = named["request"]
        generation = GenerationRequest(
            named["prompt"], named["mode"], named["model_id"], named["system_prompt"], [], settings_from(named),
            named["seed"], work.adapter_for(request, None, named["model_id"], named["adapter"]),
        )
        return run_to_end(work, generation, named, request, owner.key_for(ctx, request)).summary()

    endpoint = api_endpoint(generate, generate_parameters(shared.model_choices))
    gr.api(friendly(endpoint), api_name="generate", **gpu_event(ctx))
