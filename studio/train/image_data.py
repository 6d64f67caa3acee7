"""DreamBooth-style image sets: pictures with a caption each (a .txt beside the image) or one
instance prompt for all. Gathered from a .zip, a folder or single images into the job folder."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from studio.errors import BadInput

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
MAX_IMAGES = 500
# A .zip is measured before anything is extracted: a small upload may unpack to gigabytes (a zip
# bomb) or to a million files. Each member's declared size bounds what is read from it (zipfile
# stops there), so the sum of declared sizes bounds the whole extraction.
MAX_ZIP_MEMBERS = 2000
MAX_ZIP_BYTES = 1024**3  # 1 GiB: 500 pictures of 2 MB each, with room to spare


def _wanted(info: zipfile.ZipInfo) -> bool:
    name = Path(info.filename).name
    return not info.is_dir() and not name.startswith(".") and Path(name).suffix.lower() in IMAGE_SUFFIXES + (".txt",)


def check_zip_size(name: str, members: int, unpacked_bytes: int) -> None:
    """Refuse a .zip that would unpack to too many files or too many bytes, before unpacking it."""
    if members > MAX_ZIP_MEMBERS:
        raise BadInput(f"{name} holds {members} files; a training set may hold at most {MAX_ZIP_MEMBERS}.")
    if unpacked_bytes > MAX_ZIP_BYTES:
        raise BadInput(f"{name} would unpack to {unpacked_bytes / 1024**2:,.0f} MB; a training set may unpack to at "
                       f"most {MAX_ZIP_BYTES // 1024**2:,} MB.")


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
                wanted = [info for info in archive.infolist() if _wanted(info)]
                check_zip_size(source.name, len(archive.infolist()), sum(info.file_size for info in wanted))
                for info in wanted:
                    name = Path(info.filename).name  # flattened: no paths from inside the zip
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
