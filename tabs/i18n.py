"""UI labels in English and Traditional Chinese.

Each tab keeps its strings in ``assets/i18n/<tab>.json`` as {"en": {...}, "zh-TW": {...}}.
Words the studio itself holds keep their English there and are only translated in the files:
the styles (their own file), the catalog's descriptions and notes, the families' reasons,
progress labels and training messages. With ``--lang auto`` labels are Gradio i18n keys that the
browser resolves by its locale (or the page's language choice, tabs.language); with ``--lang en``
or ``--lang zh-TW`` they are plain strings in that language.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import gradio as gr

from studio import jobs, progress, tools
from studio.image import styles
from studio.image.families import FAMILIES
from studio.models import catalog

if TYPE_CHECKING:
    from gradio.i18n import I18nData

I18N_DIR = Path(__file__).resolve().parent.parent / "assets" / "i18n"
LOCALES = ("en", "zh-TW")
COOKIE = "studio-lang"  # the page's own language choice (tabs.language), sent with every request


@lru_cache(maxsize=1)
def translations() -> dict[str, dict[str, str]]:
    tools.tools()  # declared tools add their progress labels (studio.tools.declare)
    merged: dict[str, dict[str, str]] = {locale: {} for locale in LOCALES}
    for path in sorted(I18N_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for locale in LOCALES:
            merged[locale].update(data.get(locale, {}))
    for locale in LOCALES:  # the styles carry their own translations (assets/image/styles.json)
        merged[locale].update({style_key(s.name): s.label(locale)
                               for s in (*styles.SPECIAL.values(), *styles.all_styles().values())})
    # The catalog's English is its own (studio/models/catalog.py); assets/i18n/catalog.json translates it.
    for entry in catalog.CATALOG.values():
        merged["en"][f"catalog.{entry.name}"] = entry.description
        merged["en"].update({f"catalog.note.{model_id}": note for model_id, note in entry.notes.items()})
    merged["en"].update({f"progress.{key}": template for key, template in progress.LABELS.items()})
    merged["en"].update({f"train.msg.{key}": template for key, template in jobs.MESSAGES.items()})
    # A family's reasons likewise (studio/image/families); assets/i18n/image.json translates them.
    for family in FAMILIES.values():
        merged["en"].update({family.unused_key(control): reason for control, reason in family.unused.items()})
        if family.image_prompt_note:
            merged["en"][family.image_prompt_key] = family.image_prompt_note
    return merged


def style_key(name: str) -> str:
    return f"style.{name}"


class Translator:
    def __init__(self, lang: str = "auto"):
        self.lang = lang
        table = translations()
        self._i18n = gr.I18n(**{locale: table[locale] for locale in LOCALES}) if lang == "auto" else None

    def __call__(self, key: str) -> str | I18nData:
        """A label: an i18n key for the browser to resolve, or a plain string."""
        if self._i18n is not None:
            return self._i18n(key)
        return self.text(key, self.lang)

    @staticmethod
    def text(key: str, lang: str = "en") -> str:
        """Always a plain string (for values Gradio does not translate, like Markdown)."""
        table = translations()
        locale = lang if lang in LOCALES else "en"
        return table[locale].get(key) or table["en"].get(key) or key

    def plain(self, key: str) -> str:
        return self.text(key, self.lang)

    def for_request(self, request: gr.Request | None) -> Callable[[str], str]:
        """Plain strings in this user's language, for text a handler builds at run time
        (Gradio translates only whole keys): the forced --lang, else the page's language
        choice (its cookie), else the browser's."""
        lang = self.lang
        if lang == "auto":
            lang = request_language(request)
        return lambda key: self.text(key, lang)

    @property
    def gradio_i18n(self) -> gr.I18n | None:
        return self._i18n


# The language the server forces (--lang en or zh-TW); "auto": each page's own. Set by build_app.
FORCED_LANG = {"lang": "auto"}


def page_language(request: gr.Request | None) -> Callable[[str], str]:
    """key -> text in the language ``request``'s page shows (the forced --lang, else the page's
    choice, else the browser's); English without a request."""
    lang = FORCED_LANG["lang"]
    if lang == "auto":
        lang = request_language(request) if request is not None else "en"
    return lambda key: Translator.text(key, lang)


def request_language(request: gr.Request | None) -> str:
    """The language a request's page shows: its chosen one (cookie), else its Accept-Language."""
    headers = getattr(request, "headers", None) or {}
    for part in (headers.get("cookie") or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value in LOCALES:
            return value
    first = (headers.get("accept-language") or "").split(",")[0].strip().lower()
    return "zh-TW" if first.startswith("zh") else "en"


def or_english(say: Callable[[str], str], key: str, english: str) -> str:
    """``say(key)``, or ``english`` where no table has the key yet (a family module found after
    the tables were merged)."""
    said = say(key)
    return english if said == key else said
