"""The event-loop gRPC server: where each call runs, how errors reach clients, start and stop.

A real grpc.aio server on 127.0.0.1 with the stock tensorflow-serving-api client stubs; the
servicers are small test classes that record the thread each call ran on.
"""

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import grpc
import numpy as np
import pytest
from tensorflow_serving.apis import (
    get_model_status_pb2,
    model_management_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from sagemaker_tensorflow_runtime.serving.modelserver.batching import BatchTask
from sagemaker_tensorflow_runtime.serving.modelserver.dataplane import Steps
from sagemaker_tensorflow_runtime.serving.modelserver.errors import Code, ServingError
from sagemaker_tensorflow_runtime.serving.modelserver.grpc_loop import (
    INLINE_SECONDS,
    WINDOW,
    CallCosts,
    LoopServer,
    kind_of,
)

LOOP_THREAD = "grpc"  # the loop's thread; the pool's are grpc_0, grpc_1, ...


class Prediction:
    """Predict sleeps for `delays[model]` seconds, waits for `gates[model]` when set, or (model
    "batched") waits for `batch`, a BatchTask another thread finishes, as data-plane steps do."""

    def __init__(self) -> None:
        self.threads: list[tuple[str, str]] = []
        self.delays: dict[str, float] = {}
        self.gates: dict[str, threading.Event] = {}
        self.batch: BatchTask | None = None

    def Predict(self, request: Any) -> Any:
        model = request.model_spec.name
        self.threads.append((model, threading.current_thread().name))
        if model == "missing":
            raise ServingError(Code.NOT_FOUND, f"Servable not found for request: {model}")
        if model == "broken":
            raise RuntimeError("not a ServingError")
        if model == "batched":
            return self._batched()
        if model in self.gates:
            assert self.gates[model].wait(30), "the gate was never opened"
        time.sleep(self.delays.get(model, 0.0))
        return answer(model)

    def _batched(self) -> Steps[Any]:
        assert self.batch is not None
        yield self.batch
        self.threads.append(("batched, resumed", threading.current_thread().name))
        return answer(f"batched {self.batch.outcome()['y'][0]:g}")

    def Classify(self, request: Any) -> Any:
        raise NotImplementedError  # the server registers every method; these tests need one

    Regress = MultiInference = GetModelMetadata = Classify


def answer(model: str) -> Any:
    response = predict_pb2.PredictResponse()
    response.model_spec.name = model
    return response


class Models:
    def __init__(self) -> None:
        self.threads: list[str] = []

    def GetModelStatus(self, request: Any) -> Any:
        self.threads.append(threading.current_thread().name)
        return get_model_status_pb2.GetModelStatusResponse()

    def HandleReloadConfigRequest(self, request: Any) -> Any:
        self.threads.append(threading.current_thread().name)
        return model_management_pb2.ReloadConfigResponse()


class Servicers:
    def __init__(self) -> None:
        self.prediction = Prediction()
        self.models = Models()


@pytest.fixture
def served() -> Iterator[tuple[Servicers, grpc.Channel, LoopServer]]:
    servicers = Servicers()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = LoopServer(
        f"127.0.0.1:{port}",
        servicers.prediction,
        servicers.models,
        pool_threads=4,
        options=[],
    )
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield servicers, channel, server
    finally:
        channel.close()
        server.stop(0)


def predict(channel: grpc.Channel, model: str) -> Any:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    return prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=30)


