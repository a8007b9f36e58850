"""The batch scheduler's timing: a full batch runs at once, a lone task after its timeout."""

import threading
import time

import numpy as np

from sagemaker_tensorflow_runtime.serving.modelserver.batching import (
    BatchingParameters,
    BatchScheduler,
)


def double(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {"y": batch["x"] * 2}


def run_concurrently(scheduler: BatchScheduler, keys: list[str]) -> dict[int, np.ndarray]:
    results: dict[int, np.ndarray] = {}

    def one(index: int) -> None:
        inputs = {"x": np.array([float(index)])}
        results[index] = scheduler.run(keys[index], inputs, double)["y"]

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
