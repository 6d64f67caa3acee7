"""Can this machine reach the Hugging Face Hub right now? Asked once, remembered a while.

With no network, the Hub client retries every request with back-off, so the first use
of each model waited about 46 s before failing. One short probe, shared by all threads
and remembered for a minute, lets loaders go straight to the local HF cache instead:
a cached model still loads, a missing one fails at once with a clear message.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

PROBE_TIMEOUT_SECONDS = 2.0
REMEMBER_SECONDS = 60.0


def answers_http(endpoint: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> bool:
    """True when ``endpoint`` gives any HTTP answer (any status) within ``timeout`` seconds.

    Like the Hub client, it honours the HTTPS_PROXY / SSL_CERT_FILE environment. It runs in
    a helper thread because name resolution is not bound by the HTTP timeout and can hang
    on a machine without DNS.
    """
    answered: list[bool] = []

    def ask() -> None:
        import httpx

        try:
            httpx.head(endpoint, timeout=timeout, follow_redirects=False)
            answered.append(True)
        except Exception:  # no route, refused, timed out, DNS failure, TLS failure: all "no"
            answered.append(False)

    thread = threading.Thread(target=ask, name="hub-probe", daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return bool(answered) and answered[0]


class HubAccess:
    """Whether the Hub answers, probed at most once per ``remember_seconds`` (thread-safe:
    callers arriving during a probe wait for its answer instead of probing again)."""

    def __init__(
        self,
        endpoint: str | None = None,
        timeout: float = PROBE_TIMEOUT_SECONDS,
        remember_seconds: float = REMEMBER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._endpoint = endpoint
        self._timeout = timeout
        self._remember_seconds = remember_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._reachable: bool | None = None
        self._known_until = 0.0
        self.probes = 0  # how many times the network was actually asked

    @property
    def endpoint(self) -> str:
        """The injected endpoint, else the one the Hub client uses (HF_ENDPOINT)."""
        if self._endpoint is not None:
            return self._endpoint
        from huggingface_hub import constants

        return constants.ENDPOINT

    def reachable(self) -> bool:
        with self._lock:
            if self._reachable is None or self._clock() >= self._known_until:
                self.probes += 1
                self._reachable = answers_http(self.endpoint, self._timeout)
                self._known_until = self._clock() + self._remember_seconds
            return self._reachable


def offline_mode() -> bool:
    """The user already told the Hub client to stay offline (HF_HUB_OFFLINE=1)."""
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


# The one the app's loaders share; tests build their own with an injected endpoint.
shared = HubAccess()