def test_costs_unknown_kinds_go_to_the_pool_cheap_ones_to_the_loop() -> None:
    costs = CallCosts()
    key = ("Predict", "m", 3)
    cheap, slow = INLINE_SECONDS / 4, INLINE_SECONDS * 10
    assert not costs.on_loop(key)
    costs.record(key, cheap)
    assert costs.on_loop(key)
    for _ in range(WINDOW - 1):
        costs.record(key, cheap)
    for _ in range(WINDOW // 2 - 1):  # slow calls (waits for the GIL) among cheap ones
        costs.record(key, slow)
    assert costs.on_loop(key)
    costs.record(key, slow)  # half the window slow: off the loop
    assert not costs.on_loop(key)
    for _ in range(WINDOW // 2):  # the slow ones still half the window
        costs.record(key, cheap)
        assert not costs.on_loop(key)
    costs.record(key, cheap)  # cheap ones in the majority again
    assert costs.on_loop(key)
    assert not costs.on_loop(("Predict", "other", 3))
    assert not costs.on_loop(("Predict", "m", 4))


def test_kinds_tell_models_and_request_sizes_apart() -> None:
    small, large, other = (predict_pb2.PredictRequest() for _ in range(3))
    small.model_spec.name = large.model_spec.name = "m"
    other.model_spec.name = "n"
    large.inputs["x"].tensor_content = bytes(1 << 20)
    assert kind_of("Predict", small)[:2] == ("Predict", "m")
    assert kind_of("Predict", small) != kind_of("Predict", large)
    assert kind_of("Predict", small) != kind_of("Predict", other)
    assert kind_of("HandleReloadConfigRequest", model_management_pb2.ReloadConfigRequest())


def test_a_cheap_model_moves_to_the_loop(served: Any) -> None:
    servicers, channel, _ = served
    for _ in range(3):
        assert predict(channel, "cheap").model_spec.name == "cheap"
    threads = [thread for _, thread in servicers.prediction.threads]
    assert threads[0].startswith("grpc_")  # first seen: the pool
    assert threads[1:] == [LOOP_THREAD, LOOP_THREAD]


def test_a_costly_model_stays_on_the_pool_and_never_holds_up_the_loop(served: Any) -> None:
    servicers, channel, _ = served
    prediction = servicers.prediction
    prediction.delays["slow"] = INLINE_SECONDS * 2
    predict(channel, "slow")
    predict(channel, "cheap")
    predict(channel, "cheap")  # now on the loop
    gate = prediction.gates["slow"] = threading.Event()
    answers: list[Any] = []
    waiting = threading.Thread(target=lambda: answers.append(predict(channel, "slow")))
    waiting.start()
    try:
        for _ in range(3):  # answered while the slow call is still held
            assert predict(channel, "cheap").model_spec.name == "cheap"
        assert not answers
    finally:
        gate.set()
        waiting.join(30)
    assert answers[0].model_spec.name == "slow"
    slow_threads = [thread for model, thread in prediction.threads if model == "slow"]
    assert all(thread.startswith("grpc_") for thread in slow_threads)
    cheap_threads = [thread for model, thread in prediction.threads if model == "cheap"]
    assert cheap_threads[1:] == [LOOP_THREAD] * 4


def test_reload_always_runs_on_the_pool(served: Any) -> None:
    servicers, channel, _ = served
    stub = model_service_pb2_grpc.ModelServiceStub(channel)
    for _ in range(3):
        stub.HandleReloadConfigRequest(model_management_pb2.ReloadConfigRequest(), timeout=30)
        stub.GetModelStatus(get_model_status_pb2.GetModelStatusRequest(), timeout=30)
    reloads, statuses = servicers.models.threads[0::2], servicers.models.threads[1::2]
    assert all(thread.startswith("grpc_") for thread in reloads)
    assert statuses[1:] == [LOOP_THREAD, LOOP_THREAD]


@pytest.mark.parametrize("calls", [1, 3], ids=["on the pool", "on the loop"])
def test_abort_reaches_the_client_with_its_code_and_message(served: Any, calls: int) -> None:
    _, channel, _ = served
    for _ in range(calls):
        with pytest.raises(grpc.RpcError) as failure:
            predict(channel, "missing")
    assert failure.value.code() == grpc.StatusCode.NOT_FOUND
    assert failure.value.details() == "Servable not found for request: missing"


def test_an_unexpected_exception_is_internal_with_its_message(served: Any) -> None:
    _, channel, _ = served
    with pytest.raises(grpc.RpcError) as failure:
        predict(channel, "broken")
    assert failure.value.code() == grpc.StatusCode.INTERNAL
    assert failure.value.details() == "not a ServingError"
    assert predict(channel, "cheap").model_spec.name == "cheap"


def batch_task() -> BatchTask:
    return BatchTask({"x": np.zeros(1)}, 1, lambda inputs: inputs)


def test_a_call_waiting_for_its_batch_holds_neither_the_loop_nor_a_thread(served: Any) -> None:
    servicers, channel, _ = served
    prediction = servicers.prediction
    for _ in range(2):  # first seen on the pool (blocking there), then on the loop
        prediction.batch = batch_task()
        prediction.batch.finish({"y": np.array([1.0])})
        assert predict(channel, "batched").model_spec.name == "batched 1"
    prediction.batch = waiting = batch_task()
    answers: list[Any] = []
    caller = threading.Thread(target=lambda: answers.append(predict(channel, "batched")))
    caller.start()
    try:
        deadline = time.monotonic() + 30
        while len(prediction.threads) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)  # until the third call has yielded its task
        for _ in range(2):
            assert predict(channel, "cheap").model_spec.name == "cheap"
        assert not answers
    finally:
        threading.Thread(target=waiting.finish, args=({"y": np.array([2.0])},)).start()
        caller.join(30)
    assert answers[0].model_spec.name == "batched 2"
    batched = [thread for model, thread in prediction.threads if model.startswith("batched")]
    assert batched[0].startswith("grpc_") and batched[1].startswith("grpc_")
    assert batched[2:] == [LOOP_THREAD] * 4  # started and resumed on the loop, twice


def test_a_batch_error_reaches_the_caller_on_the_loop(served: Any) -> None:
    servicers, channel, _ = served
    prediction = servicers.prediction
    for _ in range(2):  # first seen on the pool, then on the loop
        prediction.batch = batch_task()
        prediction.batch.finish({"y": np.array([1.0])})
        predict(channel, "batched")
    prediction.batch = batch_task()
    prediction.batch.finish(error=ServingError(Code.INVALID_ARGUMENT, "bad rows"))
    with pytest.raises(grpc.RpcError) as failure:
        predict(channel, "batched")
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.value.details() == "bad rows"
    assert prediction.threads[-2:] == [("batched", LOOP_THREAD), ("batched, resumed", LOOP_THREAD)]
