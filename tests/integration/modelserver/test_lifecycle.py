"""Model lifecycle: a failing model beside healthy ones, warm-up, run-time reloads, and flags."""

from collections.abc import Iterator
from pathlib import Path
from subprocess import CompletedProcess

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (
    get_model_status_pb2,
    model_management_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)
from tensorflow_serving.config import model_server_config_pb2

from .conftest import Models
from .harness import ServerProcess, run_all, start_server

END = get_model_status_pb2.ModelVersionStatus.State.END
AVAILABLE = get_model_status_pb2.ModelVersionStatus.State.AVAILABLE


def test_failing_model_beside_healthy_ones(server: ServerProcess) -> None:
    status = server.get("/v1/models/broken").json()["model_version_status"]
    assert [(s["version"], s["state"]) for s in status] == [("1", "END")]
    assert status[0]["status"]["error_code"] == "UNKNOWN"
    assert status[0]["status"]["error_message"].startswith(
        "Failed to load servable broken version 1: "
    )
    answer = server.post("/v1/models/half_plus_three:predict", {"instances": [1.0]})
    assert answer.json() == {"predictions": [3.5]}


def test_warmup_requests_are_replayed_at_load(server: ServerProcess) -> None:
    log = server.log()
    assert "Finished reading warmup data for model at " in log
    assert "Number of warmup records read: 1." in log
    assert server.post("/v1/models/warm:predict", {"instances": [1.0]}).json() == {
        "predictions": [3.5]
    }


def test_unknown_flags_are_warned_about_and_ignored(server: ServerProcess) -> None:
    log = server.log()
    assert "Ignoring unknown flag --unknown_flag_for_test" in log
    assert "Ignoring unknown flag --another_unknown" in log
    assert "Exporting HTTP/REST API at:localhost:" in log


@pytest.fixture(scope="module")
def short_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CompletedProcess[str]]:
    """Command lines that exit at once, run side by side to share the TensorFlow import time."""
    workdir = tmp_path_factory.mktemp("short_runs")
    (workdir / "unparsable.config").write_text(UNPARSABLE)
    return run_all(
        {
            "version": ["--version"],
            "unparsable": [f"--model_config_file={workdir / 'unparsable.config'}", "--port=0"],
            "missing": [f"--model_config_file={workdir / 'missing.config'}", "--port=0"],
            "bad flag value": ["--port=notaport"],
        }
    )


UNPARSABLE = "model_config_list: { config: { name: 'x' base_pat: '/m' } }"


def test_version_flag_prints_and_exits_0(short_runs: dict[str, CompletedProcess[str]]) -> None:
    result = short_runs["version"]
    assert result.returncode == 0, result.stderr
    assert "TensorFlow ModelServer: " in result.stdout
    assert f"TensorFlow Library: {tf.__version__}" in result.stdout


@pytest.mark.parametrize(
    ("run", "message"),
    [
        ("unparsable", "invalid ModelServerConfig text"),
        ("missing", "cannot read model config file"),
        ("bad flag value", "--port: 'notaport' is not a valid int"),
    ],
)
def test_bad_configuration_exits_non_zero_with_a_message(
    short_runs: dict[str, CompletedProcess[str]], run: str, message: str
) -> None:
    result = short_runs[run]
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def reload_server(
    models: Models, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """Started with --model_name/--model_base_path: half_plus_three, latest version only."""
    workdir = tmp_path_factory.mktemp("reload_server")
    args = ["--model_name=half_plus_three", f"--model_base_path={models.half_plus_three}"]
    proc = start_server(workdir, args, "reload", {"half_plus_three": "AVAILABLE"})
    yield proc
    assert proc.alive(), proc.log()
    assert proc.stop() == 0, proc.log()


def reload_request(**bases: Path) -> model_management_pb2.ReloadConfigRequest:
    config = model_server_config_pb2.ModelServerConfig()
    for name, base in bases.items():
        entry = config.model_config_list.config.add()
        entry.name = name
        entry.base_path = str(base)
        entry.model_platform = "tensorflow"
    return model_management_pb2.ReloadConfigRequest(config=config)


def statuses(stub: model_service_pb2_grpc.ModelServiceStub, name: str) -> list[tuple[int, int]]:
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = name
    response = stub.GetModelStatus(request, timeout=30)
    return [(s.version, s.state) for s in response.model_version_status]


def predict(stub: prediction_service_pb2_grpc.PredictionServiceStub, name: str) -> list[float]:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = name
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array([1.0], dtype=np.float32)))
    return tf.make_ndarray(stub.Predict(request, timeout=30).outputs["y"]).tolist()


def test_reload_loads_and_unloads_models_at_run_time(
    reload_server: ServerProcess, models: Models
) -> None:
    with grpc.insecure_channel(reload_server.grpc_target) as channel:
        models_stub = model_service_pb2_grpc.ModelServiceStub(channel)
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        assert statuses(models_stub, "half_plus_three") == [(124, AVAILABLE)]

        both = reload_request(
            half_plus_three=models.half_plus_three, half_plus_two=models.half_plus_two
        )
        response = models_stub.HandleReloadConfigRequest(both, timeout=60)
        assert response.status.error_code == 0, response.status.error_message
        assert statuses(models_stub, "half_plus_two") == [(123, AVAILABLE)]
        assert predict(stub, "half_plus_two") == [2.5]
        assert predict(stub, "half_plus_three") == [3.5]

        only_two = reload_request(half_plus_two=models.half_plus_two)
        response = models_stub.HandleReloadConfigRequest(only_two, timeout=60)
        assert response.status.error_code == 0, response.status.error_message
        assert statuses(models_stub, "half_plus_three") == [(124, END)]
        with pytest.raises(grpc.RpcError) as caught:
            predict(stub, "half_plus_three")
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        assert predict(stub, "half_plus_two") == [2.5]
    rest = reload_server.get("/v1/models/half_plus_three").json()["model_version_status"]
    assert [(s["version"], s["state"]) for s in rest] == [("124", "END")]


def test_reload_with_a_failing_model_reports_its_error(
    reload_server: ServerProcess, models: Models
) -> None:
    with grpc.insecure_channel(reload_server.grpc_target) as channel:
        models_stub = model_service_pb2_grpc.ModelServiceStub(channel)
        request = reload_request(half_plus_two=models.half_plus_two, broken=models.broken)
        response = models_stub.HandleReloadConfigRequest(request, timeout=60)
        assert response.status.error_code != 0
        assert "Failed to load servable broken version 1" in response.status.error_message
        assert statuses(models_stub, "broken") == [(1, END)]
        assert statuses(models_stub, "half_plus_two") == [(123, AVAILABLE)]


def test_reload_with_an_unsupported_config_is_invalid(reload_server: ServerProcess) -> None:
    with grpc.insecure_channel(reload_server.grpc_target) as channel:
        models_stub = model_service_pb2_grpc.ModelServiceStub(channel)
        request = reload_request(x=Path("/nowhere"))
        request.config.model_config_list.config[0].model_platform = "pytorch"
        with pytest.raises(grpc.RpcError) as caught:
            models_stub.HandleReloadConfigRequest(request, timeout=30)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
