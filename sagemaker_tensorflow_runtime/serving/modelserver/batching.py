"""Dynamic batching: concurrent requests with the same model, signature and row shape run as one.

Parameters come from TF Serving's BatchingParameters text file. A batch runs when it holds
`max_batch_size` rows or when its oldest request has waited `batch_timeout_micros`; batches run
on `num_batch_threads` threads; more than `max_enqueued_batches` batches waiting is
RESOURCE_EXHAUSTED (HTTP 429). A request larger than `max_batch_size` rows runs on its own.
"""

import logging
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sagemaker_tensorflow_runtime.serving.modelserver.errors import Code, ServingError

logger = logging.getLogger(__name__)

Arrays = dict[str, np.ndarray]
RunBatch = Callable[[Arrays], Arrays]


@dataclass(frozen=True)
class BatchingParameters:
    """The subset of TF Serving's BatchingParameters the embedded server honours."""

    max_batch_size: int = 1000
    batch_timeout_micros: int = 0
    num_batch_threads: int = field(default_factory=lambda: os.cpu_count() or 1)
    max_enqueued_batches: int = 10
    allowed_batch_sizes: tuple[int, ...] = ()

    @classmethod
    def from_text(cls, text: str) -> "BatchingParameters":
        """Parse the BatchingParameters text format (`max_batch_size { value: 8 }` lines)."""
        values: dict[str, int] = {}
        allowed: list[int] = []
        for field_name, wrapped, plain in FIELD.findall(_strip_comments(text)):
            if field_name == "allowed_batch_sizes":
                allowed.append(int(plain))
            elif field_name in INT_FIELDS:
                values[field_name] = int(wrapped or plain)
            else:
                logger.warning("Ignoring unsupported batching parameter %s", field_name)
        rest = FIELD.sub("", _strip_comments(text)).strip()
        if rest:
            raise ValueError(f"cannot parse batching parameters near {rest[:60]!r}")
        return cls(**values, allowed_batch_sizes=tuple(sorted(allowed)))

    @classmethod
    def from_file(cls, path: Path) -> "BatchingParameters":
        return cls.from_text(path.read_text(encoding="utf-8"))


INT_FIELDS = ("max_batch_size", "batch_timeout_micros", "num_batch_threads", "max_enqueued_batches")
FIELD = re.compile(
    r"(\w+)\s*(?:\{\s*value\s*:\s*(-?\d+)\s*\}|:\s*(-?\d+|true|false))", re.IGNORECASE
)


def _locked() -> Any:
    lock = threading.Lock()
    lock.acquire()
    return lock


