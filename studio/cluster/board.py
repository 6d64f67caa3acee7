"""The cluster's notice board: one small Ray actor the replicas and the front both reach.

Replicas pin their reports on it (device, what their cache holds, queue length), for the
Models tab; the front pins Cancel there, by call, and the replica running that call reads it
within a tenth of a second. A named actor, so a replica needs only its name.
"""

from __future__ import annotations

import time
from typing import Any

import ray

NAME = "studio-board"
NAMESPACE = "studio"
FORGET_CANCELS_SECONDS = 600  # a Cancel for a call that never shows up is dropped after this
# A replica that has not reported for this long is gone (it reports every 2 s). The last resort:
# the front drops a replica sooner where Ray says it is dead (see RayCluster.replicas).
GONE_SECONDS = 15


@ray.remote(num_cpus=0)
class Board:
    def __init__(self) -> None:
        self._reports: dict[str, dict[str, Any]] = {}
        self._cancelled: dict[str, float] = {}

    def report(self, replica: str, report: dict[str, Any]) -> None:
        self._reports[replica] = {**report, "heard": time.time()}

    def reports(self) -> list[dict[str, Any]]:
        now = time.time()
        self._reports = {r: report for r, report in self._reports.items() if now - report["heard"] < GONE_SECONDS}
        return sorted(self._reports.values(), key=lambda r: r.get("started", 0))

    def cancel(self, call: str) -> None:
        now = time.time()
        self._cancelled = {c: t for c, t in self._cancelled.items() if now - t < FORGET_CANCELS_SECONDS}
        self._cancelled[call] = now

    def cancelled(self, calls: list[str]) -> list[str]:
        return [call for call in calls if call in self._cancelled]

    def forget(self, call: str) -> None:
        self._cancelled.pop(call, None)


def board(on_this_node: bool = False) -> Any:
    """The board's handle, started on first use (the front starts it; a replica finds it).
    The front starts it on its own node, and only there (Ray would otherwise move it to another
    node while this one is busy starting workers): a lost node would take the board with it."""
    placement = {}
    if on_this_node:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        node = ray.get_runtime_context().get_node_id()
        placement = {"scheduling_strategy": NodeAffinitySchedulingStrategy(node, soft=False)}
    return Board.options(name=NAME, namespace=NAMESPACE, get_if_exists=True, **placement).remote()
