"""The Text tab's GPU work and the checks at its door.

Each GPU function (a "body", tabs.gpu) takes plain values and returns or yields plain values, so
on ZeroGPU it runs in a forked worker; the handlers of chat, explorer and diffusion start it here
and stay in the server. A student's model is checked against the class's list first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import gradio as gr

from studio import zero_gpu
from studio.models import catalog
from studio.progress import CancelFlag
from studio.runs import Run
from studio.text import adapters, service
from studio.text.adapters import TextAdapter
from studio.text.results import GenerationRequest, GenerationUpdate
from studio.text.sampling import MAX_NEW_TOKENS, SamplingSettings
from tabs import owner, roles
from tabs.common import TabContext
from tabs.gpu import GpuWork

if TYPE_CHECKING:
    from studio.text.explorer import NextTokenTable
    from studio.text.remote import RemoteEndpoint


class TextWork:
    """Generation (streamed, with Stop), the next-token table and one drawn token."""

    def __init__(self, ctx: TabContext):
        self.ctx = ctx
        studio = ctx.studio

        def generate_on_gpu(generation: GenerationRequest, endpoint: RemoteEndpoint | None,
                            cancel: CancelFlag) -> Iterator[GenerationUpdate]:
            """The reply as it grows (``GenerationUpdate``s), the last one with the result."""
            yield from service.stream_generation(studio, generation, endpoint, cancel)

        def candidates_on_gpu(prompt: str, settings: SamplingSettings, top_n: int, model_id: str,
                              endpoint: RemoteEndpoint | None, adapter: TextAdapter | None) -> NextTokenTable:
            return service.candidates(studio, prompt, settings, top_n, model_id, endpoint, adapter)

        def sample_on_gpu(prompt: str, settings: SamplingSettings, seed: int, model_id: str,
                          adapter: TextAdapter | None) -> tuple[str, str, int]:
            from studio.text.explorer import sample_next_token

            return sample_next_token(studio, prompt, settings, seed, model_id, adapter)

        self.texting = GpuWork(ctx, generate_on_gpu, lambda named: zero_gpu.text_work(
            named["generation"].settings.max_new_tokens or MAX_NEW_TOKENS))
        self.exploring = GpuWork(ctx, candidates_on_gpu)
        self.sampling = GpuWork(ctx, sample_on_gpu)

    def class_models(self, request: gr.Request | None, model_id: str, catalog_name: str = "text") -> None:
        """A student picks from the catalog (and the teacher's allow-list); any other id would be
        downloaded for the whole class."""
        rules = roles.limits_for(self.ctx, request)
        if rules is not None:
            rules.check_model(model_id, catalog.choices(self.ctx.settings, catalog_name))

    def adapter_for(self, request: gr.Request | None, browser_id: str | None, model_id: str,
                    job_id: str) -> TextAdapter | None:
        """The requester's own trained adapter named by its job id ("" for none)."""
        key = owner.key_for(self.ctx, request, browser_id)
        return adapters.resolve(self.ctx.settings, key, model_id, job_id)

    def start_generation(self, generation: GenerationRequest, endpoint: RemoteEndpoint | None,
                         request: gr.Request | None, key: str, flag: CancelFlag | None = None) -> Run:
        self.class_models(request, generation.model_id)
        return self.texting.start(request, key, f"Text: {generation.settings.max_new_tokens} tokens", generation,
                                  endpoint, flag=flag)

    def candidates(self, request: gr.Request | None, key: str, prompt: str, settings: SamplingSettings, top_n: int,
                   model_id: str, endpoint: RemoteEndpoint | None, adapter: TextAdapter | None) -> NextTokenTable:
        """The next-token table, in its turn on the GPU."""
        self.class_models(request, model_id)
        return self.exploring.call(request, key, "Text: next-token table", prompt, settings, top_n, model_id,
                                   endpoint, adapter)

    def sample(self, request: gr.Request | None, key: str, prompt: str, settings: SamplingSettings, seed: int,
               model_id: str, adapter: TextAdapter | None) -> tuple[str, str, int]:
        """(the prompt with one drawn token appended, the token, the seed used)."""
        self.class_models(request, model_id)
        return self.sampling.call(request, key, "Text: sample a token", prompt, settings, seed, model_id, adapter)