def _strip_comments(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


@dataclass
class BatchTask:
    """One request's rows. A handler thread blocks on `_done` until the batch has run (a bare
    lock: a Future's condition variable cost more per request than the batching saved); an
    event loop asks for a callback instead (`when_done`)."""

    inputs: Arrays
    rows: int
    run: RunBatch
    enqueued: float = field(default_factory=time.monotonic)
    result: Arrays | None = None
    error: BaseException | None = None
    finished: bool = False
    _done: Any = field(default_factory=_locked)
    _guard: threading.Lock = field(default_factory=threading.Lock)
    _callback: Callable[[], None] | None = None

    def finish(self, result: Arrays | None = None, error: BaseException | None = None) -> None:
        with self._guard:
            if self.finished:
                return
            self.result, self.error, self.finished = result, error, True
            callback = self._callback
        self._done.release()
        if callback is not None:
            callback()

    def when_done(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the task has finished (at once if it has), on the finishing
        thread: it must only hand over, e.g. `loop.call_soon_threadsafe`."""
        with self._guard:
            if not self.finished:
                self._callback = callback
                return
        callback()

    def outcome(self) -> Arrays:
        """The rows' outputs, or the batch's error raised; only once finished."""
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result

    def wait(self) -> None:
        """Block this thread until the task has finished (once per task)."""
        self._done.acquire()


class BatchScheduler:
    """Queues per batch key, drained by a fixed set of batch threads."""

    def __init__(self, params: BatchingParameters) -> None:
        self.params = params
        self._queues: dict[Hashable, deque[BatchTask]] = {}
        self._cond = threading.Condition()
        self._stopped = False
        self.batches_run = 0
        self._threads = [
            threading.Thread(target=self._work, name=f"batch-{i}", daemon=True)
            for i in range(max(1, params.num_batch_threads))
        ]
        for thread in self._threads:
            thread.start()

    def submit(
        self, key: Hashable, inputs: Mapping[str, np.ndarray], run: RunBatch
    ) -> BatchTask | None:
        """Queue `inputs` for a batch; None when they cannot be batched (no common first
        dimension, or more rows than a batch holds): the caller runs them on their own."""
        rows = _rows(inputs)
        if rows is None or rows > self.params.max_batch_size:
            return None
        task = BatchTask(dict(inputs), rows, run)
        limit = self.params.max_enqueued_batches * self.params.max_batch_size
        with self._cond:
            if self._stopped:
                raise _shutting_down()
            queue = self._queues.setdefault(key, deque())
            queued = sum(t.rows for t in queue)
            if queued + rows > limit:
                raise ServingError(
                    Code.RESOURCE_EXHAUSTED,
                    "The batch scheduling queue to which this task was submitted is full",
                )
            queue.append(task)
            # Wake a batch thread only when there is something new to do: a first task (a new
            # deadline to wait for) or a full batch. A wake-up per task cost more than the
            # batch saved (each one a GIL hand-off to a thread that goes back to waiting).
            if not queued or queued + rows >= self.params.max_batch_size:
                self._cond.notify()
        return task

    def stop(self) -> None:
        """Stop the batch threads; queued requests fail at once instead of waiting forever."""
        with self._cond:
            self._stopped = True
            for queue in self._queues.values():
                while queue:
                    queue.popleft().finish(error=_shutting_down())
            self._cond.notify_all()

    def _work(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            self._execute(batch)

    def _next_batch(self) -> list[BatchTask] | None:
        timeout = self.params.batch_timeout_micros / 1e6
        with self._cond:
            while not self._stopped:
                now = time.monotonic()
                wake_at: float | None = None
                for _key, queue in self._queues.items():
                    if not queue:
                        continue
                    due = queue[0].enqueued + timeout
                    if sum(t.rows for t in queue) >= self.params.max_batch_size or due <= now:
                        return self._take(queue)
                    wake_at = due if wake_at is None else min(wake_at, due)
                self._cond.wait(None if wake_at is None else wake_at - now)
            return None

    def _take(self, queue: deque[BatchTask]) -> list[BatchTask]:
        batch, rows = [], 0
        while queue and rows + queue[0].rows <= self.params.max_batch_size:
            task = queue.popleft()
            batch.append(task)
            rows += task.rows
        return batch

    def _execute(self, batch: list[BatchTask]) -> None:
        self.batches_run += 1
        try:
            merged = {
                key: np.concatenate([t.inputs[key] for t in batch]) for key in batch[0].inputs
            }
            total = sum(t.rows for t in batch)
            padded = self._padded_size(total)
            if padded > total:
                merged = {k: _pad(v, padded) for k, v in merged.items()}
            outputs = batch[0].run(merged)
            offset = 0
            for task in batch:
                task.finish({k: v[offset : offset + task.rows] for k, v in outputs.items()})
                offset += task.rows
        except Exception as exc:  # the batch's error is every member's error
            for task in batch:
                task.finish(error=exc)

    def _padded_size(self, rows: int) -> int:
        return next((s for s in self.params.allowed_batch_sizes if s >= rows), rows)


def _shutting_down() -> ServingError:
    return ServingError(Code.UNAVAILABLE, "The batch scheduler is shutting down")


def _rows(inputs: Mapping[str, np.ndarray]) -> int | None:
    sizes = {v.shape[0] for v in inputs.values() if v.ndim > 0}
    if len(sizes) != 1 or any(v.ndim == 0 for v in inputs.values()):
        return None
    return sizes.pop()


def _pad(array: np.ndarray, rows: int) -> np.ndarray:
    filler = np.repeat(array[:1], rows - array.shape[0], axis=0)
    return np.concatenate([array, filler])


def batch_key(
    servable_id: int, signature: str, inputs: Mapping[str, np.ndarray]
) -> tuple[Hashable, ...]:
    return (
        servable_id,
        signature,
        tuple(sorted((k, v.dtype.str, v.shape[1:]) for k, v in inputs.items())),
    )
