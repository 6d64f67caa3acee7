"""One request in, a list of results out: what the Image tab, the edit tools and the API send.

``ImageRequest`` holds what the user chose, as given (a preset name, an aspect ratio, style
names, seed -1). ``checked`` validates every field a student can get wrong, before any
model is touched, with a sentence that says what to do.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.errors import BadInput
from studio.image import guidance, presets, prompt_arrays, styles
from studio.image.clip_skip import RANGE as CLIP_SKIP_RANGE
from studio.image.image_prompts import slots as image_prompt_slots
from studio.pictures import outputs
from studio.tools.fields import declared
from studio.pictures.metadata import HOOKS_OFF  # what a picture saved before the hooks was drawn with

if TYPE_CHECKING:
    from PIL import Image

MAX_PROMPT_CHARS = 20_000  # far past any text encoder's window; longer is a paste mistake
MAX_IMAGES = 8
MAX_LORAS = 5
MIN_SIDE, MAX_SIDE = 256, 2048
MAX_STEPS = 150
MAX_CFG = 30.0
MAX_SEED = 2**32 - 1  # what torch generators and A1111 seeds accept
LORA_WEIGHT_RANGE = (-4.0, 4.0)
TASKS = ("txt2img", "img2img", "inpaint")


@dataclass(frozen=True)
class ImageRequest:
    prompt: str = ""
    negative_prompt: str = ""
    styles: tuple[str, ...] = ()
    performance: str = presets.DEFAULT_PERFORMANCE
    aspect_ratio: str = presets.DEFAULT_ASPECT
    image_number: int = 1
    seed: int = -1  # -1: a random one, reported back; image i uses seed + i
    checkpoint: str = ""  # "" = the catalog default
    loras: tuple[tuple[str, float], ...] = ()
    # Advanced overrides; None = from the preset (SDXL) or the family's defaults.
    width: int | None = None
    height: int | None = None
    steps: int | None = None
    cfg: float | None = None
    scheduler: str | None = None
    # img2img (Vary, upscale refine): the starting image and how much of it is redrawn.
    task: str = "txt2img"
    init_image: Any = field(default=None, compare=False, repr=False)
    strength: float = 0.5
    # inpaint (Inpaint, Outpaint): white = repaint, the init image's size (studio.image.edit).
    mask_image: Any = field(default=None, compare=False, repr=False)
    # The user's own words when the prompt above was expanded into English (kept in metadata).
    original_prompt: str = ""
    # Image prompts (studio.image.image_prompts): slots of picture, type, weight, stop-at.
    image_prompts: tuple = field(default=(), compare=False, repr=False)
    # Fooocus's guidance hooks (studio.image.guidance), with Fooocus's defaults: SDXL and SD 1.5
    # (the ADM scalers: SDXL only); the distilled presets and CFG <= 1 run without them.
    # Declared (studio.tools.fields): the Image tab's Advanced controls and /generate_image's
    # parameters are made from these lines, so each default and range is written here only.
    sharpness: float = declared(guidance.DEFAULT_SHARPNESS, low=guidance.SHARPNESS_RANGE[0],
                                high=guidance.SHARPNESS_RANGE[1], step=0.1, label="image.sharpness",
                                info="image.sharpness_info", advanced=True,
                                doc="Fooocus's sharpness (0 = off): edge-preserving detail, SDXL and SD 1.5")
    adaptive_cfg: float = declared(guidance.DEFAULT_ADAPTIVE_CFG, low=guidance.ADAPTIVE_CFG_RANGE[0],
                                   high=guidance.ADAPTIVE_CFG_RANGE[1], step=0.5, label="image.adaptive_cfg",
                                   info="image.adaptive_cfg_info", advanced=True,
                                   doc="CFG mimicking: a high CFG drawn as this one (= CFG: off)")
    adm_scaler_positive: float = declared(guidance.DEFAULT_ADM_POSITIVE, low=guidance.ADM_SCALE_RANGE[0],
                                          high=guidance.ADM_SCALE_RANGE[1], step=0.05, label="image.adm_positive",
                                          advanced=True, doc="SDXL's size conditioning × this, for the prompt")
    adm_scaler_negative: float = declared(guidance.DEFAULT_ADM_NEGATIVE, low=guidance.ADM_SCALE_RANGE[0],
                                          high=guidance.ADM_SCALE_RANGE[1], step=0.05, label="image.adm_negative",
                                          advanced=True, doc="... and × this for the negative prompt")
    adm_scaler_end: float = declared(guidance.DEFAULT_ADM_END, low=guidance.ADM_END_RANGE[0],
                                     high=guidance.ADM_END_RANGE[1], step=0.05, label="image.adm_end", advanced=True,
                                     doc="until this share of the steps")
    # CLIP skip counted as A1111 / Fooocus do (1 = the last layer); None = the family's own layer
    # (SDXL 2, SD 1.5 1: studio.image.clip_skip).
    clip_skip: int | None = declared(None, low=CLIP_SKIP_RANGE[0], high=CLIP_SKIP_RANGE[1], optional=True,
                                     label="image.clip_skip", info="image.clip_skip_info", hint="number",
                                     advanced=True, doc="1 = the last CLIP layer; empty = the model's own")

    def parameters(self) -> dict[str, Any]:
        """JSON-safe settings (the image itself is not part of them)."""
        data = asdict(replace(self, init_image=None, mask_image=None, image_prompts=()))
        data.pop("init_image"), data.pop("mask_image")
        data["styles"] = list(self.styles)
        data["loras"] = [list(pair) for pair in self.loras]
        # Each slot's type, weight, stop-at and a hash of its picture (not the picture).
        data["image_prompts"] = [slot.record() for slot in self.image_prompts if hasattr(slot, "record")]
        return data

    @classmethod
    def from_parameters(cls, data: dict[str, Any]) -> "ImageRequest":
        known = {f for f in cls.__dataclass_fields__ if f not in ("init_image", "mask_image", "image_prompts")}
        values = {**({} if "sharpness" in data else HOOKS_OFF), **{k: v for k, v in data.items() if k in known}}
        values["styles"] = tuple(values.get("styles") or ())
        values["loras"] = tuple(tuple(pair) for pair in values.get("loras") or ())
        return cls(**values)


def _number(name: str, value: Any, low: float, high: float, whole: bool = False) -> Any:
    if isinstance(value, bool) or value is None or value == "":
        raise BadInput(f"{name} must be a number.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInput(f"{name} must be a number, not {str(value)[:30]!r}.") from None
    if whole and number != int(number):
        raise BadInput(f"{name} must be a whole number, not {value!r}.")
    if not low <= number <= high:
        raise BadInput(f"{name} must be between {low:g} and {high:g}, not {number:g}.")
    return int(number) if whole else number


def resolve_seed(seed: Any) -> int:
    if seed is None or seed == "":
        return random.randrange(MAX_SEED)
    value = _number("Seed", seed, -(2**63), 2**63, whole=True)
    if value < 0:
        return random.randrange(MAX_SEED - MAX_IMAGES)
    if value > MAX_SEED - MAX_IMAGES:
        raise BadInput(f"Seed must be at most {MAX_SEED - MAX_IMAGES} (image i uses seed + i).")
    return value


def check_text(name: str, text: Any) -> str:
    text = "" if text is None else str(text)
    if len(text) > MAX_PROMPT_CHARS:
        raise BadInput(
            f"The {name} has {len(text):,} characters; the limit is {MAX_PROMPT_CHARS:,} "
            "(the text encoder reads only the beginning anyway)."
        )
    return text.strip()


def _loras(value: Any) -> tuple[tuple[str, float], ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):  # "name.safetensors:0.8" per line, for hand-written API calls
        pairs = []
        for line in value.splitlines():
            name, _, weight = line.strip().rpartition(":")
            if line.strip():
                pairs.append((name or line.strip(), weight if name else 1.0))
        value = pairs
    items = []
    for item in value:
        if isinstance(item, dict):
            item = (item.get("name"), item.get("weight", 1.0))
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise BadInput("Each LoRA is a [name, weight] pair.")
        name, weight = str(item[0] or "").strip(), item[1]
        if not name or name.lower() == "none":
            continue
        items.append((name[:300], _number(f"LoRA weight of {name[:40]}", weight, *LORA_WEIGHT_RANGE)))
    if len(items) > MAX_LORAS:
        raise BadInput(f"At most {MAX_LORAS} LoRAs at once (got {len(items)}).")
    return tuple(items)


def images_in(request: ImageRequest) -> int:
    """How many images ``request`` draws: ``image_number`` seeds × its prompt's array combinations."""
    return int(request.image_number) * prompt_arrays.combinations(request.prompt)


