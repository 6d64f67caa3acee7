"""Face swap end to end, the one function the tab, the API and scripts call.

source photos -> detect -> the chosen source face's identity (averaged over several photos
of the same person) -> target photo -> detect -> the chosen target faces -> swap each ->
paste back -> optional restoration -> one saved PNG.

Consent and privacy: the source photos and their embeddings live only in memory for the
request; only the result is saved, like any other result, in its owner's folder.
"""

from __future__ import annotations

import re
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from studio import safety
from studio.errors import BadInput, shown
from studio.faces import detect as detection
from studio.faces import identity, paste, restore, swapper
from studio.faces.detect import Face
from studio.faces.images import Picture, open_picture
from studio.faces.onnx_model import ONNX_SUFFIX
from studio.models import model_files
from studio.models import catalog
from studio.models.specs import ModelSpec
from studio.pictures import metadata, outputs
from studio.replicated import model_key, replicated
from studio.tools.fields import PICTURE_KINDS, check_value, declared, fields_of

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from PIL import Image

    from studio.context import StudioContext
    from studio.faces.onnx_model import OnnxModel
    from studio.settings import Settings

DETECTOR, RECOGNISER, SWAPPER, RESTORER = "face_detector", "face_recogniser", "face_swapper", "face_restorer"
FACE_MODELS = (DETECTOR, RECOGNISER, SWAPPER, RESTORER)
MAX_SOURCES = 8
MAX_FACE_NUMBER = 99  # faces are numbered left to right; more in one photo is a crowd, not a swap
ALL, SIMILAR = "all", "similar"
MIN_SIMILAR_DEFAULT = -1.0  # "similar" picks the best match, however weak, unless a floor is set


def model_spec(studio: StudioContext, name: str, model_id: str = "") -> ModelSpec:
    """A catalog model (its twin in the tiny profile), or a .onnx file from the faces folder."""
    model_id = (model_id or "").strip()
    if model_id and model_id.endswith(ONNX_SUFFIX) and model_id not in catalog.choices(studio.settings, name):
        path = model_files.resolve(studio.settings.faces_dir, model_id, "face model")
        return ModelSpec(kind="onnx", source=str(path.resolve()), label=name)
    return studio.spec(name, model_id or None)


def local_models(settings: Settings) -> list[str]:
    """.onnx files the user put in the faces folder (listed fresh, no restart needed)."""
    return model_files.list_files(settings.faces_dir, (ONNX_SUFFIX,))


def offered(settings: Settings, name: str) -> list[str]:
    """Choices for the model of role ``name`` (a FACE_MODELS entry): the catalog's, then local files."""
    return catalog.choices(settings, name) + local_models(settings)


def _models(role: str) -> Any:
    """A model role's field: the catalog's choices and the faces folder's files, or any Hub id."""
    return declared("", choices=lambda settings: offered(settings, role) if settings is not None else [],
                    custom=True, hint="dropdown", doc=f"'' = the default {role.replace('_', ' ')}, a catalog id "
                                                       "or a .onnx file in the faces folder")


@dataclass
class SwapRequest:
    """A face swap, declared once (studio.tools.fields): the request's checks, the Face swap tab's
    controls and /swap_faces's parameters all read these fields."""

    source_images: list[Any] = declared(kind="pictures", label="faceswap.sources",
                                        doc="one or more photos of the same person")
    target_image: Any = declared(kind="picture", label="faceswap.target", doc="where the face goes")
    # Its number in the first source photo (faces are numbered left to right).
    source_face: int = declared(1, low=1, high=MAX_FACE_NUMBER, label="faceswap.source_face",
                                info="faceswap.source_face_info", hint="number")
    target_faces: str = declared(ALL, label="faceswap.which", info="faceswap.which_info",
                                 doc="'all', numbers like '2' or '1, 3', or 'similar'")
    reference_image: Any = declared(None, kind="picture", label="faceswap.reference",
                                    doc="for 'similar': the face to look for in the target")
    blend: float = declared(1.0, low=0.0, high=1.0, step=0.05, label="faceswap.blend", info="faceswap.blend_info")
    mask_feather: float = declared(0.1, low=0.0, high=0.5, step=0.01, label="faceswap.feather",
                                   info="faceswap.feather_info")
    mask_region: str = declared("box", choices=paste.REGIONS, choice_labels="faceswap.region", hint="radio",
                                label="faceswap.region")
    restore_strength: float = declared(0.0, low=0.0, high=1.0, step=0.05, label="faceswap.restore",
                                       info="faceswap.restore_info", doc="0 = no restoration")
    score_threshold: float = declared(detection.DEFAULT_SCORE, low=0.0, high=1.0, step=0.05,
                                      label="faceswap.threshold")
    detector: str = _models(DETECTOR)
    recogniser: str = _models(RECOGNISER)
    swapper: str = _models(SWAPPER)
    restorer: str = _models(RESTORER)

    def check(self) -> None:
        """The declared ranges and choices (keyed sentences), then what only a swap knows."""
        for item in fields_of(SwapRequest):
            if item.kind not in PICTURE_KINDS:  # the photos are read with their own sentences
                setattr(self, item.name, check_value(item, getattr(self, item.name)))
        if not self.source_images:
            raise BadInput("Upload at least one source photo: the face to put in.", key="errors.faces_no_source")
        if len(self.source_images) > MAX_SOURCES:
            raise BadInput(f"Use at most {MAX_SOURCES} source photos of the same person (got {len(self.source_images)}).")

    def settings_record(self) -> dict[str, Any]:
        """What is saved with the result: the choices, never the source photos or identity."""
        return {
            "source_face": self.source_face, "target_faces": self.target_faces, "blend": self.blend,
            "mask_feather": self.mask_feather, "mask_region": self.mask_region,
            "restore_strength": self.restore_strength, "score_threshold": self.score_threshold,
        }


