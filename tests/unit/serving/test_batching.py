"""The batch scheduler: its timing (a full batch runs at once, a lone task after its timeout)
and its tasks' hand-over to threads and to an event loop."""

import threading
import time

import numpy as np
import pytest

from sagemaker_tensorflow_runtime.serving.modelserver.batching import (
    BatchingParameters,
    BatchScheduler,
    BatchTask,
)


def double(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {"y": batch["x"] * 2}


def run_concurrently(scheduler: BatchScheduler, keys: list[str]) -> dict[int, np.ndarray]:
    results: dict[int, np.ndarray] = {}

    def one(index: int) -> None:
        inputs = {"x": np.array([float(index)])}
        task = scheduler.submit(keys[index], inputs, double)
        assert task is not None
        task.wait()
        results[index] = task.outcome()["y"]

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(keys))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_a_full_batch_runs_without_waiting_for_the_timeout() -> None:
    params = BatchingParameters(max_batch_size=8, batch_timeout_micros=20_000_000)
    scheduler = BatchScheduler(params)
    try:
        started = time.monotonic()
        results = run_concurrently(scheduler, ["k"] * 8)
        assert time.monotonic() - started < 5  # not the 20 s timeout
        assert {i: r.tolist() for i, r in results.items()} == {i: [2.0 * i] for i in range(8)}
        assert scheduler.batches_run == 1
    finally:
        scheduler.stop()


def test_a_lone_task_runs_after_its_timeout_with_other_keys_waiting() -> None:
    params = BatchingParameters(max_batch_size=8, batch_timeout_micros=50_000)
    scheduler = BatchScheduler(params)
    try:
        started = time.monotonic()
        results = run_concurrently(scheduler, ["a", "b", "b"])
        elapsed = time.monotonic() - started
        assert 0.04 < elapsed < 5
        assert sorted(r.tolist()[0] for r in results.values()) == [0.0, 2.0, 4.0]
        assert scheduler.batches_run == 2  # one per key
    finally:
        scheduler.stop()


def test_a_task_calls_back_once_whether_it_finished_before_or_after_asking() -> None:
    def task() -> BatchTask:
        return BatchTask({"x": np.zeros(1)}, 1, lambda inputs: inputs)

    calls: list[str] = []
    later = task()
    later.when_done(lambda: calls.append("later"))
    assert calls == []
    later.finish({"y": np.ones(1)})
    later.finish(error=RuntimeError("a second finish is ignored"))
    assert calls == ["later"]
    assert later.outcome()["y"].tolist() == [1.0]

    earlier = task()
    earlier.finish(error=RuntimeError("the batch failed"))
    earlier.when_done(lambda: calls.append("earlier"))
    assert calls == ["later", "earlier"]
    with pytest.raises(RuntimeError, match="the batch failed"):
        earlier.outcome()


def test_submit_leaves_unbatchable_inputs_to_the_caller() -> None:
    scheduler = BatchScheduler(BatchingParameters(max_batch_size=2, num_batch_threads=1))
    try:
        assert scheduler.submit("k", {"x": np.zeros(3)}, lambda inputs: inputs) is None
        assert scheduler.submit("k", {"x": np.float32(1)}, lambda inputs: inputs) is None
        task = scheduler.submit("k", {"x": np.zeros(2)}, lambda inputs: {"y": inputs["x"] + 1})
        assert task is not None
        task.wait()
        assert task.outcome()["y"].tolist() == [1.0, 1.0]
    finally:
        scheduler.stop()
