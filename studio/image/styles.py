"""Styles: prompt / negative templates with a ``{prompt}`` slot (assets/image/styles.json).

Several styles combine in the order they are given: the first style wraps the prompt, each
next style wraps the result of the one before (so "Cinematic" then "Analog film" gives
"analog 35mm film photo of cinematic film still of <prompt>, ..., ..."). Negative prompts
are joined in the same order after the user's own, duplicates dropped. No style: the prompt
goes to the model unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from studio.errors import BadInput

STYLES_FILE = Path(__file__).resolve().parents[2] / "assets" / "image" / "styles.json"
SLOT = "{prompt}"
MAX_STYLES = 8


@dataclass(frozen=True)
class Style:
    name: str
    description: str
    prompt: str
    negative_prompt: str
    # locale -> {"name", "description"} as shown to a person; the prompt stays English (CLIP reads it).
    translations: dict[str, dict[str, str]] = field(default_factory=dict, compare=False, hash=False)

    def label(self, locale: str = "en") -> str:
        """How the style picker shows it: its name and description, in ``locale`` where translated."""
        shown = self.translations.get(locale, {})
        return f"{shown.get('name', self.name)} — {shown.get('description', self.description)}"

    def wrap(self, prompt: str) -> str:
        # str.replace, not str.format: a prompt may contain braces of its own.
        return self.prompt.replace(SLOT, prompt).strip(" ,")


@lru_cache(maxsize=1)
def all_styles() -> dict[str, Style]:
    data = json.loads(STYLES_FILE.read_text(encoding="utf-8"))
    return {item["name"]: Style(**item) for item in data["styles"]}


def check_names(names: list[str] | tuple[str, ...] | str | None) -> tuple[str, ...]:
    """Known style names, in the given order, without repeats."""
    if names is None or names == "":
        return ()
    if isinstance(names, str):
        names = [n for n in (p.strip() for p in names.split(",")) if n]
    known = all_styles()
    if len(names) > MAX_STYLES:
        raise BadInput(f"Pick at most {MAX_STYLES} styles at once (got {len(names)}).")
    unknown = [str(n)[:40] for n in names if n not in known]
    if unknown:
        raise BadInput(f"Unknown style {unknown[0]!r}. The /styles endpoint lists them.")
    return tuple(dict.fromkeys(names))


def apply(prompt: str, negative_prompt: str, names: tuple[str, ...]) -> tuple[str, str]:
    """The prompt and negative prompt the model is given."""
    styles = [all_styles()[n] for n in names]
    for style in styles:
        prompt = style.wrap(prompt)
    negatives = [negative_prompt.strip()] + [s.negative_prompt for s in styles]
    parts: list[str] = []
    for text in negatives:
        for phrase in (p.strip() for p in text.split(",")):
            if phrase and phrase not in parts:
                parts.append(phrase)
    return prompt, ", ".join(parts)


def listing() -> list[dict[str, str]]:
    return [
        {"name": s.name, "description": s.description, "prompt": s.prompt, "negative_prompt": s.negative_prompt}
        for s in all_styles().values()
    ]
