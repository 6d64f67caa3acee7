"""The adapter gate with threads and events (no models): requests for one set side by side,
first come first served once someone waits for another set, a failed switch, a hold handed on
to a holder's own helper thread, and the image-prompt lock taken inside the gate."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

import pytest

from studio.image.generate import hold_adapters
from studio.image.image_prompts.apply import Adapter, ImagePromptRun
from studio.models.adapter_gate import AdapterGate

JOIN = 10.0  # seconds: every join and wait is bounded by this


def until(condition: Callable[[], bool], what: str) -> None:
    """Wait (bounded) until ``condition()``: how a test knows a thread has reached the gate."""
    deadline = time.monotonic() + JOIN
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.002)


class User:
    """One request in its own thread: enters ``gate`` (through ``enter``) for ``wanted``, notes
    when it is in, stays until ``leave`` is set."""

    def __init__(self, name: str, wanted: tuple, gate: AdapterGate, log: list, switches: list,
                 enter: Callable[..., Any] | None = None, fail: bool = False):
        self.name, self.wanted, self.gate, self.log = name, wanted, gate, log
        self.inside, self.leave = threading.Event(), threading.Event()
        self.error: BaseException | None = None
        self.enter = enter or (lambda switch: gate.holding(wanted, switch))

        def switch() -> None:
            if fail:
                raise RuntimeError(f"{name}: the switch failed")
            switches.append(wanted)

        self.switch = switch
        self.thread = threading.Thread(target=self._run, name=f"user-{name}", daemon=True)

    def _run(self) -> None:
        try:
            with self.enter(self.switch):
                self.log.append(self.name)
                self.inside.set()
                assert self.leave.wait(JOIN), f"{self.name} was never let go"
        except BaseException as exc:  # noqa: BLE001 - checked by the test
            self.error = exc

    def start(self) -> "User":
        self.thread.start()
        return self

    def done(self) -> None:
        self.leave.set()
        self.thread.join(JOIN)
        assert not self.thread.is_alive(), f"{self.name} is stuck"


def test_requests_for_the_same_set_run_side_by_side_and_switch_once():
    gate, log, switches = AdapterGate(), [], []
    first = User("a1", ("A",), gate, log, switches).start()
    assert first.inside.wait(JOIN)
    second = User("a2", ("A",), gate, log, switches).start()
    assert second.inside.wait(JOIN)  # in while the first is still in
    assert gate.users == 2 and switches == [("A",)]
    first.done(), second.done()
    assert gate.users == 0 and gate.active == ("A",)


def test_a_waiter_for_another_set_goes_before_later_requests_for_the_active_set():
    """a1 holds set A; b waits for B; a2 (for A, which is active) comes after b: it queues
    behind b instead of joining a1, so b is not starved by a stream of A requests."""
    gate, log, switches = AdapterGate(), [], []
    a1 = User("a1", ("A",), gate, log, switches).start()
    assert a1.inside.wait(JOIN)
    b = User("b", ("B",), gate, log, switches).start()
    until(lambda: gate.waiting == 1, "b waits")
    a2 = User("a2", ("A",), gate, log, switches).start()
    until(lambda: gate.waiting == 2, "a2 queues behind b")
    assert log == ["a1"]
    a1.done()
    assert b.inside.wait(JOIN)
    assert log == ["a1", "b"] and gate.waiting == 1 and gate.active == ("B",)  # a2 still behind b
    b.done()
    assert a2.inside.wait(JOIN)
    a2.done()
    assert log == ["a1", "b", "a2"] and switches == [("A",), ("B",), ("A",)]
    assert not any(u.error for u in (a1, b, a2))


def test_requests_at_the_front_that_want_the_same_set_go_in_together():
    gate, log, switches = AdapterGate(), [], []
    a1 = User("a1", ("A",), gate, log, switches).start()
    assert a1.inside.wait(JOIN)
    b1 = User("b1", ("B",), gate, log, switches).start()
    until(lambda: gate.waiting == 1, "b1 waits")
    b2 = User("b2", ("B",), gate, log, switches).start()
    until(lambda: gate.waiting == 2, "b2 waits")
    a1.done()
    assert b1.inside.wait(JOIN) and b2.inside.wait(JOIN)
    assert gate.users == 2 and switches == [("A",), ("B",)]  # one switch for both
    b1.done(), b2.done()


def test_a_failed_switch_lets_the_next_in_line_switch():
    gate, log, switches = AdapterGate(), [], []
    a1 = User("a1", ("A",), gate, log, switches).start()
    assert a1.inside.wait(JOIN)
    broken = User("broken", ("B",), gate, log, switches, fail=True).start()
    until(lambda: gate.waiting == 1, "broken waits")
    c = User("c", ("C",), gate, log, switches).start()
    until(lambda: gate.waiting == 2, "c waits")
    a1.done()
    broken.thread.join(JOIN)
    assert isinstance(broken.error, RuntimeError)
    assert c.inside.wait(JOIN)
    c.done()
    assert log == ["a1", "c"] and switches == [("A",), ("C",)]
    # After a failure the set is unknown: the next request for A switches again.
    again = User("a", ("A",), gate, log, switches).start()
    assert again.inside.wait(JOIN)
    again.done()
    assert switches[-1] == ("A",)


def test_a_holder_hands_its_hold_on_to_a_helper_thread_past_the_queue():
    """A holder that waits for a thread doing its work (the text tab's beam search) while
    someone waits for another set: the helper's hold is taken at once, no deadlock, and the
    waiter goes in only once both have let go."""
    gate, log, switches = AdapterGate(), [], []
    holder = User("holder", ("A",), gate, log, switches).start()
    assert holder.inside.wait(JOIN)
    waiter = User("waiter", ("B",), gate, log, switches).start()
    until(lambda: gate.waiting == 1, "the waiter waits")
    release = gate.hand_on()
    assert gate.users == 2 and gate.active == ("A",)
    holder.done()  # the holder's block ends first (a closed stream); the helper still works
    assert not waiter.inside.wait(0.05)
    release()
    release()  # once only
    assert waiter.inside.wait(JOIN)
    waiter.done()
    assert log == ["holder", "waiter"] and gate.users == 0


def test_only_a_holder_can_hand_a_hold_on():
    with pytest.raises(RuntimeError, match="inside the gate"):
        AdapterGate().hand_on()


class _Model:
    """What generate.hold_adapters needs of a loaded checkpoint: its gate (and weak-referenceable)."""

    def __init__(self) -> None:
        self.adapter_gate = AdapterGate()


def test_image_prompt_requests_take_their_lock_inside_the_gate():
    """Two requests with the same IP-Adapter set and a plain one that comes after them: the
    second IP request waits for the lock inside the gate, so the plain one does not jump it
    (and both IP requests share one switch). Taking the lock first, the second request would
    wait outside the gate, and the plain one would switch the UNet away between them."""
    model, log, switches = _Model(), [], []
    gate = model.adapter_gate
    with_ip = ImagePromptRun(adapters=[Adapter(slot=None, source="ip-adapter", weights=None, image=None)])
    plain = ImagePromptRun()

    def ip_request(switch):
        return hold_adapters(model, with_ip, (), switch)

    def plain_request(switch):
        return hold_adapters(model, plain, (), switch)

    first = User("ip1", None, gate, log, switches, enter=ip_request).start()
    assert first.inside.wait(JOIN)
    second = User("ip2", None, gate, log, switches, enter=ip_request).start()
    until(lambda: gate.users == 2, "ip2 is in the gate, waiting for the lock")
    third = User("plain", None, gate, log, switches, enter=plain_request).start()
    until(lambda: gate.waiting == 1, "the plain request waits")
    first.done()
    assert second.inside.wait(JOIN)
    assert log == ["ip1", "ip2"] and gate.waiting == 1
    second.done()
    assert third.inside.wait(JOIN)
    third.done()
    assert log == ["ip1", "ip2", "plain"] and len(switches) == 2
