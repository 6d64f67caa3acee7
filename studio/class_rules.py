"""A class's rules: what one student may ask for, set by the teacher (``--student-*`` at start,
the Teacher tab while the class runs). The teacher is never limited. No Gradio here: the tabs ask
whether a requester is the teacher and call these checks before any work is queued.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from studio.errors import BadInput
from studio.settings import Settings


@dataclass(frozen=True)
class ClassLimits:
    runs: int  # GPU runs going or waiting at once
    images: int  # images per request
    megapixels: float  # the largest picture made
    steps: int  # diffusion steps per image
    train_steps: int  # steps of a training job
    train_jobs: int  # training jobs running or waiting
    safety: bool  # pictures checked before anyone sees them
    allowed_models: tuple[str, ...] = field(default=())  # Hub ids beyond the catalog

    @classmethod
    def from_settings(cls, settings: Settings) -> "ClassLimits":
        return cls(runs=settings.student_runs, images=settings.student_images,
                   megapixels=settings.student_megapixels, steps=settings.student_steps,
                   train_steps=settings.student_train_steps, train_jobs=settings.student_jobs,
                   safety=settings.safety_on, allowed_models=tuple(settings.allow_model))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# What each limit may be set to in the Teacher tab (the same bounds as the flags).
BOUNDS = {"runs": (1, 100), "images": (1, 8), "megapixels": (0.05, 16.0), "steps": (1, 150),
          "train_steps": (1, 1_000_000), "train_jobs": (1, 20)}


class ClassRules:
    """The limits in force, changed only by the teacher (``update``)."""

    def __init__(self, settings: Settings):
        self._lock = threading.Lock()
        self.limits = ClassLimits.from_settings(settings)

    def update(self, **changes: Any) -> ClassLimits:
        """New limits (from the Teacher tab); a value out of its bounds is refused with a sentence."""
        known = {f.name for f in fields(ClassLimits)}
        clean: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in known:
                raise BadInput(f"There is no limit called {str(name)[:40]!r}.")
            if name in BOUNDS:
                low, high = BOUNDS[name]
                number = _number(name, value)
                if not low <= number <= high:
                    raise BadInput(f"The limit {name.replace('_', ' ')} must be between {low:g} and {high:g}.")
                value = number if name == "megapixels" else int(number)
            elif name == "safety":
                value = bool(value)
            elif name == "allowed_models":
                value = tuple(str(v).strip() for v in (value or ()) if str(v).strip())
            clean[name] = value
        with self._lock:
            self.limits = replace(self.limits, **clean)
            return self.limits

    # -- checks, each a sentence that names the limit --

    def check_images(self, count: int, width: int, height: int, steps: int) -> None:
        limits = self.limits
        if count > limits.images:
            raise BadInput(f"Your teacher allows at most {limits.images} image(s) per request; you asked for {count}.",
                           key="errors.class_images", most=limits.images, asked=count)
        megapixels = width * height / 1e6
        if megapixels > limits.megapixels + 1e-9:
            raise BadInput(f"{width}×{height} is {megapixels:.2f} megapixels; your teacher allows at most "
                           f"{limits.megapixels:g}. Pick a smaller size.", key="errors.class_megapixels",
                           size=f"{width}×{height}", megapixels=f"{megapixels:.2f}", most=f"{limits.megapixels:g}")
        if steps > limits.steps:
            raise BadInput(f"Your teacher allows at most {limits.steps} steps; you asked for {steps}.",
                           key="errors.class_steps", most=limits.steps, asked=steps)

    def check_load(self, load: Any) -> None:
        """A picture request's workload (studio.image.gpu_seconds.Workload) against the limits."""
        self.check_images(load.images, load.width, load.height, load.steps)

    def check_training(self, steps: int, jobs_going: int) -> None:
        limits = self.limits
        if steps > limits.train_steps:
            raise BadInput(f"Your teacher allows at most {limits.train_steps} training steps; you asked for {steps}.",
                           key="errors.class_train_steps", most=limits.train_steps, asked=steps)
        if jobs_going >= limits.train_jobs:
            raise BadInput(f"You already have {jobs_going} training job(s) running or waiting, the most your "
                           f"teacher allows ({limits.train_jobs}). Wait for one to finish, or cancel one.",
                           key="errors.class_train_jobs", going=jobs_going, most=limits.train_jobs)

    def check_model(self, model_id: str, offered: list[str]) -> None:
        """A student picks from the offered list (the catalog, files in the model folders) or the
        teacher's allow-list; any other Hub id would download gigabytes for the whole class."""
        model_id = str(model_id or "").strip()
        if not model_id or model_id in offered or model_id in self.limits.allowed_models:
            return
        raise BadInput(f"{model_id[:80]!r} is not on this class's list of models: pick one from the list, or ask "
                       "your teacher to allow it.", key="errors.class_model", model=repr(model_id[:80]))


def _number(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInput(f"The limit {name.replace('_', ' ')} must be a number.") from None
    if number != number:  # NaN
        raise BadInput(f"The limit {name.replace('_', ' ')} must be a number.")
    return number
