"""What a generation returns, the same for the local and the remote backend."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from studio.text.sampling import SamplingSettings

if TYPE_CHECKING:
    from studio.text.adapters import TextAdapter


@dataclass
class GenerationRequest:
    prompt: str
    mode: str = "completion"  # chat | completion
    model_id: str | None = None  # catalog id (local) or the endpoint's model name (remote)
    system_prompt: str = ""
    history: list[dict] = field(default_factory=list)  # earlier chat turns, {"role", "content"}
    settings: SamplingSettings = field(default_factory=SamplingSettings)
    seed: int | None = None  # None or negative: a fresh random seed, reported back
    adapter: TextAdapter | None = None  # the requester's own (studio.text.adapters.resolve), local only


@dataclass
class TokenInfo:
    text: str
    probability: float | None  # of this token when it was chosen (after the sampling filters)
    alternatives: list[tuple[str, float]] = field(default_factory=list)  # best candidates then


@dataclass
class GenerationResult:
    text: str
    prompt_seen: str  # exactly what the model read, special tokens visible
    prompt_tokens: int
    generated_tokens: int
    seconds: float
    tokens_per_second: float
    time_to_first_token: float | None
    seed: int | None
    stopped_by: str  # "end of text" | "length" | "stop string" | "stopped by you"
    backend: str
    model: str
    tokens: list[TokenInfo] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    adapter: str = ""  # the trained adapter on the model, if any

    def summary(self) -> dict[str, Any]:
        """The JSON the /generate endpoint returns (per-token details left out)."""
        data = asdict(self)
        data.pop("tokens")
        data["tokens_per_second"] = round(self.tokens_per_second, 2)
        data["seconds"] = round(self.seconds, 3)
        if self.time_to_first_token is not None:
            data["time_to_first_token"] = round(self.time_to_first_token, 3)
        return data


@dataclass
class GenerationUpdate:
    """One streamed step: the reply so far; ``result`` is set on the last update only."""

    text: str
    prompt_seen: str = ""
    result: GenerationResult | None = None
