"""Quiet the tracebacks a lost replica leaves in the front's log.

Before it sends a call, Ray Serve's router (in the front's process, on its own event loop) asks
replicas how busy they are, and stops waiting after a deadline. When a replica's node is gone,
the asks it gave up on fail later, and asyncio logs each as "Task exception was never retrieved"
with a full traceback: a dozen for one lost node. The loss itself is handled and said once by the
front (the call is retried on another replica), so these records are counted and dropped.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

NEVER_RETRIEVED = "Task exception was never retrieved"


class LostReplicaNoise(logging.Filter):
    """Drops asyncio's "never retrieved" records whose exception says a replica went away."""

    def __init__(self) -> None:
        super().__init__()
        self.dropped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None or not str(record.msg).startswith(NEVER_RETRIEVED) or not _replica_gone(exc):
            return True
        self.dropped += 1
        log.debug("a lost replica did not answer Ray Serve's router (%s)", type(exc).__name__)
        return False


def _replica_gone(exc: BaseException) -> bool:
    from ray.exceptions import RayActorError  # ActorDiedError, ActorUnavailableError
    from ray.serve.exceptions import ReplicaUnavailableError

    return isinstance(exc, (RayActorError, ReplicaUnavailableError))


NOISE = LostReplicaNoise()


def quiet_lost_replicas() -> None:
    """Install the filter on asyncio's logger (once; the front calls it when it connects)."""
    logger = logging.getLogger("asyncio")
    if NOISE not in logger.filters:
        logger.addFilter(NOISE)
