"""The local event runtime's workers go to the step furthest down the pipeline first."""

from __future__ import annotations

import threading

from infra.local.runtime import Slots


def _wait_for(slots: Slots, rank: int, order: list[int], waiting: threading.Event) -> threading.Thread:
    def take() -> None:
        waiting.set()
        while not slots.acquire(rank, timeout=0.05):
            pass
        order.append(rank)
        slots.release()

    thread = threading.Thread(target=take)
    thread.start()
    return thread


def _waiters(slots: Slots) -> int:
    with slots._ready:
        return sum(slots._waiting.values())


def test_a_free_worker_goes_to_the_latest_step_waiting() -> None:
    slots = Slots(1)
    assert slots.acquire(0, timeout=1)  # an upload's check is running
    order: list[int] = []
    threads = []
    for rank in (0, 2, 1):  # another upload, a content job, an images job, in that order
        waiting = threading.Event()
        threads.append(_wait_for(slots, rank, order, waiting))
        waiting.wait(1)
    while _waiters(slots) < 3:
        pass
    slots.release()
    for thread in threads:
        thread.join(5)
    assert order == [2, 1, 0]


def test_an_earlier_step_runs_when_no_later_one_waits() -> None:
    slots = Slots(2)
    assert slots.acquire(2, timeout=1)
    assert slots.acquire(0, timeout=1)  # a worker was free and nothing later waited
    assert not slots.acquire(1, timeout=0.05)  # both taken
    slots.release()
    assert slots.acquire(1, timeout=1)


def test_a_later_step_that_stopped_waiting_holds_nothing_back() -> None:
    slots = Slots(1)
    assert slots.acquire(0, timeout=1)
    assert not slots.acquire(2, timeout=0.05)  # it gave up (the runtime is stopping)
    slots.release()
    assert slots.acquire(0, timeout=1)
