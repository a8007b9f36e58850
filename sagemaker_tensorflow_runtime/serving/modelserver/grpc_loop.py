"""The gRPC API on one asyncio event loop: cheap calls run on the loop, costly ones on threads.

Why not grpcio's thread-pool server here: there every call hops from grpcio's polling thread to
a handler thread and back, each hop a GIL hand-off between threads that all want it. With
16 clients on 2 cores half_plus_three ran at ~1,500 predictions/s with a p99 2.2-2.4x its p50
(requests overtook each other in the hand-offs: a backend handler took 0.7 ms, yet a call
waited 8 ms for one); on the loop, ~1,700/s and p99/p50 1.7-2.0, in arrival order.

A call runs on the loop only while its kind (`CallCosts`) has been measured to take at most
`INLINE_SECONDS`: a model that takes long would hold up every other call (and gain nothing from
the loop), so it goes to the thread pool, where TensorFlow runs concurrent calls side by side
(it releases the GIL). A kind starts on the pool and moves to the loop once seen to be cheap;
HandleReloadConfigRequest, which waits for model loads, always runs on the pool.

With batching, a call's `Steps` (dataplane) yield the batch task they wait for; on the loop
the call is suspended until a batch thread has run it, so no thread waits while batches fill
(grpcio's thread-pool server kept one per waiting call, TF Serving's 4 per core of them).
Servicer methods take the request and return the response or such steps; a ServingError they
raise becomes the call's status and message.
"""

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import grpc
from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

from sagemaker_tensorflow_runtime.serving.modelserver.batching import BatchTask
from sagemaker_tensorflow_runtime.serving.modelserver.dataplane import complete
from sagemaker_tensorflow_runtime.serving.modelserver.errors import ServingError

logger = logging.getLogger(__name__)
Kind = tuple[str, str, int]  # (method, model, request size class): see CallCosts
Method = Callable[[Any], Any]  # request -> response, or Steps returning it

# How long a call may hold the loop. Below this a call is mostly Python holding the GIL
# (protobuf, numpy), which a thread would hold just as long; above it TensorFlow's own work
# dominates, and on threads it can overlap other calls. A thread hop costs ~0.3 ms here.
INLINE_SECONDS = 0.005
WINDOW = 8
ALWAYS_ON_POOL = frozenset({"HandleReloadConfigRequest"})
START_TIMEOUT_S = 60.0
PREDICTION_METHODS = ("Predict", "Classify", "Regress", "MultiInference", "GetModelMetadata")
MODEL_METHODS = ("GetModelStatus", "HandleReloadConfigRequest")


