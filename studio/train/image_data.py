"""DreamBooth-style image sets: pictures with a caption each (a .txt beside the image) or one
instance prompt for all. Gathered from a .zip, a folder or single images into the job folder."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from studio.errors import BadInput

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
MAX_IMAGES = 500


def gather(source: str | Path, target: Path) -> int:
    """Copy the images (and their captions) of ``source`` into ``target``; returns the count."""
    source = Path(source)
    target.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        files = [p for p in sorted(source.rglob("*")) if p.is_file()]
        for path in files:
            if path.suffix.lower() in IMAGE_SUFFIXES + (".txt",):
                shutil.copyfile(path, target / path.name)
    elif source.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(source) as archive:
                for info in archive.infolist():
                    name = Path(info.filename).name  # flattened: no paths from inside the zip
                    if info.is_dir() or name.startswith(".") or Path(name).suffix.lower() not in IMAGE_SUFFIXES + (".txt",):
                        continue
                    with archive.open(info) as src, open(target / name, "wb") as dst:
                        shutil.copyfileobj(src, dst)
        except zipfile.BadZipFile:
            raise BadInput(f"{source.name} is not a readable .zip file.") from None
    elif source.suffix.lower() in IMAGE_SUFFIXES:
        shutil.copyfile(source, target / source.name)
    else:
        raise BadInput(f"{source.name}: for an image LoRA upload a .zip of images (with optional .txt captions) or one image.")
    count = len(images(target))
    if not count:
        raise BadInput(f"{source.name} holds no .png, .jpg or .webp image.")
    if count > MAX_IMAGES:
        raise BadInput(f"{source.name} holds {count} images; at most {MAX_IMAGES} are used for one LoRA.")
    return count


def images(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def captioned(folder: Path, instance_prompt: str) -> list[tuple[Path, str]]:
    """(image, caption): its .txt when there is one, else the instance prompt."""
    pairs = []
    for image in images(folder):
        caption_file = image.with_suffix(".txt")
        caption = caption_file.read_text(encoding="utf-8", errors="replace").strip() if caption_file.is_file() else ""
        caption = caption or instance_prompt.strip()
        if not caption:
            raise BadInput(f"{image.name} has no caption: add {image.stem}.txt or type an instance prompt (e.g. \"a photo of sks dog\").")
        pairs.append((image, caption))
    return pairs


def check_images(pairs: list[tuple[Path, str]]) -> None:
    from PIL import Image, UnidentifiedImageError

    for image, _ in pairs:
        try:
            with Image.open(image) as picture:
                picture.verify()
        except (UnidentifiedImageError, OSError):
            raise BadInput(f"{image.name} is not an image that can be read.") from None
