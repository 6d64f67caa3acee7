"""Ray's token authentication, as a cluster that turns the studio away says it.

Ray (2.52 and later) can require a shared token on every connection. Ray 2.60's `ray start --head`
turns it on by itself when `~/.ray/auth_token` exists on the head, and `ray.init()` turns it on for
the local Ray it starts. A machine that joins without ``RAY_AUTH_MODE=token`` and the head's token
is refused with ``InvalidAuthToken``; ``ray.init`` retries for about 20 s and then raises a bare
``ConnectionError`` ("Failed to connect to Ray cluster at ...") with the refusal only in its chain.
This module finds it there and says what to do.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

# How Ray words a refusal, wherever it ends up in an exception's text.
REFUSED = ("InvalidAuthToken", "AuthenticationError", "Unauthenticated", "no authentication token was found")
TOKEN_FILE = Path(".ray") / "auth_token"  # under the home folder: where `ray get-auth-token --generate` writes
README = 'README, "A class on several GPU machines"'


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen and len(seen) < 20:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def is_refusal(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is the cluster refusing this machine's token."""
    try:
        from ray.exceptions import AuthenticationError
    except ImportError:  # an older Ray: the words alone tell
        AuthenticationError = ()  # noqa: N806
    return any(isinstance(e, AuthenticationError) or any(word in str(e) for word in REFUSED) for e in _chain(exc))


def token_here(env: Mapping[str, str], home: Path) -> str | None:
    """Where this machine's token comes from (Ray's own order), or None when it has none."""
    if env.get("RAY_AUTH_TOKEN"):
        return "RAY_AUTH_TOKEN"
    if env.get("RAY_AUTH_TOKEN_PATH"):
        return env["RAY_AUTH_TOKEN_PATH"] if Path(env["RAY_AUTH_TOKEN_PATH"]).is_file() else None
    path = home / TOKEN_FILE
    return f"~/{TOKEN_FILE}" if path.is_file() else None


def explain(address: str, env: Mapping[str, str] | None = None, home: Path | None = None) -> str:
    """Why the cluster at ``address`` turned this machine away, and the fix, in a sentence or two."""
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    mode = env.get("RAY_AUTH_MODE", "")
    token = token_here(env, home)
    if mode.lower() != "token":
        missing = f"RAY_AUTH_MODE is {mode!r} here, not 'token'" if mode else "RAY_AUTH_MODE=token is not set here"
        fix = "start the studio with RAY_AUTH_MODE=token"
        if token is None:
            fix += f", and copy the head's ~/{TOKEN_FILE} to this machine first"
    elif token is None:
        missing = f"this machine has no token (~/{TOKEN_FILE}, RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH)"
        fix = f"copy the head's ~/{TOKEN_FILE} to ~/{TOKEN_FILE} here"
    else:
        missing = f"the token here ({token}) is not the head's"
        fix = f"copy the head's ~/{TOKEN_FILE} over it"
    return (f"The Ray cluster at {address} refused this machine: it uses token authentication, and {missing} "
            f"(Ray's AuthenticationError: InvalidAuthToken). To join it, {fix}, then restart the studio "
            f"({README}). GPU work runs on this machine.")
