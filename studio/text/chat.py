"""From a conversation to the exact string the model reads.

Chat mode uses the model's own chat template (``tokenizer.apply_chat_template``); a model
without one (a base model such as gpt2 or bloom) gets a plain "User:/Assistant:" transcript
and a note saying so. Completion mode feeds the passage as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

from studio.errors import BadInput
from studio.text.limits import MAX_PROMPT_CHARS, MAX_SYSTEM_PROMPT_CHARS, bounded_text, shown

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

MODES = ("chat", "completion")
NO_TEMPLATE_NOTE = (
    "This model has no chat template (it is a base model), so the conversation is written as a "
    "plain User:/Assistant: transcript. Completion mode suits it better."
)
ROLES = ("system", "user", "assistant")


@dataclass
class RenderedPrompt:
    text: str  # exactly what is tokenized, special tokens included
    add_special_tokens: bool  # False when a chat template already wrote BOS and friends
    notes: list[str]


def check_prompt(prompt: Any, what: str = "prompt") -> str:
    text = "" if prompt is None else str(prompt)
    if len(text) > MAX_PROMPT_CHARS:
        raise BadInput(
            f"The {what} has {len(text):,} characters; the limit is {MAX_PROMPT_CHARS:,}. "
            "Shorten it (a small model reads only a few thousand tokens anyway)."
        )
    if not text.strip():
        raise BadInput(f"The {what} is empty: type something for the model to continue or answer.",
                       key="errors.prompt_empty")
    return text


def check_system_prompt(system_prompt: Any) -> str:
    """May be empty; checked in both modes so that a giant value is refused the same way."""
    return bounded_text(system_prompt, "system prompt", MAX_SYSTEM_PROMPT_CHARS)


def check_mode(mode: Any) -> str:
    value = str(mode or "").strip().lower()
    if value not in MODES:
        raise BadInput(f"Mode must be 'chat' or 'completion', not {shown(mode)}.")
    return value


def build_messages(history: Iterable[dict] | None, user_message: str, system_prompt: str = "") -> list[dict]:
    """OpenAI-style messages: optional system prompt, earlier turns, the new user turn."""
    messages: list[dict] = []
    if system_prompt and system_prompt.strip():
        messages.append({"role": "system", "content": system_prompt.strip()})
    for turn in history or []:
        role, content = turn.get("role"), turn.get("content")
        if role in ("user", "assistant") and isinstance(content, str):
            messages.append({"role": role, "content": content})
    messages.append({"role": "user", "content": user_message})
    return messages


def has_chat_template(tokenizer: PreTrainedTokenizerBase) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def plain_transcript(messages: list[dict]) -> str:
    """The fallback for models without a template: a transcript ending where the reply goes."""
    names = {"system": "System", "user": "User", "assistant": "Assistant"}
    lines = [f"{names.get(m['role'], m['role'])}: {m['content']}" for m in messages]
    return "\n".join(lines) + "\nAssistant:"


def render_chat(tokenizer: PreTrainedTokenizerBase, messages: list[dict]) -> RenderedPrompt:
    if has_chat_template(tokenizer):
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return RenderedPrompt(text=text, add_special_tokens=False, notes=[])
    return RenderedPrompt(text=plain_transcript(messages), add_special_tokens=True, notes=[NO_TEMPLATE_NOTE])


def render_prompt(
    tokenizer: PreTrainedTokenizerBase, mode: str, prompt: str, history: Iterable[dict] | None = None,
    system_prompt: str = "",
) -> RenderedPrompt:
    if mode == "chat":
        return render_chat(tokenizer, build_messages(history, prompt, system_prompt))
    return RenderedPrompt(text=prompt, add_special_tokens=True, notes=[])


def encode(tokenizer: PreTrainedTokenizerBase, rendered: RenderedPrompt) -> list[int]:
    return list(tokenizer(rendered.text, add_special_tokens=rendered.add_special_tokens)["input_ids"])


def what_the_model_sees(tokenizer: PreTrainedTokenizerBase, input_ids: list[int]) -> str:
    """The token ids decoded back with every special token left visible (BOS, <|im_start|>, ...)."""
    return tokenizer.decode(input_ids, skip_special_tokens=False)
