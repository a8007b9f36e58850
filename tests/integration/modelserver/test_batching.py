"""Dynamic batching (--enable_batching): coalescing, a full queue, and the REST deadline.

The server batches up to 8 rows, waits up to 1 s for a batch to fill, runs one batch at a
time and holds at most one batch per queue, so a queue with 7 rows waiting rejects 2 more.
"""

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from .conftest import Models
from .harness import ModelEntry, ServerProcess, model_config_text, start_server

BATCHING = """\
max_batch_size { value: 8 }
batch_timeout_micros { value: 1000000 }
num_batch_threads { value: 1 }
max_enqueued_batches { value: 1 }
"""
REST_TIMEOUT_MS = 400


@pytest.fixture(scope="module")
def batching_server(
    models: Models, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("batching_server")
    config, batching = workdir / "models.config", workdir / "batching.config"
    entries = [
        ModelEntry("batch_probe", models.batch_probe),
        ModelEntry("half_plus_three", models.half_plus_three, versions=(124,)),
    ]
    config.write_text(model_config_text(entries))
    batching.write_text(BATCHING)
    args = [
        f"--model_config_file={config}",
        "--enable_batching=true",
        f"--batching_parameters_file={batching}",
        f"--rest_api_timeout_in_ms={REST_TIMEOUT_MS}",
    ]
    models_wanted = {"batch_probe": "AVAILABLE", "half_plus_three": "AVAILABLE"}
    proc = start_server(workdir, args, "batching", models_wanted)
    yield proc
    assert proc.alive(), proc.log()
    assert proc.stop() == 0, proc.log()


@pytest.fixture(scope="module")
def stub(
    batching_server: ServerProcess,
) -> Iterator[prediction_service_pb2_grpc.PredictionServiceStub]:
    with grpc.insecure_channel(batching_server.grpc_target) as channel:
        yield prediction_service_pb2_grpc.PredictionServiceStub(channel)


def probe(stub: prediction_service_pb2_grpc.PredictionServiceStub, rows: int) -> np.ndarray:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "batch_probe"
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.arange(rows, dtype=np.float32)))
    response = stub.Predict(request, timeout=30)
    np.testing.assert_array_equal(tf.make_ndarray(response.outputs["y"]), np.arange(rows) + 1)
    return tf.make_ndarray(response.outputs["batch_size"])


def test_concurrent_requests_run_as_one_batch(
    stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> None:
    start = threading.Barrier(8)

    def one_row(_: int) -> int:
        start.wait(timeout=10)
        return int(probe(stub, 1)[0])

    with ThreadPoolExecutor(max_workers=8) as pool:
        sizes = list(pool.map(one_row, range(8)))
    assert max(sizes) > 1, sizes
    assert sum(1 for s in sizes if s > 1) >= 2


def test_a_request_larger_than_max_batch_size_runs_alone(
    stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> None:
    assert probe(stub, 10).tolist() == [10] * 10


def test_a_full_queue_is_resource_exhausted(
    batching_server: ServerProcess, stub: prediction_service_pb2_grpc.PredictionServiceStub
) -> None:
    """7 rows wait for the 1 s batch timeout; 2 more rows cannot fit in the only batch."""
    for _attempt in range(3):
        with ThreadPoolExecutor(max_workers=1) as pool:
            filler = pool.submit(probe, stub, 7)
            time.sleep(0.2)
            if filler.done():  # ran before the others came: the machine stalled; try again
                continue
            with pytest.raises(grpc.RpcError) as caught:
                probe(stub, 2)
            rest = batching_server.post("/v1/models/batch_probe:predict", {"instances": [1.0, 2.0]})
            still_queued = not filler.done()
            assert filler.result(timeout=30).tolist() == [7] * 7
        if still_queued:
            break
    else:
        pytest.fail("could not hold 7 rows in the queue for 0.2 s in 3 attempts")
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "queue" in caught.value.details() and "full" in caught.value.details()
    assert rest.status_code == 429, rest.text
    assert "full" in rest.json()["error"]


def test_rest_deadline_is_gateway_timeout(batching_server: ServerProcess) -> None:
    """A lone row waits 1 s for its batch to fill, past the 0.4 s REST deadline."""
    started = time.monotonic()
    answer = batching_server.post("/v1/models/half_plus_three:predict", {"instances": [1.0]})
    assert answer.status_code == 504, answer.text
    assert answer.json() == {"error": "Deadline exceeded"}
    assert time.monotonic() - started < 1.0


def test_batching_parameters_are_logged(batching_server: ServerProcess) -> None:
    assert "max_batch_size=8" in batching_server.log()


def test_stop_fails_queued_requests_and_exits(models: Models, tmp_path: Path) -> None:
    """SIGTERM while a request waits for its batch: the client gets an error, the server exits."""
    config, batching = tmp_path / "models.config", tmp_path / "batching.config"
    config.write_text(model_config_text([ModelEntry("batch_probe", models.batch_probe)]))
    batching.write_text(BATCHING.replace("1000000", "60000000"))  # a batch waits up to 60 s
    args = [
        f"--model_config_file={config}",
        "--enable_batching",
        f"--batching_parameters_file={batching}",
    ]
    server = start_server(tmp_path, args, "stop", {"batch_probe": "AVAILABLE"})
    try:
        with grpc.insecure_channel(server.grpc_target) as channel, ThreadPoolExecutor(1) as pool:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            waiting = pool.submit(probe, stub, 1)
            time.sleep(0.3)
            assert not waiting.done()
            started = time.monotonic()
            assert server.stop() == 0, server.log()
            assert time.monotonic() - started < 10
            with pytest.raises(grpc.RpcError) as caught:
                waiting.result(timeout=10)
        assert caught.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
    finally:
        server.stop()