@dataclass
class SwapResult:
    image: Image.Image
    before: Image.Image  # the target as uploaded
    source_faces: list[Face]
    target_faces: list[Face]
    replaced: list[int]  # target face numbers
    path: str | None = None
    models: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    a1111: str = ""  # the PNG's "parameters" text
    record: dict[str, Any] = field(default_factory=dict)  # the request's settings, saved with the PNG

    def save(self, owner: Path | None) -> "SwapResult":
        """Saved as a PNG with its settings in ``owner`` (a results folder, when given)."""
        safety.screen_result(self, self.record)  # before anyone sees or keeps it
        if owner is not None:
            self.path = str(outputs.save_png(owner, self.image, self.a1111, self.record, seed=None, kind="face swap"))
        return self

    def summary(self) -> dict[str, Any]:
        return {
            "replaced": self.replaced,
            "source_faces": [f.as_dict(i) for i, f in enumerate(self.source_faces, 1)],
            "target_faces": [f.as_dict(i) for i, f in enumerate(self.target_faces, 1)],
            "models": self.models,
            "seconds": {k: round(v, 4) for k, v in self.timings.items()},
            "notes": self.notes,
            "file_name": Path(self.path).name if self.path else None,
        }


def parse_target_faces(choice: Any, count: int) -> list[int] | str:
    """"all" / "similar" as they are; "2" or "1, 3" as checked face numbers."""
    if isinstance(choice, (list, tuple)):
        choice = ",".join(str(c) for c in choice)
    text = str(choice if choice is not None else ALL).strip().lower()
    if text in ("", ALL):
        return ALL
    if text in (SIMILAR, "most similar"):
        return SIMILAR
    parts = [p for p in re.split(r"[,\s]+", text) if p]
    if not all(p.isdigit() for p in parts):
        raise BadInput(f"Say which faces to replace as 'all', 'similar' or numbers like '2' or '1, 3' (got {shown(choice)}).")
    numbers = sorted({int(p) for p in parts})
    wrong = [n for n in numbers if not 1 <= n <= count]
    if wrong:
        raise BadInput(f"The target photo has {count} face{'s' if count != 1 else ''} (numbers 1–{count}); "
                       f"there is no face {', '.join(map(str, wrong))}.")
    return numbers


