"""Assembles the tabs, in order, around one StudioContext."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from studio.context import StudioContext
from tabs import i18n, language, owner, roles, session_state
from tabs.common import TabContext, friendly
from tabs.i18n import Translator
from tabs.loop_lag import LoopLag

# One module per tab, each exposing build(ctx); shown in this order.
TAB_MODULES = ("tabs.image", "tabs.edit", "tabs.faceswap", "tabs.prompt", "tabs.text", "tabs.tokens", "tabs.train",
               "tabs.wall", "tabs.models", "tabs.admin", "tabs.about")
ASSETS = Path(__file__).resolve().parent.parent / "assets"


def build_app(studio: StudioContext) -> gr.Blocks:
    session_state.install()  # a new session's block configs are made when read, off the event loop
    ctx = TabContext(studio, Translator(studio.settings.lang))
    i18n.FORCED_LANG["lang"] = studio.settings.lang  # refusals (tabs.common.friendly) in the page's language
    # Files handed to browsers are cleaned from Gradio's cache after a day.
    with gr.Blocks(title="GenAI Studio", analytics_enabled=False, delete_cache=(3600, 86400)) as demo:
        with gr.Row(equal_height=True):
            gr.Markdown(ctx.t("app.heading"), elem_id="studio-title")
            language_choice = language.picker(ctx.t) if studio.settings.lang == "auto" else None
            if owner.hf_sign_in_offered():
                gr.LoginButton(elem_id="studio-sign-in")
        if owner.hf_sign_in_offered():
            gr.Markdown(ctx.t("app.sign_in_note"), elem_id="sign-in-note")
        if studio.settings.is_tiny:
            gr.Markdown(ctx.t("app.tiny_banner"), elem_id="tiny-banner", elem_classes=["banner"])
        ctx.browser_id = owner.browser_state(ctx)
        with gr.Tabs() as main_tabs:
            ctx.main_tabs = main_tabs
            for name in TAB_MODULES:
                importlib.import_module(name).build(ctx)
        ctx.send_to.wire(main_tabs, ctx.t)
        # A new browser gets its random id on first visit; a known one keeps its own.
        if language_choice is not None:
            language.wire(demo, language_choice)
        loaded = demo.load(owner.ensure_browser_id, ctx.browser_id, ctx.browser_id, api_visibility="private")
        for fn, outputs in ctx.after_load:  # e.g. the Image tab's history of this browser
            loaded.then(fn, ctx.browser_id, outputs, api_visibility="private", show_progress="hidden")
        lag = LoopLag()

        async def server_health(seconds: float = 60) -> dict:
            """How late the server's event loop runs: worst and mean over the last `seconds` (up to
            600), and worst since start. When it lags by seconds, calls time out; a teacher's
            check under a class's load."""
            return lag.report(seconds)

        gr.api(friendly(server_health), api_name="server_health")
    demo.extra_startup_events.append(lag.start)  # watched on the server's own loop from launch
    demo.studio_translator = ctx.t  # launch() needs the same i18n object
    return demo


def launch_options(demo: gr.Blocks, studio: StudioContext) -> dict[str, Any]:
    """Keyword arguments for ``demo.launch`` that follow from the settings."""
    settings = studio.settings
    translator: Translator = demo.studio_translator
    return {
        "server_name": settings.host,
        "server_port": settings.port,
        "share": settings.share,
        "auth": roles.login_check(settings) if settings.class_password else (settings.auth_pairs() or None),
        "auth_message": ("Type your name, and the class password your teacher gave you."
                         if settings.class_password else "Log in with the user name and password your teacher gave you."),
        "max_file_size": f"{settings.max_upload_mb}mb",
        "i18n": translator.gradio_i18n,
        "css_paths": [ASSETS / "style.css"],
        # The page's language choice, in force before Gradio reads the browser's (tabs.language).
        "app_kwargs": {"middleware": [Middleware(language.PageScript)]},
        "theme": gr.themes.Soft(),
        "show_error": True,
        # Served by Python, not rendered by Node: the page's language script (language.PageScript)
        # must see every page, and a Space then needs no Node either.
        "ssr_mode": False,
        # Saved results are handed to the browser from here (Gradio serves files only from
        # allowed folders); each user's files sit under an unguessable session folder.
        "allowed_paths": [str(settings.outputs.resolve())],
    }
