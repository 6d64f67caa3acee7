"""Which tokenizer to load for what the user typed: a catalog id, the Text tab's model,
any Hub id, or a local folder (only where that is safe)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from studio.context import StudioContext
from studio.errors import BadInput, ModelUnavailable
from studio.models import catalog
from studio.models.specs import ModelSpec
from studio.settings import Settings

# A Hub id has at most 96 + 1 + 96 characters; a folder path is rarely longer than this.
MAX_NAME_CHARS = 500
TOKENIZER_FILES = (
    "tokenizer.json", "tokenizer_config.json", "vocab.json", "vocab.txt",
    "tokenizer.model", "spiece.model", "sentencepiece.bpe.model",
)


def safe_root(settings: Settings) -> Path:
    """On an exposed server, local tokenizer folders are accepted only inside this folder."""
    return settings.cache_dir / "tokenizers"


def offered(settings: Settings) -> list[str]:
    """Ids for the dropdown: the tokenizer catalog, then the Text tab's models."""
    ids = catalog.choices(settings, "tokenizer")
    text_ids = [catalog.default_id(settings, "text")] + catalog.choices(settings, "text")
    return ids + [i for i in dict.fromkeys(text_ids) if i not in ids]


def _exists(path: Path, folder: bool = False) -> bool:
    """False, not an OSError, for names the file system refuses (e.g. a part over 255 bytes)."""
    try:
        return path.is_dir() if folder else path.exists()
    except OSError:
        return False


def _looks_like_path(choice: str) -> bool:
    return (
        choice.startswith(("/", ".", "~", "\\"))
        or ".." in choice
        or "\\" in choice
        or choice.count("/") > 1  # a Hub id has at most one "/"
        or _exists(Path(choice).expanduser())
    )


def _folder_spec(settings: Settings, choice: str) -> ModelSpec:
    folder = Path(choice).expanduser().resolve()  # resolves "..", symlinks
    root = safe_root(settings).resolve()
    if settings.is_exposed and not folder.is_relative_to(root):  # any folder only when local
        raise BadInput(
            "Local folders can only be opened when the studio is reachable from this computer only "
            "(no --share, host 127.0.0.1). On a shared server, use a Hub id, or ask the teacher to "
            f"put the tokenizer folder under {root}."
        )
    if not _exists(folder, folder=True):
        raise BadInput(f"There is no folder {choice!r} on the server. Check the path, or use a Hub id.")
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise BadInput(
            f"The folder {choice!r} holds no tokenizer files (looked for tokenizer.json, "
            "tokenizer_config.json, vocab.json, vocab.txt or a SentencePiece model)."
        )
    return ModelSpec(kind="tokenizer", source=str(folder), label="tokenizer")


def check_name(choice: str | None) -> str:
    """The tokenizer name stripped; refused when longer than any id or folder path."""
    if not isinstance(choice or "", str):
        raise BadInput("A tokenizer name is text, like openai-community/gpt2 or a folder path.")
    choice = (choice or "").strip()
    if len(choice) > MAX_NAME_CHARS:
        raise BadInput(
            f"A tokenizer name has at most {MAX_NAME_CHARS} characters (a Hub id or a folder path); "
            f"this one has {len(choice):,}."
        )
    return choice


def tokenizer_spec(studio: StudioContext, choice: str | None) -> ModelSpec:
    """The cache spec of the tokenizer named by ``choice`` (empty: the catalog default)."""
    settings = studio.settings
    choice = check_name(choice) or catalog.default_id(settings, "tokenizer")
    if choice in catalog.entry("tokenizer").twins or choice.startswith("tiny:"):
        return studio.spec("tokenizer", choice)
    if choice in catalog.entry("text").twins:  # the Text tab's model: load only its tokenizer
        return replace(studio.spec("text", choice), kind="tokenizer", label="tokenizer")
    if _looks_like_path(choice):
        return _folder_spec(settings, choice)
    if not catalog.HUB_ID.match(choice):
        raise BadInput(
            f"{choice!r} is neither a Hugging Face model id (like openai-community/gpt2) nor a folder."
        )
    if settings.is_tiny:
        raise ModelUnavailable(
            f"The tiny profile works offline and has no tokenizer {choice!r}. Pick one of: "
            f"{', '.join(offered(settings))}, a local folder, or run with --profile standard."
        )
    return ModelSpec(kind="tokenizer", source=choice, dtype=settings.dtype, label="tokenizer")
