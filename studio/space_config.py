"""What the studio offers on a Hugging Face ZeroGPU Space, and the Space's README header.

On ZeroGPU each GPU call runs in a fork of the server, with a window of seconds counted against
the visitor's quota: a model loaded inside a call would spend that quota downloading and be gone
when the call ends. So a Space offers only models that are downloaded when the Space is built
(the README's ``preload_from_hub``) and loaded at start-up (``StudioContext.load_at_start``); the
rest of the catalog is not offered there. Both lists come from the catalog (``CatalogEntry.space``).

    python -m studio.space_config            # print the README's YAML header
    python -m studio.space_config --write    # write it into README.md

``tests/test_space_config.py`` fails when README.md's header and this table disagree.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.models.catalog import CATALOG, CatalogEntry

README = Path(__file__).resolve().parent.parent / "README.md"

# The files each offered repository is read from, where not the whole repository: fp16 variants
# only, as the loaders ask for them (half the download of the fp32 files).
_SDXL_TOKENIZER = ("merges.txt", "special_tokens_map.json", "tokenizer_config.json", "vocab.json")
REPO_FILES: dict[str, tuple[str, ...]] = {
    "stabilityai/stable-diffusion-xl-base-1.0": (
        "model_index.json", "scheduler/scheduler_config.json",
        "text_encoder/config.json", "text_encoder/model.fp16.safetensors",
        "text_encoder_2/config.json", "text_encoder_2/model.fp16.safetensors",
        *(f"tokenizer/{name}" for name in _SDXL_TOKENIZER), *(f"tokenizer_2/{name}" for name in _SDXL_TOKENIZER),
        "unet/config.json", "unet/diffusion_pytorch_model.fp16.safetensors",
        "vae/config.json", "vae/diffusion_pytorch_model.fp16.safetensors",
    ),
    "diffusers/controlnet-canny-sdxl-1.0": ("config.json", "diffusion_pytorch_model.fp16.safetensors"),
    "diffusers/controlnet-depth-sdxl-1.0": ("config.json", "diffusion_pytorch_model.fp16.safetensors"),
    "Salesforce/blip-image-captioning-base": (
        "config.json", "model.safetensors", "preprocessor_config.json", "special_tokens_map.json",
        "tokenizer.json", "tokenizer_config.json", "vocab.txt",
    ),
    "amused/amused-256": ("vqvae/config.json", "vqvae/diffusion_pytorch_model.safetensors"),
    "CompVis/stable-diffusion-safety-checker": ("config.json", "model.safetensors", "preprocessor_config.json"),
    "google-bert/bert-base-chinese": ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                                      "vocab.txt"),
}

# The rest of the Space's header: what the Space is built with.
HEADER = {
    "title": "GenAI Studio",
    "emoji": "🎨",
    "colorFrom": "indigo",
    "colorTo": "pink",
    "sdk": "gradio",
    "sdk_version": "6.31.0",
    "python_version": "3.11",  # the version the test suite runs on
    "app_file": "app.py",
    "pinned": "false",
    "suggested_hardware": "zero-a10g",
    # Building the Space downloads the preloaded models (about 45 GB); starting loads them.
    "startup_duration_timeout": "1h",
    # "Sign in with Hugging Face": each student's own ZeroGPU quota, and their name as the owner.
    "hf_oauth": "true",
    "hf_oauth_expiration_minutes": "480",
}


# Read outside any GPU call, on first use (a few MB): nothing to preload.
NOT_PRELOADED_KINDS = ("tokenizer",)
# Files a request reads itself (a LoRA is switched in per request, never held in the cache):
# preloaded on disk, nothing to load at start-up.
READ_PER_REQUEST_KINDS = ("image_lora",)


def preloaded() -> list[tuple[str, str]]:
    """(catalog name, id) of every model a Space downloads when it is built."""
    return [(name, model_id) for name, entry in CATALOG.items() if entry.kind not in NOT_PRELOADED_KINDS
            for model_id in entry.space]


def loaded_at_start() -> list[tuple[str, str]]:
    """(catalog name, id) of every model a Space loads into its cache before the first call."""
    return [(name, model_id) for name, model_id in preloaded() if CATALOG[name].kind not in READ_PER_REQUEST_KINDS]


def repository_and_files(entry: CatalogEntry, model_id: str) -> tuple[str, tuple[str, ...]]:
    """Where ``model_id`` of ``entry`` is downloaded from: the repository and its files (empty:
    the whole repository)."""
    parts = model_id.split("/")
    repo = "/".join(parts[:2])
    if model_id in REPO_FILES:
        return repo, REPO_FILES[model_id]
    if len(parts) > 2:  # one file in a repository: owner/repo/path/file
        return repo, ("/".join(parts[2:]),)
    if entry.weight_name:  # a LoRA: one file
        return repo, (entry.weight_name,)
    if entry.subfolder:  # one folder of a repository (the IP-Adapters' image encoder)
        return repo, (f"{entry.subfolder}/config.json", f"{entry.subfolder}/model.safetensors")
    return repo, ()


def preloads() -> list[str]:
    """``preload_from_hub`` lines: "owner/repo file1,file2" (or "owner/repo" for all of it), one
    per repository, files of several offered ids of one repository merged."""
    files_by_repo: dict[str, list[str]] = {}
    whole: set[str] = set()
    for name, model_id in preloaded():
        repo, files = repository_and_files(CATALOG[name], model_id)
        if not files:
            whole.add(repo)
        listed = files_by_repo.setdefault(repo, [])
        listed += [f for f in files if f not in listed]
    return [repo if repo in whole else f"{repo} {','.join(files)}" for repo, files in files_by_repo.items()]


def header() -> str:
    """The README's YAML front matter, as a Space reads it."""
    lines = ["---"] + [f"{key}: {value}" for key, value in HEADER.items()]
    lines += ["preload_from_hub:"] + [f"  - {line}" for line in preloads()]
    return "\n".join(lines + ["---"]) + "\n"


def readme_header(text: str) -> str:
    """The front matter at the top of a README's text ('' when it has none)."""
    if not text.startswith("---\n"):
        return ""
    end = text.index("\n---\n", 4)
    return text[: end + len("\n---\n")]


def write(readme: Path = README) -> None:
    text = readme.read_text(encoding="utf-8")
    readme.write_text(header() + text[len(readme_header(text)):], encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m studio.space_config", description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="write the header into README.md")
    args = parser.parse_args(argv)
    if args.write:
        write()
    else:
        sys.stdout.write(header())
    return 0


if __name__ == "__main__":
    sys.exit(main())
