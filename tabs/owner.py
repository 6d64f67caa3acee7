"""Who a result belongs to: the logged-in user, else this browser (a random id kept in the
browser's storage with ``gr.BrowserState``), else the Gradio session (scripts).

The BrowserState secret is pinned in the cache folder, so the id stored in a browser stays
readable after the server restarts and the history comes back.
"""

from __future__ import annotations

import os
import secrets
import uuid
from pathlib import Path

import gradio as gr

from studio.pictures.outputs import owner_folder
from studio.outputs import BROWSER_ID, owner_key
from tabs.common import TabContext

STORAGE_KEY = "genai-studio-browser"
SECRET_FILE = "browser-state-secret"


def pinned_secret(cache_dir: Path) -> str:
    path = Path(cache_dir) / SECRET_FILE
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # readable by the owner only
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


def browser_state(ctx: TabContext) -> gr.BrowserState:
    try:
        secret = pinned_secret(ctx.settings.cache_dir)
    except FileExistsError:  # another process wrote it first
        secret = pinned_secret(ctx.settings.cache_dir)
    return gr.BrowserState("", storage_key=STORAGE_KEY, secret=secret)


def ensure_browser_id(current: str | None) -> str:
    """Keep a valid stored id; give a new browser a fresh random one."""
    return current if current and BROWSER_ID.match(str(current)) else uuid.uuid4().hex


def hf_sign_in_offered() -> bool:
    """On a Space with "Sign in with Hugging Face" (the README's ``hf_oauth: true``, which sets
    OAUTH_CLIENT_ID). ZeroGPU counts a signed-in visitor's own quota; an anonymous one shares the
    quota of their IP address, so a class behind one school address shares one small quota."""
    return bool(os.environ.get("SPACE_ID") and os.environ.get("OAUTH_CLIENT_ID"))


def user_of(ctx: TabContext, request: gr.Request | None) -> str | None:
    """Who is logged in: a login of the studio's own (--auth), else a "Sign in with Hugging Face"
    on a Space (its OAuth session), else nobody (the browser then owns what it makes). A class
    that enters with the class password (any name) is nobody: each browser owns its own."""
    name = getattr(request, "username", None)
    if name:
        return str(name) if ctx.settings.is_named_user(str(name)) else None
    try:
        session = request.session if request is not None else None  # only with OAuth's session middleware
    except (AssertionError, AttributeError, KeyError):
        return None
    info = (session or {}).get("oauth_info") or {}
    signed_in = (info.get("userinfo") or {}).get("preferred_username")
    return f"hf-{signed_in}" if signed_in else None


def folder_for(ctx: TabContext, request: gr.Request | None, browser_id: str | None = None) -> Path:
    return owner_folder(
        ctx.settings.outputs,
        user=user_of(ctx, request),
        browser_id=browser_id,
        session=getattr(request, "session_hash", None),
    )


def key_for(ctx: TabContext, request: gr.Request | None, browser_id: str | None = None) -> str:
    """Whose adapters, jobs and LoRAs these are (studio.outputs.owner_key), from an event."""
    return owner_key(user_of(ctx, request), browser_id, getattr(request, "session_hash", None))
