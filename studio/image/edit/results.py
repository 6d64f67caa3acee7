"""An edit's result: the picture, what was done (in the PNG like every other result, so the
Image tab's history lists it and other SD tools read its settings), and notes for the user."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio import safety
from studio.pictures import metadata, outputs
from studio.image.generate import APP_NAME

if TYPE_CHECKING:
    from PIL import Image

# The edit settings written into the A1111 text (all of them are in the "studio" JSON chunk).
A1111_KEYS = ("mode", "upscaler", "refine_denoise", "strength", "mask_grow", "mask_feather", "only_masked_area",
              "left", "right", "top", "bottom", "seam_feather", "input_size")


@dataclass
class EditResult:
    image: Image.Image  # RGB
    tool: str  # upscale | vary | inpaint | outpaint
    settings: dict[str, Any]  # the edit's own settings, JSON-safe
    seed: int | None = None
    steps_run: int = 0
    diffusion: dict[str, Any] | None = None  # the ImageResult parameters of the diffusion part
    path: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def parameters(self) -> dict[str, Any]:
        data: dict[str, Any] = {"edit": {"tool": self.tool, **self.settings}}
        if self.diffusion:
            data.update({k: v for k, v in self.diffusion.items() if k != "a1111"})
        return data

    def a1111(self) -> str:
        """The A1111 "parameters" text: the diffusion part's, with this result's size and the edit."""
        if self.diffusion and self.diffusion.get("a1111"):
            parsed = metadata.parse_a1111(self.diffusion["a1111"])
            prompt, negative, fields = parsed["prompt"], parsed["negative_prompt"], dict(parsed["fields"])
        else:
            prompt, negative, fields = "", "", {"Steps": 0}
        fields["Size"] = f"{self.image.width}x{self.image.height}"
        fields["Edit"] = self.tool
        for key in A1111_KEYS:
            value = self.settings.get(key)
            if value not in (None, "") and not isinstance(value, (dict, list)):
                fields[f"Edit {key.replace('_', ' ')}"] = value
        fields.setdefault("Version", APP_NAME)
        return metadata.a1111_text(prompt, negative, fields)

    def save(self, folder: Path | None) -> "EditResult":
        safety.screen_result(self, self.parameters)  # before anyone sees or keeps it
        if folder is not None:
            self.path = str(outputs.save_png(folder, self.image, self.a1111(), self.parameters, self.seed, kind=self.tool))
        return self

    def summary(self) -> dict[str, Any]:
        return {
            "file_name": Path(self.path).name if self.path else None, "tool": self.tool,
            "width": self.image.width, "height": self.image.height, "seed": self.seed,
            "steps_run": self.steps_run, "parameters": self.parameters, "notes": self.notes,
        }
