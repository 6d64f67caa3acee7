"""Models tab: what the shared cache holds, where, how big; memory as bars; free one or all."""

from __future__ import annotations

import json
from html import escape
from typing import Callable

import gradio as gr

from studio import cache_report as report
from studio.faces import pipeline as face_pipeline
from studio.image import checkpoints, styles
from studio.image.edit import upscaler
from studio.models import catalog
from studio.tokens import sources as tokenizer_sources
from tabs import cluster_panel, owner, roles
from tabs.common import TabContext, friendly
from tabs.i18n import LOCALES, Translator, or_english

# The table's columns; their headers are assets/i18n/models.json's models.col.<column>.
COLUMNS = ["name", "component", "id", "device", "plan", "size_mb", "hits", "load_seconds", "idle_seconds", "in_use"]
REFRESH_SECONDS = 3
NOT_CONFIRMED = "__not-confirmed__"
MOVING = ("loading", "offloading")  # states worth showing next to the device


def gb_text(value: float) -> str:
    return f"{value:.1f}" if value >= 1 else f"{value:.2f}"


def bar_colour(share: float) -> str:
    return "#16a34a" if share < 0.7 else "#d97706" if share < 0.9 else "#dc2626"


def memory_html(bars: list[dict], say: Callable[[str], str]) -> str:
    """One labelled bar per place memory is counted, with the figures written out ("3.2 / 12.0 GB")."""
    rows = []
    for bar in bars:
        label = say(f"models.bar.{bar['name']}").format(
            device=bar["device"], process=gb_text(bar.get("process_gb") or 0)
        )
        used, limit = bar["used_gb"] or 0.0, bar["limit_gb"]
        share = min(used / limit, 1.0) if limit else 0.0
        figures = f"{gb_text(used)} / {gb_text(limit)} GB" if limit else f"{gb_text(used)} GB ({say('models.no_limit')})"
        rows.append(
            f"<div class='models-bar' data-name='{bar['name']}' style='margin:6px 0'>"
            f"<div style='display:flex;justify-content:space-between;font-size:0.9em'>"
            f"<span>{escape(label)}</span><span class='models-bar-figures' style='font-family:monospace'>"
            f"{escape(figures)}</span></div>"
            "<div style='background:#e5e7eb;border-radius:4px;height:10px;overflow:hidden'>"
            f"<div style='background:{bar_colour(share)};height:10px;width:{100 * share:.1f}%'></div></div></div>"
        )
    title = f"<div style='font-weight:600'>{escape(say('models.memory'))}</div>"
    return f"<div class='models-memory'>{title}{''.join(rows)}</div>"


def plan_words(model: dict, say: Callable[[str], str] | None) -> str:
    """A model's memory plan in the reader's language (its figures), else the English line."""
    details = model.get("plan_details")
    if say is None or not details:
        return model.get("plan", "")
    parts = [or_english(say, f"models.plan.{details['offload']}", details["offload"])]
    parts += [or_english(say, f"models.plan.{extra}", extra) for extra in ("vae_tiling", "fp8_storage") if details[extra]]
    speed = say("models.plan_full_speed") if details["slowdown"] == 1.0 else \
        say("models.plan_slower").format(times=f"{details['slowdown']:g}")
    budget = say("models.plan_budget").format(budget=details["budget_gb"]) if details.get("budget_gb") else ""
    return say("models.plan_note").format(plan=" + ".join(parts), speed=speed, peak=details["peak_gb"], budget=budget)


def table_rows(status: dict, say: Callable[[str], str] | None = None) -> list[list]:
    rows = []
    for m in status["models"]:
        row = {**m, "device": m["device"] + (f" ({m['state']})" if m.get("state") in MOVING else ""),
               "plan": plan_words(m, say)}
        rows.append([row[c] for c in COLUMNS])
        # A pipeline's parts (unet, vae, text encoders...) on their own lines, with their memory.
        for part, size_mb in sorted(m.get("parts_mb", {}).items(), key=lambda item: -item[1]):
            rows.append(["", f"↳ {part}", "", row["device"], "", size_mb, "", "", "", ""])
    return rows


