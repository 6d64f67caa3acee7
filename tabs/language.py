"""A visible language choice: Auto (the browser's), English or 繁體中文, for the whole page.

Gradio picks the labels' language from the browser (``navigator.language``) when the page
starts, and the handlers word their messages by the request (``Translator.for_request``). So:

- a choice is kept in the browser (localStorage); a small script that the server puts first in
  the page's ``<head>`` (``PageScript``, before Gradio's own code runs) makes the chosen
  language the browser's for Gradio; changing it reloads the page;
- the same script keeps a cookie equal to the page's language (``<html lang>``, which Gradio
  sets, also when its own Settings → Language is used), and ``for_request`` reads it first, so
  what the server writes follows whatever the page shows.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import gradio as gr

from tabs.i18n import COOKIE, LOCALES

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Send

    from tabs.i18n import Translator

STORAGE_KEY = COOKIE
AUTO_LABEL = "app.language_auto"  # "Auto" in the page's own language; each language's name in itself

EARLY_SCRIPT = """<script>
(function () {
  var known = %(locales)s, key = %(key)s, chosen = null;
  try { chosen = window.localStorage.getItem(key); } catch (e) {}
  if (known.indexOf(chosen) >= 0) {
    Object.defineProperty(window.navigator, "language", {get: function () { return chosen; }});
    Object.defineProperty(window.navigator, "languages", {get: function () { return [chosen]; }});
  }
  function keep() {
    var shown = document.documentElement.lang;
    if (known.indexOf(shown) >= 0) { document.cookie = key + "=" + shown + "; path=/; max-age=31536000; SameSite=Lax"; }
  }
  document.cookie = key + "=" + (chosen || "") + "; path=/; max-age=" + (chosen ? 31536000 : 0) + "; SameSite=Lax";
  new MutationObserver(keep).observe(document.documentElement, {attributes: true, attributeFilter: ["lang"]});
  window.addEventListener("load", function () { setTimeout(keep, 0); });
  // Gradio titles a pop-up with its kind in English ("Error"); the page's language says it instead.
  var kinds = %(toast_titles)s;
  function retitle() {
    var words = kinds[document.documentElement.lang] || null;
    if (!words) { return; }
    document.querySelectorAll(".toast-title span, .toast-title").forEach(function (title) {
      title.childNodes.forEach(function (node) {
        var text = node.nodeType === 3 ? node.nodeValue.trim() : "";
        if (words[text]) { node.nodeValue = node.nodeValue.replace(text, words[text]); }
      });
    });
  }
  window.addEventListener("load", function () {
    new MutationObserver(retitle).observe(document.body, {childList: true, subtree: true});
  });
})();
</script>""" % {"locales": json.dumps(list(LOCALES)), "key": json.dumps(STORAGE_KEY),
                "toast_titles": json.dumps({"zh-TW": {"Error": "錯誤", "Warning": "警告", "Info": "訊息"}},
                                           ensure_ascii=False)}

FORM_KEY = "studio-form-before-switch"
# What the person typed (every text and number box, by its element's id) is kept across the
# reload a switch needs, in this tab's sessionStorage, and put back once the page is drawn
# again: the boxes get an ``input`` event, so the app's own values follow.
KEEP_FORM = (
    "var kept = {}; document.querySelectorAll('[id] textarea, [id] input[type=text], [id] input[type=number]')"
    ".forEach(function (box) { var owner = box.closest('[id]'); if (!owner || !owner.id || box.type === 'password'"
    " || box.closest('[role=listbox], .wrap-inner')) { return; } var name = owner.id + '|' + box.tagName;"
    " if (!(name in kept) && box.value !== box.defaultValue) { kept[name] = box.value; } });"
    f" try {{ window.sessionStorage.setItem('{FORM_KEY}', JSON.stringify(kept)); }} catch (e) {{}}"
)
RESTORE_FORM = (
    f"() => {{ var kept = null; try {{ kept = JSON.parse(window.sessionStorage.getItem('{FORM_KEY}') || 'null');"
    f" window.sessionStorage.removeItem('{FORM_KEY}'); }} catch (e) {{}} if (!kept) {{ return []; }}"
    " Object.keys(kept).forEach(function (name) { var parts = name.split('|');"
    " var owner = document.getElementById(parts[0]); if (!owner) { return; }"
    " var box = owner.querySelector(parts[1].toLowerCase()); if (!box) { return; }"
    " box.value = kept[name]; box.dispatchEvent(new Event('input', {bubbles: true}));"
    " box.dispatchEvent(new Event('change', {bubbles: true})); }); return []; }"
)
# The picker shows the stored choice; a person's pick stores it, keeps the form and reloads the page.
READ_CHOICE = f"() => {{ try {{ return window.localStorage.getItem('{STORAGE_KEY}') || 'auto'; }} catch (e) {{ return 'auto'; }} }}"
APPLY_CHOICE = (
    f"(choice) => {{ try {{ if (choice === 'auto') {{ window.localStorage.removeItem('{STORAGE_KEY}'); }} "
    f"else {{ window.localStorage.setItem('{STORAGE_KEY}', choice); }} }} catch (e) {{}} "
    f"{KEEP_FORM} window.location.reload(); return []; }}"
)


class PageScript:
    """ASGI middleware: ``EARLY_SCRIPT`` first in the ``<head>`` of the app's HTML page (Gradio's
    own ``head`` option is added by its JavaScript after it has picked the language)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.script = EARLY_SCRIPT.encode()

    async def __call__(self, scope: dict, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http" or scope.get("method") != "GET" or not scope.get("path", "").endswith("/"):
            await self.app(scope, receive, send)
            return
        start: dict | None = None
        html = False
        chunks: list[bytes] = []

        async def rewrite(message: dict) -> None:
            nonlocal start, html
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                html = headers.get(b"content-type", b"").startswith(b"text/html") and b"content-encoding" not in headers
                if not html:
                    await send(message)
                else:
                    start = message
                return
            if message["type"] != "http.response.body" or not html:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks).replace(b"<head>", b"<head>" + self.script, 1)
            headers = [(k, v) for k, v in start["headers"] if k != b"content-length"]
            await send({**start, "headers": headers + [(b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, rewrite)


def picker(t: Translator) -> gr.Radio:
    """The language choice, in the layout block open now (the header row)."""
    choices = [(t(AUTO_LABEL), "auto"), ("English", "en"), ("繁體中文", "zh-TW")]
    return gr.Radio(choices, value="auto", label=t("app.language"), min_width=260, scale=0,
                    elem_id="studio-language")


def wire(demo: gr.Blocks, choice: gr.Radio) -> None:
    demo.load(None, None, choice, js=READ_CHOICE, api_visibility="private")
    demo.load(None, None, None, js=RESTORE_FORM, api_visibility="private")
    # ``input``: a person's pick only (the load above setting the value must not reload again).
    choice.input(None, choice, None, js=APPLY_CHOICE, api_visibility="private")
