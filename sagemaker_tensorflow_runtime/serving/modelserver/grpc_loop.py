"""The gRPC API on one asyncio event loop: cheap calls run on the loop, costly ones on threads.

Why not grpcio's thread-pool server here: there every call hops from grpcio's polling thread to
a handler thread and back, each hop a GIL hand-off between threads that all want it. With
16 clients on 2 cores half_plus_three ran at ~1,500 predictions/s with a p99 2.2-2.4x its p50
(requests overtook each other in the hand-offs: a backend handler took 0.7 ms, yet a call
waited 8 ms for one); on the loop, ~1,700/s and p99/p50 ~1.8, answered in arrival order.

A call runs on the loop only while its kind (`CallCosts`) has been measured to take at most
`INLINE_SECONDS`: a model that takes long would hold up every other call (and gain nothing from
the loop), so it goes to the thread pool, where TensorFlow runs concurrent calls side by side
(it releases the GIL). A kind starts on the pool and moves to the loop once seen to be cheap;
HandleReloadConfigRequest, which waits for model loads, always runs on the pool.
The servicers are the thread-pool server's, unchanged: they end a call with `context.abort`,
which here raises `_Abort` for the loop to answer with.
"""

import asyncio
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any, NoReturn

import grpc
from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

# How long a call may hold the loop. Below this a call is mostly Python holding the GIL
# (protobuf, numpy), which a thread would hold just as long; above it TensorFlow's own work
# dominates, and on threads it can overlap other calls. A thread hop costs ~0.3 ms here.
INLINE_SECONDS = 0.005
WINDOW = 8
ALWAYS_ON_POOL = frozenset({"HandleReloadConfigRequest"})
START_TIMEOUT_S = 60.0
PREDICTION_METHODS = ("Predict", "Classify", "Regress", "MultiInference", "GetModelMetadata")
MODEL_METHODS = ("GetModelStatus", "HandleReloadConfigRequest")


class _Abort(Exception):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


class _RaisingContext:
    """What the servicers use of a ServicerContext, for a call run outside grpcio's own."""

    def abort(self, code: grpc.StatusCode, details: str) -> NoReturn:
        raise _Abort(code, details)


RAISING_CONTEXT = _RaisingContext()


class CallCosts:
    """Each kind of call's recent durations, to decide where its next call runs.

    A kind is (method, model, request size within a factor of 4), so a model's small and
    large requests are judged apart. The judge is the shortest of the last `WINDOW`: a call
    on the thread pool is also timed while it waits for the GIL, and under load that kept
    cheap calls on the pool (their average stayed above the line because they were there);
    the shortest of several leaves most of the waiting out. Unknown kinds start on the pool,
    which also takes a model's slow first calls (graph optimisation on first use).
    """

    def __init__(self, inline_seconds: float = INLINE_SECONDS) -> None:
        self.inline_seconds = inline_seconds
        self._recent: dict[tuple[str, str, int], deque[float]] = {}

    def on_loop(self, key: tuple[str, str, int]) -> bool:
        recent = self._recent.get(key)
        return recent is not None and min(recent) <= self.inline_seconds

    def record(self, key: tuple[str, str, int], seconds: float) -> None:
        recent = self._recent.get(key)
        if recent is None:  # never empty where `on_loop` can see it
            self._recent.setdefault(key, deque((seconds,), maxlen=WINDOW))
        else:
            recent.append(seconds)


def kind_of(name: str, request: Any) -> tuple[str, str, int]:
    spec = getattr(request, "model_spec", None)
    return name, spec.name if spec is not None else "", request.ByteSize().bit_length() // 2


def _timed(method: Callable[[Any, Any], Any], request: Any, costs: CallCosts, key: Any) -> Any:
    start = time.perf_counter()
    try:
        return method(request, RAISING_CONTEXT)
    finally:
        costs.record(key, time.perf_counter() - start)


def adapt(
    name: str, method: Callable[[Any, Any], Any], costs: CallCosts, pool: ThreadPoolExecutor
) -> Callable[[Any, Any], Awaitable[Any]]:
    """`method` (a thread-pool servicer's) as an asyncio handler."""

    async def handler(request: Any, context: Any) -> Any:
        key = kind_of(name, request)
        try:
            if name not in ALWAYS_ON_POOL and costs.on_loop(key):
                return _timed(method, request, costs, key)
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(pool, _timed, method, request, costs, key)
        except _Abort as exc:
            await context.abort(exc.code, exc.details)

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