def _check_count(request: ImageRequest) -> None:
    combinations = prompt_arrays.combinations(request.prompt)
    if combinations > 1 and request.image_number * combinations > MAX_IMAGES:
        raise BadInput(
            f"The prompt's arrays give {combinations} images for each seed, and {request.image_number} seed(s) make "
            f"{request.image_number * combinations}; the limit is {MAX_IMAGES} a request. Lower the image number or "
            "use fewer items."
        )


def checked(request: ImageRequest, styles_folder: Path | None = styles.DEFAULT_FOLDER) -> ImageRequest:
    """The request with every field validated and normalised (the seed still as given).
    ``styles_folder``: where the user's own style files are (the styles_dir setting)."""
    task = str(request.task)
    if task not in TASKS:
        raise BadInput(f"Task must be one of {', '.join(TASKS)}.")
    if task in ("img2img", "inpaint") and request.init_image is None:
        raise BadInput("Give an image to start from.")
    if task == "inpaint" and request.mask_image is None:
        raise BadInput("Give a mask: the part of the image to repaint.")
    size = {}
    for side in ("width", "height"):
        value = getattr(request, side)
        if value not in (None, "", 0):
            size[side] = _number(side.capitalize(), value, MIN_SIDE, MAX_SIDE, whole=True)
    if len(size) == 1:
        raise BadInput("Give both width and height, or neither (then the aspect ratio is used).")
    aspect = request.aspect_ratio
    if not size:
        presets.parse_aspect(aspect)
    done = replace(
        request,
        prompt=check_text("prompt", request.prompt),
        negative_prompt=check_text("negative prompt", request.negative_prompt),
        original_prompt=check_text("original prompt", request.original_prompt),
        styles=styles.check_names(request.styles, styles_folder),
        performance=presets.performance(request.performance).name,
        image_number=_number("Image number", request.image_number, 1, MAX_IMAGES, whole=True),
        checkpoint=str(request.checkpoint or "").strip()[:300],
        loras=_loras(request.loras),
        width=size.get("width"),
        height=size.get("height"),
        steps=None if request.steps in (None, "", 0) else _number("Steps", request.steps, 1, MAX_STEPS, whole=True),
        cfg=None if request.cfg in (None, "") or (isinstance(request.cfg, float) and request.cfg != request.cfg)
        else _number("CFG", request.cfg, 0.0, MAX_CFG),
        scheduler=(str(request.scheduler).strip() or None) if request.scheduler else None,
        strength=_number("Denoise strength", request.strength, 0.01, 1.0),
        image_prompts=image_prompt_slots.check_slots(request.image_prompts),
        sharpness=_number("Sharpness", request.sharpness, *guidance.SHARPNESS_RANGE),
        adaptive_cfg=_number("Adaptive CFG", request.adaptive_cfg, *guidance.ADAPTIVE_CFG_RANGE),
        adm_scaler_positive=_number("Positive ADM scaler", request.adm_scaler_positive, *guidance.ADM_SCALE_RANGE),
        adm_scaler_negative=_number("Negative ADM scaler", request.adm_scaler_negative, *guidance.ADM_SCALE_RANGE),
        adm_scaler_end=_number("ADM guidance end", request.adm_scaler_end, *guidance.ADM_END_RANGE),
        clip_skip=None if request.clip_skip in (None, "", 0)
        else _number("CLIP skip", request.clip_skip, *CLIP_SKIP_RANGE, whole=True),
    )
    _check_count(done)
    return done


@dataclass
class ImageResult:
    image: Image.Image
    seed: int
    prompt: str  # exactly what the model was given (styles applied)
    negative_prompt: str
    parameters: dict[str, Any]  # everything needed to reproduce it (see metadata)
    path: str | None = None  # the saved PNG
    steps_run: int = 0  # denoising steps the pipeline actually ran (counted by its callback)
    scheduler_used: str = ""  # the scheduler class the pipeline actually stepped with
    notes: list[str] = field(default_factory=list)

    def save(self, folder: Path | None) -> "ImageResult":
        """Saved as a PNG with its parameters in ``folder`` (when given); screened first (studio.safety)."""
        from studio import safety

        safety.screen_result(self, self.parameters)
        if folder is not None:
            self.path = str(outputs.save_png(folder, self.image, self.parameters["a1111"], self.parameters, self.seed))
        return self

    def summary(self) -> dict[str, Any]:
        return {
            "file_name": Path(self.path).name if self.path else None, "seed": self.seed, "prompt": self.prompt, "negative_prompt": self.negative_prompt,
            "width": self.image.width, "height": self.image.height, "steps_run": self.steps_run,
            "scheduler": self.scheduler_used, "parameters": self.parameters, "notes": self.notes,
        }
