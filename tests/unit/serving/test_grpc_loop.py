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
import pytest
from tensorflow_serving.apis import (
    get_model_status_pb2,
    model_management_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from sagemaker_tensorflow_runtime.serving.modelserver.grpc_loop import (
    INLINE_SECONDS,
    WINDOW,
    CallCosts,
    LoopServer,
    kind_of,
)

LOOP_THREAD = "grpc"  # the loop's thread; the pool's are grpc_0, grpc_1, ...


class Prediction:
    """Predict sleeps for `delays[model]` seconds, or waits for `gates[model]` when set."""

    def __init__(self) -> None:
        self.threads: list[tuple[str, str]] = []
        self.delays: dict[str, float] = {}
        self.gates: dict[str, threading.Event] = {}

    def Predict(self, request: Any, context: Any) -> Any:
        model = request.model_spec.name
        self.threads.append((model, threading.current_thread().name))
        if model == "missing":
            context.abort(grpc.StatusCode.NOT_FOUND, f"Servable not found for request: {model}")
        if model == "broken":
            raise RuntimeError("not a ServingError")  # a servicer bug: grpcio's UNKNOWN
        if model in self.gates:
            assert self.gates[model].wait(30), "the gate was never opened"
        time.sleep(self.delays.get(model, 0.0))
        response = predict_pb2.PredictResponse()
        response.model_spec.name = model
        return response

    def Classify(self, request: Any, context: Any) -> Any:
        raise NotImplementedError  # the server registers every method; these tests need one

    Regress = MultiInference = GetModelMetadata = Classify


class Models:
    def __init__(self) -> None:
        self.threads: list[str] = []

    def GetModelStatus(self, request: Any, context: Any) -> Any:
        self.threads.append(threading.current_thread().name)
        return get_model_status_pb2.GetModelStatusResponse()

    def HandleReloadConfigRequest(self, request: Any, context: Any) -> Any:
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
    assert not costs.on_loop(key)
    costs.record(key, INLINE_SECONDS / 4)
    assert costs.on_loop(key)
    for _ in range(WINDOW - 1):  # slow calls (waiting for the GIL) among cheap ones: still cheap
        costs.record(key, INLINE_SECONDS * 10)
    assert costs.on_loop(key)
    costs.record(key, INLINE_SECONDS * 10)  # a whole window of slow calls: off the loop
    assert not costs.on_loop(key)
    costs.record(key, INLINE_SECONDS / 4)
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


def test_an_unexpected_exception_fails_the_call_not_the_server(served: Any) -> None:
    _, channel, _ = served
    with pytest.raises(grpc.RpcError) as failure:
        predict(channel, "broken")
    assert failure.value.code() == grpc.StatusCode.UNKNOWN
    assert predict(channel, "cheap").model_spec.name == "cheap"


def test_a_taken_port_is_an_oserror_naming_it() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        before = {thread.name for thread in threading.enumerate()}
        with pytest.raises(OSError, match=f"cannot bind the gRPC port {address}"):
            LoopServer(address, Prediction(), Models(), pool_threads=1, options=[])
        assert LOOP_THREAD not in {t.name for t in threading.enumerate()} - before


def test_stop_refuses_calls_and_ends_the_loop_thread(served: Any) -> None:
    _, channel, server = served
    predict(channel, "cheap")
    server.stop(0)
    with pytest.raises(grpc.RpcError) as failure:
        predict(channel, "cheap")
    assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
    assert not server._thread.is_alive()
