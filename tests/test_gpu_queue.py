"""The GPU's turns (studio.gpu_queue) and a run's life (studio.runs): students served in turn, a
student's limit, a slot held until the work has stopped, and a run nobody wants stopped."""

from __future__ import annotations

import threading
import time

import pytest

from studio.gpu_queue import FairQueue, TooManyRuns
from studio.progress import CancelFlag, Cancelled, Finished, Progress, Stopped, task_events
from studio.runs import Run, Started, Waiting


def _order(queue: FairQueue) -> list[str]:
    return [f"{item['owner']}:{item['what']}" for item in queue.snapshot()["waiting"]]


def test_owners_take_turns_not_first_come_first_served():
    queue = FairQueue(1)
    running = queue.enter("greedy", "g1")  # takes the only slot
    for name in ("g2", "g3", "g4"):
        queue.enter("greedy", name)
    queue.enter("alice", "a1")
    queue.enter("bob", "b1")
    queue.enter("alice", "a2")
    # The greedy student has a run on the GPU already: their waiting runs come after everyone's first.
    assert _order(queue) == ["alice:a1", "bob:b1", "alice:a2", "greedy:g2", "greedy:g3", "greedy:g4"]
    running.leave()
    assert [t["owner"] for t in queue.snapshot()["running"]] == ["alice"]


def test_a_student_limit_refuses_with_a_sentence_and_the_teacher_is_free():
    queue = FairQueue(1, per_owner=2)
    queue.enter("student", "1")
    queue.enter("student", "2")
    with pytest.raises(TooManyRuns, match=r"most your teacher allows at once \(2\)"):
        queue.enter("student", "3")
    for i in range(5):
        queue.enter("teacher", str(i), exempt=True)
    assert queue.snapshot()["usage"]["student"]["refused"] == 1


def test_a_waiting_run_that_is_cancelled_leaves_the_queue():
    queue = FairQueue(1)
    first = queue.enter("a", "first")
    flag = CancelFlag()
    waiting = queue.enter("b", "second", cancel=flag.is_set)
    places = waiting.wait()
    assert next(places) == 1
    flag.set()
    with pytest.raises(Cancelled):
        next(places)
    assert queue.snapshot()["waiting"] == []
    first.leave()
    assert queue.snapshot()["running"] == []


def test_usage_counts_seconds_and_images():
    queue = FairQueue(1)
    ticket = queue.enter("a", "x")
    time.sleep(0.05)
    ticket.images = 2
    ticket.leave()
    used = queue.snapshot()["usage"]["a"]
    assert used["runs"] == 1 and used["images"] == 2 and used["gpu_seconds"] >= 0.05


def _steps(count: int, seconds: float = 0.01):
    def body(cancel):
        def work(task):
            for i in range(count):
                task.step(i + 1, count)
                time.sleep(seconds)
            return "done"

        return task_events(work, cancel)

    return body


def test_a_run_waits_its_turn_then_relays_its_events():
    queue = FairQueue(1)
    holder = queue.enter("other", "busy")
    run = Run(queue, "me", "steps", _steps(3))
    events = run.events()
    assert isinstance(next(events), Waiting)
    holder.leave()
    rest = list(events)
    assert isinstance(rest[0], Started)
    assert [e.step for e in rest if isinstance(e, Progress)][-1] == 3
    assert isinstance(rest[-1], Finished) and run.value == "done" and run.outcome == "done"


def test_cancel_stops_the_work_and_the_slot_is_free_only_then():
    queue = FairQueue(1)
    run = Run(queue, "me", "long", _steps(500, 0.01))
    events = run.events()
    while not isinstance(next(events), Progress):
        pass
    run.cancel()
    rest = list(events)
    assert isinstance(rest[-1], Stopped) and run.outcome == "cancelled"
    assert run.last_progress.step < 500
    assert queue.snapshot()["running"] == []


def test_a_run_whose_caller_left_stops_unless_someone_follows_it():
    queue = FairQueue(1)
    gone = Run(queue, "me", "api call", _steps(500, 0.01))  # no grace: an API call that was cancelled
    events = gone.events()
    next(events)
    events.close()
    gone.join(10)
    assert gone.outcome == "cancelled"

    followed = Run(queue, "me", "page", _steps(60, 0.01), grace=0.3)  # a page that reloads
    events = followed.events(alive=lambda: False)
    list(events)  # the page is gone at once
    followed.follow()  # ... and back within the grace
    followed.join(10)
    assert followed.outcome == "done"


def test_a_refused_run_ends_its_flag():
    queue = FairQueue(1, per_owner=1)
    queue.enter("student", "one")
    flag = CancelFlag()
    with pytest.raises(TooManyRuns):
        Run(queue, "student", "two", _steps(1), flag=flag)
    assert flag.ended


def test_an_error_in_the_work_reaches_the_caller():
    def body(cancel):
        raise ValueError("broken")

    run = Run(FairQueue(1), "me", "bad", body)
    with pytest.raises(ValueError, match="broken"):
        list(run.events())
    assert run.outcome == "failed"


def test_many_owners_at_once_never_exceed_the_slots():
    queue = FairQueue(2)
    most = []
    lock = threading.Lock()

    def body(cancel):
        with lock:
            most.append(len(queue.snapshot()["running"]))
        time.sleep(0.02)
        return 1

    runs = [Run(queue, f"s{i % 5}", "x", body) for i in range(20)]
    for run in runs:
        run.join(10)
    assert all(run.outcome == "done" for run in runs) and max(most) <= 2
