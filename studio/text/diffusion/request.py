"""A diffusion-text request, its checks, and the plain records a run streams and returns.

Everything here is plain data (str, int, float, lists): a ZeroGPU worker or a cluster replica
pickles the request in and every record out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from studio.errors import BadInput
from studio.models.catalog import entry
from studio.text.diffusion.schedule import block_count
from studio.text.diffusion.selection import REMASKING_RULES
from studio.text.generate import resolve_seed
from studio.text.limits import MAX_MODEL_ID_CHARS, MAX_PROMPT_CHARS, bounded_text, shown
from studio.text.sampling import number

CATALOG_NAME = "diffusion_text"
DEFAULT_MODEL = entry(CATALOG_NAME).default  # named in refusals as a model that works
# Answer tokens. Every step reads prompt + answer in one pass, and the result keeps the whole
# answer after every step (up to length x steps strings), which crosses a pickle and a JSON answer.
MAX_LENGTH = 512
MAX_TEMPERATURE = 2.0

# Diffusion LMs published with their own modelling code (config.json's auto_map points at a Python
# file in the repo): model id -> (model_type, the file). Known here so that the refusal names the
# reason even offline; any other id is checked against its config.json when it is loaded.
NEEDS_REMOTE_CODE: dict[str, tuple[str, str]] = {
    "gsai-ml/llada-8b-instruct": ("llada", "modeling_llada.py"),
    "gsai-ml/llada-8b-base": ("llada", "modeling_llada.py"),
    "dream-org/dream-v0-instruct-7b": ("Dream", "modeling_dream.py"),
    "dream-org/dream-v0-base-7b": ("Dream", "modeling_dream.py"),
    "apple/diffucoder-7b-instruct": ("Dream", "modeling_dream.py"),
}


def remote_code_refusal(model_id: str, code_file: str) -> BadInput:
    return BadInput(
        f"{model_id} needs trust_remote_code (its config loads the repo's own {code_file}), and the "
        f"studio never runs Python code downloaded from the Hub: pick a masked LM that transformers "
        f"loads natively, such as {DEFAULT_MODEL}."
    )


def _natively_supported(model_type: str) -> bool:
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    return model_type in CONFIG_MAPPING_NAMES


def check_remote_code(model_id: str) -> None:
    """Refuse a known remote-code diffusion LM at the door (unless transformers has it by now)."""
    known = NEEDS_REMOTE_CODE.get(model_id.strip().lower())
    if known is not None and not _natively_supported(known[0]):
        raise remote_code_refusal(model_id.strip(), known[1])


@dataclass
class DiffusionRequest:
    """One diffusion run. ``model_id`` "" is the catalog's default; ``seed`` -1 draws one."""

    prompt: str
    model_id: str = ""
    length: int = 64  # answer tokens, all [MASK] at the start
    steps: int = 32  # forward passes; tokens per step = length / steps
    block_length: int = 32  # semi-autoregressive blocks, filled left to right; >= length: one block
    remasking: str = "low_confidence"  # low_confidence | random
    temperature: float = 0.0  # 0: the most likely token at every position
    seed: int = -1


def check_request(request: DiffusionRequest) -> DiffusionRequest:
    """The same request with numbers coerced and the seed drawn, or BadInput with one sentence.

    The prompt may be empty here: a model without a chat template can generate from nothing;
    a chat model's refusal comes once its tokenizer is known (``stream``)."""
    model_id = bounded_text(request.model_id, "model id", MAX_MODEL_ID_CHARS).strip()
    if model_id:
        check_remote_code(model_id)
    length = number("The answer length", request.length, int)
    if length < 1:
        raise BadInput(f"The answer length must be at least 1 token, not {length}: there is nothing to unmask.")
    if length > MAX_LENGTH:
        raise BadInput(f"The answer length can be at most {MAX_LENGTH} tokens, not {length}.")
    steps = number("Steps", request.steps, int)
    if steps < 1:
        raise BadInput(f"Steps must be at least 1 (each step is one pass of the model), not {steps}.")
    if steps > length:
        raise BadInput(
            f"Steps ({steps}) cannot be more than the answer length ({length} tokens): each step unmasks at least one token."
        )
    block_length = number("The block length", request.block_length, int)
    if block_length < 1:
        raise BadInput(f"The block length must be at least 1 token, not {block_length}.")
    block_length = min(block_length, length)  # a block longer than the answer is the whole answer
    blocks = block_count(length, block_length)
    if steps < blocks:
        raise BadInput(
            f"Blocks of {block_length} tokens cut the {length}-token answer into {blocks} blocks and each needs "
            f"at least one step: use at least {blocks} steps, or longer blocks."
        )
    remasking = str(request.remasking or "").strip().lower()
    if remasking not in REMASKING_RULES:
        raise BadInput(f"Remasking must be 'low_confidence' or 'random', not {shown(request.remasking)}.")
    temperature = number("Temperature", request.temperature, float)
    if not 0.0 <= temperature <= MAX_TEMPERATURE:
        raise BadInput(f"Temperature must be between 0 and {MAX_TEMPERATURE:g}, not {temperature:g}.")
    return replace(
        request,
        prompt=bounded_text(request.prompt, "prompt", MAX_PROMPT_CHARS),
        model_id=model_id,
        length=length,
        steps=steps,
        block_length=block_length,
        remasking=remasking,
        temperature=temperature,
        seed=resolve_seed(request.seed),
    )


@dataclass
class DiffusionStep:
    """The answer after one step (step 0: the starting row of masks, before any pass)."""

    step: int
    block: int  # the block being filled (0-based)
    tokens: list[str | None]  # each answer position: its token as text, None while masked
    unmasked: list[int]  # positions unmasked at this step, most confident (or first drawn) first
    confidences: list[float]  # the model's probability of each of those tokens, same order
    forward_passes: int  # model calls so far
    seconds: float  # since the first pass began

    @property
    def masked(self) -> int:
        return sum(token is None for token in self.tokens)


@dataclass
class DiffusionResult:
    text: str  # the decoded answer, special tokens and the end-of-answer marker removed
    steps: list[list[str | None]]  # the answer after each step: one list per forward pass
    forward_passes: int
    seconds: float
    seed: int
    model: str
    prompt_seen: str = ""  # what the model read before the answer, special tokens visible
    unmasked: list[list[int]] = field(default_factory=list)  # per step: the positions it unmasked
    confidences: list[list[float]] = field(default_factory=list)  # per step: their probabilities
    stopped_by: str = "finished"  # finished | stopped by you
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The JSON ``/diffuse_text`` returns: text, steps (null = masked), forward_passes, and the rest."""
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        data["confidences"] = [[round(p, 4) for p in row] for row in self.confidences]
        return data


@dataclass
class DiffusionUpdate:
    """One streamed record: a step, and on the last one the result as well."""

    step: DiffusionStep
    prompt_seen: str = ""
    result: DiffusionResult | None = None
