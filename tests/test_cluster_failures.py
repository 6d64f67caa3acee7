"""What the studio says when a Ray cluster turns it away or loses a replica, without a cluster:
Ray's own exceptions, shaped as Ray 2.60 raises them (tests/test_cluster_readme.py and
tests/test_cluster_ray.py see the same on real clusters).

- A refused token is named as one, with the fix for this machine's state.
- A call retried on another replica says so in its progress and its results' notes.
- asyncio's "Task exception was never retrieved" tracebacks of a lost replica are dropped.
- The Models tab counts the replicas that answer now, not the number set at start.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from types import SimpleNamespace

import pytest

from tests.conftest import require_ray_serve

require_ray_serve()

from studio.cluster import auth, retried  # noqa: E402
from studio.cluster.front import RayCluster  # noqa: E402

ADDRESS = "10.0.0.5:6379"
# Ray 2.60's refusal, as `ray.init(address=...)` raises it after its retries: a bare
# ConnectionError, with the refusal only in the RuntimeError it was raised from.
GCS_REFUSAL = ("Failed to connect to GCS. Last connection error: Traceback (most recent call last):\n"
               "ray.exceptions.AuthenticationError: RPC error: InvalidAuthToken: Authentication token is missing "
               "or incorrect. Note: RAY_AUTH_MODE is currently 'disabled' (not 'token').")


def ray_init_refused() -> ConnectionError:
    try:
        try:
            raise RuntimeError(GCS_REFUSAL)
        except RuntimeError as cause:
            raise ConnectionError("Failed to connect to Ray cluster at 10.0.0.5:6379") from cause
    except ConnectionError as exc:
        return exc


def test_ray_inits_refusal_is_found_in_its_chain_and_other_failures_are_not():
    from ray.exceptions import AuthenticationError

    assert auth.is_refusal(ray_init_refused())
    assert auth.is_refusal(AuthenticationError("Token authentication is enabled but no authentication token was found"))
    assert not auth.is_refusal(ConnectionError("Failed to connect to Ray cluster at 10.0.0.5:6379"))
    assert not auth.is_refusal(TimeoutError("timed out"))


@pytest.mark.parametrize("mode, token_file, token_env, says, fix", [
    (None, True, None, "RAY_AUTH_MODE=token is not set here", "start the studio with RAY_AUTH_MODE=token, then"),
    (None, False, None, "RAY_AUTH_MODE=token is not set here",
     "copy the head's ~/.ray/auth_token to this machine first"),
    ("disabled", True, None, "RAY_AUTH_MODE is 'disabled' here", "start the studio with RAY_AUTH_MODE=token"),
    ("token", False, None, "this machine has no token", "copy the head's ~/.ray/auth_token to ~/.ray/auth_token here"),
    ("token", True, None, "the token here (~/.ray/auth_token) is not the head's",
     "copy the head's ~/.ray/auth_token over"),
    ("token", False, "abc", "the token here (RAY_AUTH_TOKEN) is not the head's", "over it"),
])
def test_the_refusal_says_what_is_missing_here_and_the_fix(tmp_path, mode, token_file, token_env, says, fix):
    if token_file:
        (tmp_path / ".ray").mkdir()
        (tmp_path / ".ray" / "auth_token").write_text("secret")
    env = {k: v for k, v in {"RAY_AUTH_MODE": mode, "RAY_AUTH_TOKEN": token_env}.items() if v is not None}
    sentence = auth.explain(ADDRESS, env, tmp_path)
    assert sentence.startswith(f"The Ray cluster at {ADDRESS} refused this machine: it uses token authentication")
    assert says in sentence and fix in sentence, sentence
    assert "InvalidAuthToken" in sentence and sentence.endswith("GPU work runs on this machine.")


def test_the_studio_gives_the_refusal_as_its_reason_to_run_here(tiny_settings, monkeypatch):
    from studio.settings import with_overrides

    def refused(self):
        raise ray_init_refused()

    monkeypatch.setattr(RayCluster, "_connect", refused)
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    cluster = RayCluster(with_overrides(tiny_settings, ray=ADDRESS))
    problem = cluster.start(timeout=10)
    assert problem == cluster.problem and "refused this machine" in problem and "RAY_AUTH_MODE=token" in problem
    assert cluster.handle is None and not cluster.in_use


def test_the_other_failures_keep_their_plain_reason(tiny_settings, monkeypatch):
    from studio.settings import with_overrides

    def unreachable(self):
        raise ConnectionError("Failed to connect to Ray cluster at 10.0.0.5:6379")

    monkeypatch.setattr(RayCluster, "_connect", unreachable)
    problem = RayCluster(with_overrides(tiny_settings, ray=ADDRESS)).start(timeout=10)
    assert "cannot be used (ConnectionError: Failed to connect" in problem and "token" not in problem


# --- a call retried on another replica ------------------------------------------------------------

def test_the_second_replicas_progress_says_the_first_was_lost():
    from studio.progress import label

    inner = label("image", index=1, count=2)
    assert retried.RetriedLabel(inner=inner).worded() == "image 1 of 2 · one replica was lost; finishing on another"
    assert str(retried.RetriedLabel(inner="")) == "one replica was lost; finishing on another"
    words = {"progress.image": "第 {index} 張，共 {count} 張", retried.KEY: "一個副本已失去；改在另一個完成"}
    assert retried.RetriedLabel(inner=inner).worded(lambda key: words.get(key, key)) == \
        "第 1 張，共 2 張 · 一個副本已失去；改在另一個完成"
    untranslated = {k: v for k, v in words.items() if k != retried.KEY}
    worded = retried.RetriedLabel(inner=inner).worded(lambda key: untranslated.get(key, key))
    assert worded == f"第 1 張，共 2 張 · {retried.PROGRESS}"  # English until the translation is there


def test_what_the_second_replica_made_carries_the_note_once():
    from studio.image.request import ImageResult
    from studio.text.results import GenerationUpdate

    images = [ImageResult(image=None, seed=seed, prompt="", negative_prompt="", parameters={},
                          notes=["No prompt: the model draws whatever it likes."]) for seed in (1, 2)]
    retried.noted(retried.noted(images))
    assert all(image.notes == ["No prompt: the model draws whatever it likes.", retried.NOTE] for image in images)

    last = GenerationUpdate(text="hi", result=SimpleNamespace(notes=[]))
    assert retried.noted(last).result.notes == [retried.NOTE]
    assert retried.noted(GenerationUpdate(text="h")).result is None  # an update on the way: nothing to note
    assert retried.noted("a caption") == "a caption"


# --- the front's log after a lost node ------------------------------------------------------------

def test_a_lost_replicas_never_retrieved_probes_are_dropped_and_other_ones_kept(caplog):
    from ray.exceptions import ActorUnavailableError

    from studio.cluster.quiet import NEVER_RETRIEVED, NOISE, quiet_lost_replicas

    quiet_lost_replicas()
    quiet_lost_replicas()  # once only
    assert logging.getLogger("asyncio").filters.count(NOISE) == 1

    async def probe(exc: BaseException) -> None:  # as Ray Serve's router's queue-length probe
        raise exc

    async def abandon(exc: BaseException) -> None:
        task = asyncio.get_running_loop().create_task(probe(exc))
        await asyncio.sleep(0.01)
        del task  # nobody awaits it: asyncio logs its exception when it is collected

    dropped = NOISE.dropped
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        lost = ActorUnavailableError("RpcError: failed to connect to all addresses; Connection refused", None)
        asyncio.run(abandon(lost))
        asyncio.run(abandon(ValueError("a bug of ours")))
        gc.collect()
    logged = [r for r in caplog.records if r.name == "asyncio" and str(r.msg).startswith(NEVER_RETRIEVED)]
    assert [type(r.exc_info[1]).__name__ for r in logged] == ["ValueError"]
    assert NOISE.dropped == dropped + 1


# --- the Models tab's count -------------------------------------------------------------------------

def test_the_status_line_counts_the_replicas_that_answer_now():
    from tabs.cluster_panel import replica_count, status_line

    cluster = SimpleNamespace(problem=None, run_here=False, address=ADDRESS, replica_count=2)
    say = {"models.cluster_on": "on {address}: {replicas} replica(s)"}.get
    assert status_line(cluster, say, 2) == f"on {ADDRESS}: 2 replica(s)"
    assert status_line(cluster, say, 1) == f"on {ADDRESS}: 1/2 replica(s)"  # a node lost
    assert replica_count(3, 2) == "3"  # a replacement started before the lost one left the list
