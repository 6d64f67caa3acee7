"""Any OpenAI-compatible endpoint (LM Studio, Ollama, vLLM, TGI, llama.cpp, hosted APIs).

Chat mode posts to ``/chat/completions``, completion mode to ``/completions``, both streamed
as server-sent events. The API key comes from the UI, or from ``STUDIO_OPENAI_API_KEY`` but
then only for the server's own endpoint ``STUDIO_OPENAI_BASE_URL`` (a student must not be
able to send the teacher's key to a URL of their choosing). It only ever goes into the
Authorization header: never into results, errors or logs.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator

from studio.errors import BadInput, StudioError
from studio.text import chat
from studio.text.explorer import Candidate, NextTokenTable, check_top_n
from studio.text.filtering import filter_logits
from studio.text.generate import checked_request, resolve_seed
from studio.text.limits import MAX_API_KEY_CHARS, MAX_ENDPOINT_MODEL_CHARS, MAX_ENDPOINT_URL_CHARS, bounded_text
from studio.text.results import GenerationRequest, GenerationResult, GenerationUpdate
from studio.text.sampling import SamplingSettings, validate

if TYPE_CHECKING:
    import httpx

API_KEY_ENV = "STUDIO_OPENAI_API_KEY"
BASE_URL_ENV = "STUDIO_OPENAI_BASE_URL"
MAX_TOP_LOGPROBS = 20  # the OpenAI API's ceiling
CONNECT_SECONDS, READ_SECONDS = 10.0, 120.0
NO_LOGPROBS = (
    "This endpoint does not return token probabilities (logprobs), so the explorer cannot show the "
    "next-token candidates. Use the local backend, or a server that supports logprobs on "
    "/completions (vLLM, llama.cpp server, TGI)."
)
SERVER_TEMPLATE_NOTE = (
    "The server applies the model's chat template itself; below are the messages that were sent."
)


def server_endpoint() -> str:
    """The endpoint the server's owner configured (may use the server's API key), or ''."""
    return os.environ.get(BASE_URL_ENV, "").strip().rstrip("/")


@dataclass(frozen=True)
class RemoteEndpoint:
    base_url: str  # e.g. http://localhost:1234/v1
    model: str
    api_key: str = field(default="", repr=False)  # never printed

    @classmethod
    def from_inputs(cls, base_url: str, model: str, api_key: str = "") -> "RemoteEndpoint":
        url, model, key = check_endpoint_fields(base_url, model, api_key)
        url = url.strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise BadInput("The endpoint URL must start with http:// or https://, e.g. http://localhost:1234/v1.")
        if not model.strip():
            raise BadInput("Type the model name the endpoint serves (e.g. qwen2.5-1.5b-instruct).")
        key = key.strip()
        if not key and url == server_endpoint():
            key = os.environ.get(API_KEY_ENV, "")
        return cls(url, str(model).strip(), key)

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers


def check_endpoint_fields(base_url: Any, model: Any, api_key: Any) -> tuple[str, str, str]:
    """The three endpoint fields as strings, each within its bound (the key's length only is
    named in an error, never the key)."""
    return (
        bounded_text(base_url, "endpoint URL", MAX_ENDPOINT_URL_CHARS),
        bounded_text(model, "endpoint model name", MAX_ENDPOINT_MODEL_CHARS),
        bounded_text(api_key, "API key", MAX_API_KEY_CHARS),
    )


def _body(settings: SamplingSettings, seed: int | None) -> dict[str, Any]:
    """Standard OpenAI fields; top-k / min-p / repetition penalty only when switched on, since
    they are extensions (vLLM, llama.cpp, LM Studio accept them; hosted OpenAI refuses them)."""
    body: dict[str, Any] = {
        "max_tokens": settings.max_new_tokens,
        "temperature": settings.temperature if settings.samples else 0.0,
        "top_p": settings.top_p if settings.samples else 1.0,
    }
    if settings.samples and settings.top_k > 0:
        body["top_k"] = settings.top_k
    if settings.samples and settings.min_p > 0:
        body["min_p"] = settings.min_p
    if settings.repetition_penalty != 1.0:
        body["repetition_penalty"] = settings.repetition_penalty
    if settings.stop_strings:
        body["stop"] = list(settings.stop_strings)[:4]  # the OpenAI API takes at most 4
    if seed is not None and seed >= 0:
        body["seed"] = seed
    return body


def _error_for(endpoint: RemoteEndpoint, response: httpx.Response) -> StudioError:
    try:
        detail = response.read().decode("utf-8", "replace")[:300]
    except Exception:  # the body is only a hint
        detail = ""
    if endpoint.api_key:
        detail = detail.replace(endpoint.api_key, "***")
    if response.status_code in (401, 403):
        return StudioError(
            f"The endpoint refused the request ({response.status_code}): check the API key "
            f"(the UI field or the {API_KEY_ENV} environment variable)."
        )
    if response.status_code == 404:
        return StudioError(f"{response.url} was not found (404): check the base URL (it usually ends in /v1) and the model name. {detail}")
    return StudioError(f"The endpoint answered {response.status_code}: {detail}")


def _post(endpoint: RemoteEndpoint, path: str, body: dict[str, Any], stream: bool):
    import httpx

    client = httpx.Client(timeout=httpx.Timeout(READ_SECONDS, connect=CONNECT_SECONDS))
    try:
        request = client.build_request("POST", endpoint.base_url + path, json=body, headers=endpoint.headers())
        response = client.send(request, stream=stream)
    except httpx.HTTPError as exc:
        client.close()
        raise StudioError(f"Cannot reach {endpoint.base_url}: {type(exc).__name__}. Is the server running?") from None
    if response.status_code >= 400:
        error = _error_for(endpoint, response)
        response.close()
        client.close()
        raise error
    return client, response


def _sse_events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """The JSON payloads of a ``text/event-stream`` response, up to ``data: [DONE]``."""
    for line in response.iter_lines():
        if not line.startswith("data:"):
            continue  # comments, event names, keep-alives
        data = line[len("data:"):].strip()
        if data == "[DONE]":
            return
        try:
            yield json.loads(data)
        except json.JSONDecodeError:
            raise StudioError(f"The endpoint sent something that is not JSON: {data[:120]!r}") from None


def _delta_text(event: dict[str, Any]) -> str:
    choices = event.get("choices") or []
    if not choices:
        return ""
    choice = choices[0]
    if "delta" in choice:
        return (choice["delta"] or {}).get("content") or ""
    return choice.get("text") or ""


def _finish_reason(event: dict[str, Any]) -> str | None:
    choices = event.get("choices") or []
    return choices[0].get("finish_reason") if choices else None


def stream_remote(
    endpoint: RemoteEndpoint, request: GenerationRequest, cancel: threading.Event | None = None
) -> Iterator[GenerationUpdate]:
    request = checked_request(request)
    settings = request.settings
    cancel = cancel or threading.Event()
    # Only a seed the user chose is sent (none or -1: the server draws its own).
    seed = None
    if request.seed not in (None, ""):
        chosen = resolve_seed(request.seed)  # a clear error for "abc"
        seed = chosen if float(request.seed) >= 0 else None
    body = {"model": endpoint.model, "stream": True, **_body(settings, seed)}
    notes: list[str] = ["Per-token probabilities are shown for the local backend only."]
    if settings.decoding == "beam":
        notes.append("Beam search is not part of the OpenAI API; the endpoint decoded greedily.")
    if request.mode == "chat":
        messages = chat.build_messages(request.history, request.prompt, request.system_prompt)
        body["messages"] = messages
        path, prompt_seen = "/chat/completions", json.dumps(messages, ensure_ascii=False, indent=1)
        notes.append(SERVER_TEMPLATE_NOTE)
    else:
        body["prompt"] = request.prompt
        path, prompt_seen = "/completions", request.prompt
    body["stream_options"] = {"include_usage": True}
    yield GenerationUpdate(text="", prompt_seen=prompt_seen)

    started = time.perf_counter()
    first_token_at = None
    text, chunks, usage, finish = "", 0, {}, None
    import httpx

    client, response = _post(endpoint, path, body, stream=True)
    try:
        for event in _sse_events(response):
            if cancel.is_set():
                break
            usage = event.get("usage") or usage
            finish = _finish_reason(event) or finish
            piece = _delta_text(event)
            if piece:
                first_token_at = first_token_at or time.perf_counter()
                text += piece
                chunks += 1
                yield GenerationUpdate(text=text, prompt_seen=prompt_seen)
    except httpx.HTTPError as exc:
        raise StudioError(f"The connection to {endpoint.base_url} broke mid-reply ({type(exc).__name__}).") from None
    finally:
        response.close()  # closing the connection is how a stream is stopped
        client.close()
    seconds = time.perf_counter() - started
    generated = int(usage.get("completion_tokens") or chunks)
    stopped_by = "stopped by you" if cancel.is_set() else {
        "length": "length", "stop": "end of text or stop string"
    }.get(finish or "", finish or "end of text")
    result = GenerationResult(
        text=text,
        prompt_seen=prompt_seen,
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        generated_tokens=generated,
        seconds=seconds,
        tokens_per_second=generated / seconds if seconds > 0 else 0.0,
        time_to_first_token=(first_token_at - started) if first_token_at else None,
        seed=seed,
        stopped_by=stopped_by,
        backend="openai-compatible",
        model=endpoint.model,
        notes=notes,
    )
    yield GenerationUpdate(text=text, prompt_seen=prompt_seen, result=result)


def remote_next_token_table(
    endpoint: RemoteEndpoint, prompt: str, settings: SamplingSettings, top_n: int = 20
) -> NextTokenTable:
    """Next-token candidates from the endpoint's ``logprobs`` (at most 20 of them)."""
    import torch

    prompt = chat.check_prompt(prompt)
    settings, top_n = validate(settings), check_top_n(top_n)
    asked = min(top_n, MAX_TOP_LOGPROBS)
    body = {"model": endpoint.model, "prompt": prompt, "max_tokens": 1, "temperature": 0.0, "logprobs": asked}
    client, response = _post(endpoint, "/completions", body, stream=False)
    try:
        data = response.json()
    except ValueError:
        raise StudioError("The endpoint's answer is not JSON.") from None
    finally:
        response.close()
        client.close()
    try:
        top = data["choices"][0]["logprobs"]["top_logprobs"][0]
    except (KeyError, IndexError, TypeError):
        raise BadInput(NO_LOGPROBS) from None
    if not top:
        raise BadInput(NO_LOGPROBS)
    tokens = sorted(top.items(), key=lambda item: -item[1])[:asked]
    # Log-probabilities are scores shifted by a constant, so softmax over them is valid --
    # but only over the candidates that came back.
    scores = torch.tensor([lp for _, lp in tokens], dtype=torch.float32)
    dist = filter_logits(scores, settings)
    candidates = [
        Candidate(rank, token, None, round(lp, 4), float(dist.raw_probs[i]), float(dist.probs[i]), bool(dist.kept[i]))
        for i, (rank, (token, lp)) in enumerate(zip(range(1, len(tokens) + 1), tokens))
    ]
    usage = data.get("usage") or {}
    note = (
        f"The endpoint returned its top {len(tokens)} candidates; probabilities are renormalised over "
        "them, and the 'logit' column holds log-probabilities."
    )
    return NextTokenTable(int(usage.get("prompt_tokens") or 0), candidates, int(dist.kept.sum()), len(tokens), note)
