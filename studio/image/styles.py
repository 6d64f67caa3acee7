"""Styles: prompt / negative templates with a ``{prompt}`` slot.

The studio's own styles are assets/image/styles.json (written for the studio, with their
translations); a user's own style files (Fooocus JSON, A1111 styles.csv) in the styles folder
come after them (studio.image.style_files). Two entries are not templates:

- **Fooocus V2**: GPT-2 adds visual words to each image's prompt (studio.image.fooocus_v2),
  seeded by that image's seed, so a seed gives the same words again;
- **Random Style**: each image picks one style at random, seeded by its seed.

Several styles combine in the order they are given: the first style wraps the prompt, each
next style wraps the result of the one before (so "Cinematic" then "Analog film" gives
"analog 35mm film photo of cinematic film still of <prompt>, ..., ..."). Negative prompts
are joined in the same order after the user's own, duplicates dropped. No style: the prompt
goes to the model unchanged.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from studio.errors import BadInput
from studio.image import style_files

STYLES_FILE = Path(__file__).resolve().parents[2] / "assets" / "image" / "styles.json"
SLOT = "{prompt}"
MAX_STYLES = 8
DEFAULT_FOLDER = Path("styles")  # the styles_dir setting's default
EXPANSION = "Fooocus V2"
RANDOM = "Random Style"


@dataclass(frozen=True)
class Style:
    name: str
    description: str
    prompt: str
    negative_prompt: str
    # locale -> {"name", "description"} as shown to a person; the prompt stays English (CLIP reads it).
    translations: dict[str, dict[str, str]] = field(default_factory=dict, compare=False, hash=False)
    source: str = "studio"  # "studio", or the user's file it came from
    kind: str = "template"  # template | expansion (Fooocus V2) | random (Random Style)

    def label(self, locale: str = "en") -> str:
        """How the style picker shows it: its name and description, in ``locale`` where translated."""
        shown = self.translations.get(locale, {})
        return f"{shown.get('name', self.name)} — {shown.get('description', self.description)}"

    def wrap(self, prompt: str) -> str:
        if SLOT not in self.prompt:  # a style without the slot follows the prompt (Fooocus, A1111)
            return ", ".join(part for part in (prompt.strip(" ,"), self.prompt.strip(" ,")) if part)
        # str.replace, not str.format: a prompt may contain braces of its own.
        return self.prompt.replace(SLOT, prompt).strip(" ,")


@lru_cache(maxsize=1)
def all_styles() -> dict[str, Style]:
    data = json.loads(STYLES_FILE.read_text(encoding="utf-8"))
    return {item["name"]: Style(**item) for item in data["styles"]}


SPECIAL: dict[str, Style] = {
    EXPANSION: Style(EXPANSION, "GPT-2 adds visual words to each image's prompt, seeded by that image's seed.",
                     SLOT, "", {"zh-TW": {"name": "Fooocus V2 提示詞擴寫",
                                         "description": "GPT-2 依每張圖的種子，為提示詞補上視覺描述詞。"}},
                     kind="expansion"),
    RANDOM: Style(RANDOM, "Each image picks one style at random, seeded by that image's seed.",
                  SLOT, "", {"zh-TW": {"name": "隨機風格", "description": "每張圖依它的種子隨機選一種風格。"}},
                  kind="random"),
}


def user_styles(folder: Path | None) -> tuple[dict[str, Style], list[str]]:
    """The styles of the user's files (names the studio already has are left out, with a note),
    and a sentence for each file or entry that was skipped."""
    read = style_files.read_folder(folder)
    taken = set(all_styles()) | set(SPECIAL)
    found: dict[str, Style] = {}
    problems = list(read.problems)
    for entry in read.entries:
        if entry.name in taken:
            problems.append(f"{entry.source}: “{entry.name[:40]}” is a studio style; the studio's own is used.")
        elif entry.name not in found:
            found[entry.name] = Style(entry.name, f"from {entry.source}", entry.prompt, entry.negative_prompt,
                                      source=entry.source)
    return found, problems


def available(folder: Path | None = None) -> dict[str, Style]:
    """Every style a request may name: Fooocus V2 and Random Style, the studio's, then the user's."""
    return {**SPECIAL, **all_styles(), **user_styles(folder)[0]}


def check_names(names: list[str] | tuple[str, ...] | str | None, folder: Path | None = DEFAULT_FOLDER) -> tuple[str, ...]:
    """Known style names, in the given order, without repeats."""
    if names is None or names == "":
        return ()
    if isinstance(names, str):
        names = [n for n in (p.strip() for p in names.split(",")) if n]
    if len(names) > MAX_STYLES:
        raise BadInput(f"Pick at most {MAX_STYLES} styles at once (got {len(names)}).")
    known = available(folder)
    unknown = [str(n)[:40] for n in names if n not in known]
    if unknown:
        skipped = user_styles(folder)[1]
        hint = f" Skipped style files: {' '.join(skipped[:3])}" if skipped else ""
        raise BadInput(f"Unknown style {unknown[0]!r}. The /styles endpoint lists them.{hint}")
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class ImageStyles:
    """One image's styles: the templates in order (Random Style replaced by its pick) and whether
    Fooocus V2 expands its prompt."""

    names: tuple[str, ...]
    expands: bool


def for_image(names: tuple[str, ...], seed: int, folder: Path | None = DEFAULT_FOLDER) -> ImageStyles:
    """``names`` as image ``seed`` uses them: Random Style picks one of the templates not already
    picked (the studio's and the user's), the same one for the same seed."""
    templates = {name: style for name, style in available(folder).items() if style.kind == "template"}
    chosen: list[str] = []
    for name in names:
        if name == RANDOM:
            pool = [n for n in templates if n not in names and n not in chosen]
            if pool:
                chosen.append(random.Random(seed).choice(pool))
        elif name in templates and name not in chosen:
            chosen.append(name)
    return ImageStyles(tuple(chosen), EXPANSION in names)


def apply(prompt: str, negative_prompt: str, names: tuple[str, ...], folder: Path | None = DEFAULT_FOLDER) -> tuple[str, str]:
    """The prompt and negative prompt the model is given by the template styles ``names``
    (Fooocus V2 and Random Style are resolved per image first: ``for_image``)."""
    known = available(folder)
    styles = [known[n] for n in names if n in known and known[n].kind == "template"]
    for style in styles:
        prompt = style.wrap(prompt)
    parts = _phrases(negative_prompt)  # the user's own negative, whole
    for style in styles:
        # A style's negative never works against another chosen style's look: Cinematic's
        # "painting" is left out beside Watercolor's "watercolor painting of ...".
        others = " ".join(s.prompt for s in styles if s is not style).lower()
        parts += [phrase for phrase in _phrases(style.negative_prompt)
                  if phrase not in parts and not re.search(rf"\b{re.escape(phrase.lower())}\b", others)]
    return prompt, ", ".join(parts)


def _phrases(text: str) -> list[str]:
    found: list[str] = []
    for phrase in (p.strip() for p in (text or "").split(",")):
        if phrase and phrase not in found:
            found.append(phrase)
    return found


def listing(folder: Path | None = None, special: bool = False) -> list[dict[str, str]]:
    """Every style with its texts: the studio's own; with ``special``, Fooocus V2 and Random Style
    first; with ``folder``, the user's files' after them (each with the file it came from)."""
    shown = {**(SPECIAL if special else {}), **all_styles(), **(user_styles(folder)[0] if folder else {})}
    return [
        {"name": s.name, "description": s.description, "prompt": s.prompt, "negative_prompt": s.negative_prompt,
         **({"source": s.source, "kind": s.kind} if special or folder else {})}
        for s in shown.values()
    ]