def build(ctx: TabContext) -> None:
    t = ctx.t

    def choices(request: gr.Request = None) -> dict:
        """What the other endpoints accept where the list changes at run time (files added to the
        folders, LoRAs trained, the catalog configured): image `checkpoints` and `loras` (shared,
        then your own), `styles` (names, in the Image tab's order), `upscalers`, `text_models`,
        `tokenizers`, `vq_models` and the face swap's models by role. Fixed choices (performance,
        aspect ratio, sampler, modes...) are listed by each endpoint's parameter types."""
        settings = ctx.settings
        return {
            "checkpoints": checkpoints.offered(settings),
            "loras": checkpoints.offered_loras(settings, owner.key_for(ctx, request)),
            "styles": [style["name"] for style in styles.listing()],
            "upscalers": upscaler.choices(settings),
            "text_models": catalog.choices(settings, "text"),
            "tokenizers": tokenizer_sources.offered(settings),
            "vq_models": catalog.choices(settings, "vq"),
            "face_models": {name: face_pipeline.offered(settings, name) for name in face_pipeline.FACE_MODELS},
        }

    def models_status() -> dict:
        """The cache's contents, hit/miss counts and memory figures, as JSON."""
        return report.status(ctx.studio)

    def models_free(model: str = "all", request: gr.Request = None) -> dict:
        """Free one loaded model by its id (see models_status), or 'all'. Models in use stay.
        The teacher's (admin's) only: it unloads what every student is about to use."""
        roles.require_teacher(ctx, request, "roles.free_memory")
        result = report.free(ctx.studio, model)
        return {**result, "status": report.status(ctx.studio)}

    def view(status: dict, request: gr.Request | None):
        say = t.for_request(request)
        summary = say("models.summary").format(device=status["device"], used=status["used_gb"],
                                               budget=status["budget_gb"], offloaded=status["offloaded_gb"],
                                               hits=status["hits"], misses=status["misses"])
        ids = ["all"] + [m["id"] for m in status["models"]]
        memory = memory_html(status["memory_bars"], say)
        headers = [say(f"models.col.{column}") for column in COLUMNS]
        return summary, {"headers": headers, "data": table_rows(status, say)}, memory, gr.update(choices=ids)

    def refresh(request: gr.Request = None):
        return view(models_status(), request)

    def free_and_refresh(model: str, request: gr.Request = None):
        say = t.for_request(request)
        if model == NOT_CONFIRMED:  # "all" was asked for, and the confirmation declined
            return (*refresh(request), say("models.free_declined"))
        result = models_free(model, request)
        return (*view(result["status"], request),
                say("models.freed").format(freed=result["freed"], kept=result["kept_in_use"]))

    with gr.Tab(t("models.tab"), id="models") as tab:
        if ctx.results_vanish:
            gr.Markdown(t("app.results_vanish"), elem_classes=["banner"], elem_id="models-vanish")
        summary = gr.Markdown(elem_id="models-summary")
        memory = gr.HTML(elem_id="models-memory")
        headers = [t.plain(f"models.col.{column}") for column in COLUMNS]  # each page's own language once shown
        table = gr.Dataframe(headers=headers, label=t("models.loaded"), interactive=False, elem_id="models-table")
        with gr.Row():
            choice = gr.Dropdown(["all"], value="all", label=t("models.pick"), allow_custom_value=True, scale=3)
            free_button = gr.Button(t("models.free"), variant="stop", scale=1)
            refresh_button = gr.Button(t("models.refresh"), scale=1)
        live = gr.Checkbox(True, label=t("models.live"))
        timer = gr.Timer(REFRESH_SECONDS)
        cluster_panel.build(ctx)  # with --ray: the replicas, and where GPU work runs

        outputs = [summary, table, memory, choice]
        # API-only endpoints: scripts get the JSON, the UI gets the rendered view.
        gr.api(friendly(choices), api_name="choices")
        gr.api(friendly(models_status), api_name="models_status")
        gr.api(friendly(models_free), api_name="models_free")
        refresh_button.click(friendly(refresh), None, outputs, api_visibility="private")
        freed_note = gr.Markdown(elem_id="models-freed")
        # Freeing everything unloads what every user of this server is about to use: ask first.
        forced = ctx.settings.lang if ctx.settings.lang in LOCALES else None  # --lang, else the browser's
        questions = {locale: Translator.text("models.confirm_all", forced or locale) for locale in LOCALES}
        confirm_all = (f"(model) => {{ const q = {json.dumps(questions, ensure_ascii=False)}; "
                       f"const lang = (navigator.language || '').startsWith('zh') ? 'zh-TW' : 'en'; "
                       f"return (model === 'all' && !confirm(q[lang])) ? {json.dumps(NOT_CONFIRMED)} : model; }}")
        free_button.click(friendly(free_and_refresh), choice, outputs + [freed_note], js=confirm_all,
                          api_visibility="private")

        def teacher_controls(_browser_id: str, request: gr.Request = None):
            """A student sees Free greyed out, and why."""
            if roles.is_teacher(ctx, request):
                return gr.update(interactive=True), gr.update(interactive=True), ""
            note = t.for_request(request)("roles.teacher_only").format(what=t.for_request(request)("roles.free_memory"))
            return gr.update(interactive=False), gr.update(interactive=False), note

        ctx.after_load.append((friendly(teacher_controls), [free_button, choice, freed_note]))
        timer.tick(friendly(refresh), None, outputs, api_visibility="private", show_progress="hidden")
        tab.select(friendly(refresh), None, outputs, api_visibility="private")
        live.change(lambda on: gr.Timer(active=on), live, timer, api_visibility="private")
