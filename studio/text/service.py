"""The Text tab's entry points, shared by the streaming UI event and the API endpoints:
pick the backend (local transformers or an OpenAI-compatible endpoint) and run."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from studio.errors import BadInput
from studio.text.adapters import TextAdapter
from studio.text.explorer import NextTokenTable, next_token_table
from studio.text.generate import stream_local
from studio.settings import Settings
from studio.text.limits import shown
from studio.text.remote import (
    RemoteEndpoint,
    check_endpoint_fields,
    remote_next_token_table,
    server_endpoint,
    stream_remote,
)
from studio.text.results import GenerationRequest, GenerationResult, GenerationUpdate
from studio.text.sampling import SamplingSettings
from studio.tools.fields import declared

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from studio.context import StudioContext

BACKENDS = ("local", "openai")


@dataclass(frozen=True)
class RemoteChoice:
    """Which LLM answers, declared once (studio.tools.fields) for an endpoint's parameters and
    their checks: this machine's model, or an OpenAI-compatible server."""

    backend: str = declared("local", choices=BACKENDS, hint="radio", label="prompt.backend",
                            doc="local = the model from the shared cache; openai = the server at endpoint_url")
    endpoint_url: str = declared("", label="prompt.endpoint_url",
                                 doc="'' = the server this studio's owner set (STUDIO_OPENAI_BASE_URL)")
    endpoint_model: str = declared("", label="prompt.endpoint_model", doc="the model's name on that server")
    endpoint_api_key: str = declared("", label="prompt.endpoint_key", doc="its API key, where it asks for one")

    def endpoint(self, settings: Settings) -> RemoteEndpoint | None:
        return endpoint_for(settings, self.backend, self.endpoint_url, self.endpoint_model, self.endpoint_api_key)


class StopSignal(threading.Event):
    """The Stop button's flag. Gradio may deep-copy session state; a copy would no longer
    reach the generation thread, so copying returns the same object."""

    def __deepcopy__(self, memo: dict) -> "StopSignal":
        return self


@dataclass(frozen=True)
class BackendChoice:
    """Where a request runs, as the UI and the API give it: the four fields travel together.
    Field names are the API's parameter names."""

    backend: str = "local"  # local | openai
    endpoint_url: str = ""
    endpoint_model: str = ""
    endpoint_api_key: str = ""

    def __repr__(self) -> str:  # never prints the key
        return f"BackendChoice({self.backend!r}, {self.endpoint_url!r}, {self.endpoint_model!r})"

    def endpoint(self, settings: Settings) -> RemoteEndpoint | None:
        return endpoint_for(settings, self.backend, self.endpoint_url, self.endpoint_model, self.endpoint_api_key)


def endpoint_for(
    settings: Settings, backend: str, base_url: str = "", model: str = "", api_key: str = ""
) -> RemoteEndpoint | None:
    """None for the local backend, else the endpoint. On a server others can reach, only the
    owner's endpoint (STUDIO_OPENAI_BASE_URL) is allowed: otherwise any student could make the
    server send requests to addresses inside its network."""
    backend = str(backend or "local").strip().lower()
    if backend not in BACKENDS:
        raise BadInput(f"Backend must be 'local' or 'openai', not {shown(backend)}.")
    # Bounded even when unused (local): a giant value is refused the same way every time.
    check_endpoint_fields(base_url, model, api_key)
    if backend == "local":
        return None
    endpoint = RemoteEndpoint.from_inputs(base_url or server_endpoint(), model, api_key)
    if settings.is_exposed and endpoint.base_url != server_endpoint():
        raise BadInput(
            "On a shared server only the endpoint the teacher configured can be used"
            + (f" ({server_endpoint()})." if server_endpoint() else "; none is configured (STUDIO_OPENAI_BASE_URL).")
        )
    return endpoint


def stream_generation(
    studio: StudioContext,
    request: GenerationRequest,
    endpoint: RemoteEndpoint | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[GenerationUpdate]:
    if endpoint is None:
        return stream_local(studio, request, cancel)
    if request.adapter is not None:
        raise BadInput("A trained adapter runs on the local backend only: pick 'local', or no adapter.")
    return stream_remote(endpoint, request, cancel)


def run_generation(
    studio: StudioContext, request: GenerationRequest, endpoint: RemoteEndpoint | None = None,
    cancel: threading.Event | None = None,
) -> GenerationResult:
    result = None
    for update in stream_generation(studio, request, endpoint, cancel):
        result = update.result or result
    assert result is not None, "generation ended without a result"
    return result


def candidates(
    studio: StudioContext, prompt: str, settings: SamplingSettings, top_n: int = 20,
    model_id: str | None = None, endpoint: RemoteEndpoint | None = None, adapter: TextAdapter | None = None,
) -> NextTokenTable:
    if endpoint is None:
        return next_token_table(studio, prompt, settings, top_n, model_id, adapter)
    return remote_next_token_table(endpoint, prompt, settings, top_n)