class _Timer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def add(self, stage: str, started: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - started


@replicated("find_faces", lambda arguments: model_key("faces", arguments["detector"]))
def find_faces(studio: StudioContext, image: Any, score_threshold: float = detection.DEFAULT_SCORE,
               detector: str = "") -> tuple[Picture, list[Face]]:
    """The picture and its faces, numbered left to right."""
    picture = open_picture(image)
    if not 0 <= float(score_threshold) <= 1:
        raise BadInput(f"The detection threshold must be between 0 and 1 (got {score_threshold}).")
    with studio.cache.use(model_spec(studio, DETECTOR, detector)) as model:
        faces = studio.cache.run(lambda: detection.detect(model, picture.rgb, float(score_threshold)))
    return picture, faces


def _source_identity(studio: StudioContext, request: SwapRequest, detector: OnnxModel, recogniser: OnnxModel,
                     timer: _Timer) -> tuple[np.ndarray, list[Face]]:
    embeddings: list[np.ndarray] = []
    first_faces: list[Face] = []
    for index, source in enumerate(request.source_images, start=1):
        picture = open_picture(source, f"Source photo {index}")
        started = time.perf_counter()
        faces = detection.detect(detector, picture.rgb, request.score_threshold)
        timer.add("detect", started)
        if not faces:
            raise BadInput(f"No face was found in source photo {index} ({picture.name}). Use a photo where the face "
                           "is clear and not too small, or lower the detection threshold.",
                           key="errors.faces_none_in_source", index=index, name=picture.name)
        started = time.perf_counter()
        if index == 1:
            number = int(request.source_face or 1)
            if not 1 <= number <= len(faces):
                raise BadInput(f"The source photo has {len(faces)} face{'s' if len(faces) != 1 else ''}; "
                               f"pick a number from 1 to {len(faces)} (got {number}).")
            first_faces = faces
            embeddings.append(identity.embed(recogniser, picture.rgb, faces[number - 1].landmarks))
        else:  # the same person in another photo: the face most like the first photo's
            candidates = [identity.embed(recogniser, picture.rgb, f.landmarks) for f in faces]
            embeddings.append(max(candidates, key=lambda e: float(np.dot(e, embeddings[0]))))
        timer.add("embed", started)
    return identity.average(embeddings), first_faces


def _choose_targets(studio: StudioContext, request: SwapRequest, target: Picture, faces: list[Face],
                    detector: OnnxModel, recogniser: OnnxModel, timer: _Timer) -> list[int]:
    choice = parse_target_faces(request.target_faces, len(faces))
    if choice == ALL:
        return list(range(1, len(faces) + 1))
    if choice != SIMILAR:
        return choice
    if request.reference_image is None:
        raise BadInput("'Most similar' needs a reference photo of the person whose face should be replaced.",
                       key="errors.faces_need_reference")
    reference = open_picture(request.reference_image, "The reference photo")
    started = time.perf_counter()
    found = detection.detect(detector, reference.rgb, request.score_threshold)
    timer.add("detect", started)
    if not found:
        raise BadInput("No face was found in the reference photo. Use a clearer one, or lower the detection threshold.",
                       key="errors.faces_none_in_reference")
    started = time.perf_counter()
    wanted = identity.embed(recogniser, reference.rgb, max(found, key=lambda f: f.area).landmarks)
    scores = [float(np.dot(identity.embed(recogniser, target.rgb, f.landmarks), wanted)) for f in faces]
    timer.add("embed", started)
    return [int(np.argmax(scores)) + 1]


@replicated("swap_faces", lambda arguments: model_key("faces", arguments["request"].swapper), folder="owner")
def swap_faces(studio: StudioContext, request: SwapRequest, owner: Path | None = None) -> SwapResult:
    """Swap the chosen faces; save the result under ``owner`` (a results folder) when given."""
    request.check()
    target = open_picture(request.target_image, "The target photo")
    timer = _Timer()
    names = {DETECTOR: request.detector, RECOGNISER: request.recogniser, SWAPPER: request.swapper}
    if request.restore_strength > 0:
        names[RESTORER] = request.restorer
    specs = {name: model_spec(studio, name, model_id) for name, model_id in names.items()}
    with ExitStack() as stack:  # every model pinned for the whole request
        started = time.perf_counter()
        models = {name: stack.enter_context(studio.cache.use(spec)) for name, spec in specs.items()}
        timer.add("load", started)
        swapper.check_swapper(models[SWAPPER])
        identity.check_recogniser(models[RECOGNISER])
        detection.check_detector(models[DETECTOR])
        if RESTORER in models:
            restore.check_restorer(models[RESTORER])

        def work() -> tuple[np.ndarray, list[Face], list[Face], list[int]]:
            source_embedding, source_faces = _source_identity(studio, request, models[DETECTOR], models[RECOGNISER], timer)
            started = time.perf_counter()
            target_faces = detection.detect(models[DETECTOR], target.rgb, request.score_threshold)
            timer.add("detect", started)
            if not target_faces:
                raise BadInput(f"No face was found in the target photo ({target.name}). Use a photo where the face "
                               "is clear and not too small, or lower the detection threshold.",
                               key="errors.faces_none_in_target", name=target.name)
            chosen = _choose_targets(studio, request, target, target_faces, models[DETECTOR], models[RECOGNISER], timer)
            result = target.rgb.copy()  # the one copy; every face is pasted into it in place
            for number in chosen:
                face = target_faces[number - 1]
                started = time.perf_counter()
                new_face, crop, matrix = swapper.swap(models[SWAPPER], target.rgb, face.landmarks, source_embedding)
                timer.add("swap", started)
                started = time.perf_counter()
                paste.paste(result, new_face, matrix, request.blend, request.mask_feather, request.mask_region,
                            original_crop=crop, inplace=True)
                timer.add("paste", started)
                if RESTORER in models:
                    started = time.perf_counter()
                    restore.restore(models[RESTORER], result, face.landmarks, request.restore_strength,
                                    request.mask_feather, inplace=True)
                    timer.add("restore", started)
            return result, source_faces, target_faces, chosen

        pixels, source_faces, target_faces, chosen = studio.cache.run(work)
    result = SwapResult(
        image=target.to_pil(pixels), before=target.to_pil(), source_faces=source_faces, target_faces=target_faces,
        replaced=chosen, models={name: spec.source for name, spec in specs.items()}, timings=timer.seconds,
    )
    if studio.settings.is_tiny:
        result.notes.append("Tiny profile: the models have random weights, so the new face is noise; the steps are real.")
    fields = {"Tool": "face swap", "Replaced faces": ", ".join(map(str, result.replaced)),
              "Blend": request.blend, "Mask feather": request.mask_feather, "Mask": request.mask_region,
              "Restoration": request.restore_strength, "Swapper": result.models.get(SWAPPER, "")}
    result.a1111 = metadata.a1111_text("face swap", "", fields)
    result.record = {"tool": "faceswap", "faceswap": request.settings_record(), "models": result.models}
    started = time.perf_counter()
    result.save(owner)  # screened (studio.safety) even when it is not kept
    timer.add("save", started)
    return result
