"""Calls within a time limit on reused workers: the answer or the exception when in time, TimeoutError when not; no
thread started per call, and a call whose time ran out while it waited is never run."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from headroom.runtime.deadline import Workers


def workers_named(name: str) -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith(name)]


def test_the_answer_or_the_exception_or_a_timeout() -> None:
    workers = Workers(2, "test-answers")
    assert workers.run_within(5, lambda: 42) == 42
    with pytest.raises(ZeroDivisionError):
        workers.run_within(5, lambda: 1 / 0)
    release = threading.Event()
    with pytest.raises(TimeoutError):
        workers.run_within(0.05, release.wait)
    release.set()


def test_workers_are_reused() -> None:
    workers = Workers(4, "test-reused")
    assert [workers.run_within(5, lambda k=k: k * 2) for k in range(50)] == [k * 2 for k in range(50)]
    with pytest.raises(ValueError):
        workers.run_within(5, lambda: int("x"))
    assert len(workers_named("test-reused")) == 1  # one call at a time needs one thread
    assert all(thread.daemon for thread in workers_named("test-reused"))


def test_busy_workers_drop_a_call_whose_time_ran_out_unrun() -> None:
    workers = Workers(1, "test-busy")
    release = threading.Event()
    ran = threading.Event()
    with pytest.raises(TimeoutError):
        workers.run_within(0.05, release.wait)  # overruns, and keeps the only worker busy
    with pytest.raises(TimeoutError):
        workers.run_within(0.05, ran.set)  # waits for the worker, and runs out of time first
    release.set()
    assert workers.run_within(5, lambda: "after") == "after"
    assert not ran.is_set()


def test_workers_grow_to_their_size_for_calls_in_flight_together() -> None:
    workers = Workers(3, "test-grow")
    barrier = threading.Barrier(3, timeout=5)
    with ThreadPoolExecutor(5) as callers:
        answers = list(callers.map(lambda _: workers.run_within(5, barrier.wait), range(3)))
    assert sorted(answers) == [0, 1, 2]  # all three met at the barrier: they ran at once
    assert len(workers_named("test-grow")) == 3