class CallCosts:
    """Each kind of call's recent durations, to decide where its next call runs.

    A kind is (method, model, request size within a factor of 4), so a model's small and
    large requests are judged apart. The judge is the median of the last `WINDOW` durations:
    a call on the thread pool is also timed while it waits for the GIL, and under load an
    average kept cheap calls on the pool (a few long waits pulled it over the line, and they
    waited because they were there); a median leaves such waits out, yet a kind whose calls are
    mostly long still leaves the loop. Unknown kinds start on the pool, which also takes a
    model's slow first calls (graph optimisation on first use).
    """

    def __init__(self, inline_seconds: float = INLINE_SECONDS) -> None:
        self.inline_seconds = inline_seconds
        self._recent: dict[Kind, deque[float]] = {}

    def on_loop(self, key: Kind) -> bool:
        recent = self._recent.get(key)
        return recent is not None and sorted(recent)[len(recent) // 2] <= self.inline_seconds

    def record(self, key: Kind, seconds: float) -> None:
        recent = self._recent.get(key)
        if recent is None:  # never empty where `on_loop` can see it
            self._recent.setdefault(key, deque((seconds,), maxlen=WINDOW))
        else:
            recent.append(seconds)


def kind_of(name: str, request: Any) -> Kind:
    spec = getattr(request, "model_spec", None)
    return name, spec.name if spec is not None else "", request.ByteSize().bit_length() // 2


def _on_thread(method: Method, request: Any, costs: CallCosts, key: Kind) -> Any:
    start = time.perf_counter()
    try:
        result = method(request)
        return complete(result) if isinstance(result, Generator) else result
    finally:
        costs.record(key, time.perf_counter() - start)


async def _on_loop(method: Method, request: Any, costs: CallCosts, key: Kind) -> Any:
    """Run `method` here; while its steps wait for a batch, the loop serves other calls.
    What is timed is the time spent running, not the waiting."""
    spent, start, waiting = 0.0, time.perf_counter(), False
    try:
        result = method(request)
        if not isinstance(result, Generator):
            return result
        task = next(result)
        while True:
            spent, waiting = spent + time.perf_counter() - start, True
            await _finished(task)
            start, waiting = time.perf_counter(), False
            task = result.send(None)
    except StopIteration as done:
        return done.value
    finally:
        costs.record(key, spent if waiting else spent + time.perf_counter() - start)


async def _finished(task: BatchTask) -> None:
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def resolve() -> None:
        if not done.done():  # a cancelled call (deadline, client gone) stopped waiting
            done.set_result(None)

    def hand_over() -> None:  # on the batch thread
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
            loop.call_soon_threadsafe(resolve)

    task.when_done(hand_over)
    await done


def adapt(
    name: str, method: Method, costs: CallCosts, pool: ThreadPoolExecutor
) -> Callable[[Any, Any], Awaitable[Any]]:
    """`method` (request -> response or Steps, raising ServingError) as an asyncio handler."""

    async def handler(request: Any, context: Any) -> Any:
        key = kind_of(name, request)
        try:
            if name not in ALWAYS_ON_POOL and costs.on_loop(key):
                return await _on_loop(method, request, costs, key)
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(pool, _on_thread, method, request, costs, key)
        except ServingError as exc:
            await context.abort(grpc.StatusCode[exc.code.name], exc.message)
        except Exception as exc:  # a bad request must not kill the server
            logger.exception("gRPC %s failed", name)
            await context.abort(grpc.StatusCode.INTERNAL, str(exc))

    return handler


def _adapter(
    servicer: Any, names: Sequence[str], costs: CallCosts, pool: ThreadPoolExecutor
) -> Any:
    return SimpleNamespace(
        **{name: adapt(name, getattr(servicer, name), costs, pool) for name in names}
    )


class LoopServer:
    """grpc.aio on its own thread and event loop; `stop` like grpc.Server's."""

    def __init__(
        self,
        address: str,
        prediction: Any,
        models: Any,
        pool_threads: int,
        options: Sequence[tuple[str, Any]],
    ) -> None:
        self.costs = CallCosts()
        self._pool = ThreadPoolExecutor(max_workers=pool_threads, thread_name_prefix="grpc")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="grpc", daemon=True)
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(
            self._start(address, prediction, models, options), self._loop
        )
        try:
            self._server = started.result(START_TIMEOUT_S)
        except BaseException:
            self._close_loop()
            raise

    async def _start(
        self, address: str, prediction: Any, models: Any, options: Sequence[tuple[str, Any]]
    ) -> Any:
        server = grpc.aio.server(options=list(options))
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
            _adapter(prediction, PREDICTION_METHODS, self.costs, self._pool), server
        )
        model_service_pb2_grpc.add_ModelServiceServicer_to_server(
            _adapter(models, MODEL_METHODS, self.costs, self._pool), server
        )
        try:
            bound = server.add_insecure_port(address)
        except RuntimeError:
            bound = 0
        if bound == 0:
            raise OSError(f"cannot bind the gRPC port {address}")
        await server.start()
        return server

    def stop(self, grace: float | None = None) -> None:
        """Refuse new calls, give running ones `grace` seconds, then close the loop."""
        if not self._thread.is_alive():
            return
        stopping = asyncio.run_coroutine_threadsafe(self._server.stop(grace), self._loop)
        try:
            stopping.result((grace or 0) + 5)
        finally:
            self._close_loop()

    def _close_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()
        self._pool.shutdown(wait=False, cancel_futures=True)
