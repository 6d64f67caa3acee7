"""What the LLM is asked: a system prompt per length and target family, and the messages.

Kept apart from the generation so a test can compare the exact messages with a fixture.
"""

from __future__ import annotations

from studio.errors import BadInput
from studio.text import chat

LENGTHS = {  # name -> (what to ask for, max new tokens)
    "short": ("10 to 20 words", 64),
    "medium": ("25 to 40 words", 110),
    "rich": ("45 to 65 words", 170),
}
TARGETS = ("sdxl", "zimage")
ORDER = "the subject first (keep everything the user described), then medium, style, lighting, composition and details"

STYLE = {
    "sdxl": (
        "Write the prompt as comma-separated English phrases (SDXL tag style), for example: "
        "a red fox standing in deep snow, wildlife photograph, soft morning light, close-up, detailed fur"
    ),
    "zimage": (
        "Write the prompt as one or two natural English sentences, for example: "
        "A red fox stands in deep snow, photographed in soft morning light from close up, every hair of its fur sharp."
    ),
}
NEGATIVE = {
    "sdxl": "blurry, low quality, watermark",
    "zimage": "blurry, distorted, low quality",
}


def check_length(length: str) -> str:
    value = str(length or "").strip().lower()
    if value not in LENGTHS:
        raise BadInput(f"Length must be one of {', '.join(LENGTHS)}, not {str(length)[:30]!r}.")
    return value


def check_target(target: str) -> str:
    value = str(target or "").strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    value = {"zimageturbo": "zimage", "sd15": "sdxl"}.get(value, value)
    if value not in TARGETS:
        raise BadInput(f"Target must be 'sdxl' (comma-separated tags) or 'zimage' (sentences), not {str(target)[:30]!r}.")
    return value


def system_prompt(length: str, target: str) -> str:
    words, _ = LENGTHS[check_length(length)]
    target = check_target(target)
    return "\n".join([
        "You turn an idea for a picture, written in any language (often Traditional Chinese), "
        "into an English prompt for an image generator.",
        f"Order: {ORDER}. Length: {words}.",
        STYLE[target] + ".",
        "Translate faithfully: do not add people, objects or text the user did not ask for.",
        "Answer with exactly two lines and nothing else:",
        "Prompt: <the English prompt>",
        f"Negative: <things to avoid, e.g. {NEGATIVE[target]}>",
    ])


def user_message(text: str) -> str:
    return f"Idea: {text.strip()}"


def messages(text: str, length: str = "medium", target: str = "sdxl") -> list[dict]:
    """The chat messages sent to the LLM (OpenAI style), as the Text tab builds them."""
    return chat.build_messages([], user_message(text), system_prompt(length, target))


def max_new_tokens(length: str) -> int:
    return LENGTHS[check_length(length)][1]
