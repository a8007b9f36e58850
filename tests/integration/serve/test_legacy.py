"""The legacy Python endpoint: SAGEMAKER_PROGRAM with input_fn / output_fn / transform_fn."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from .harness import ServeProcess, ServeTree, running_serve

INPUT_FN_ONLY = """
import json

def input_fn(serialized_input, content_type):
    return {"x": json.loads(serialized_input)["values"]}
"""

OUTPUT_FN_ONLY = """
import json

def output_fn(prediction, accepts):
    return json.dumps({"y": list(prediction.outputs["y"].float_val), "accepts": accepts})
"""

BOTH_KINDS = """
def transform_fn(data, content_type, accepts):
    return data

def input_fn(data, content_type):
    return data
"""


def legacy_tree(base: Path, hpt_source: Path, module: str) -> tuple[ServeTree, dict[str, str]]:
    tree = ServeTree(base)
    servo = tree.model_dir / "export" / "Servo"
    servo.mkdir(parents=True)
    import shutil

    shutil.copytree(hpt_source / "00000123", servo / "1")
    source = base / "source"
    source.mkdir()
    (source / "entry.py").write_text(module, encoding="utf-8")
    env = {"SAGEMAKER_PROGRAM": "entry.py", "SAGEMAKER_SUBMIT_DIRECTORY": str(source)}
    return tree, env


@pytest.fixture(scope="module")
def input_fn_server(
    tmp_path_factory: pytest.TempPathFactory, hpt_source: Path
) -> Iterator[ServeProcess]:
    tree, env = legacy_tree(tmp_path_factory.mktemp("legacy_in"), hpt_source, INPUT_FN_ONLY)
    with running_serve(tree, **env) as server:
        yield server


@pytest.fixture(scope="module")
def output_fn_server(
    tmp_path_factory: pytest.TempPathFactory, hpt_source: Path
) -> Iterator[ServeProcess]:
    tree, env = legacy_tree(tmp_path_factory.mktemp("legacy_out"), hpt_source, OUTPUT_FN_ONLY)
    with running_serve(tree, **env) as server:
        yield server


def test_user_input_fn_with_default_json_output(input_fn_server: ServeProcess) -> None:
    answer = input_fn_server.post(json.dumps({"values": [1.0, 2.0, 5.0]}))
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    body = answer.json()
    assert body["outputs"]["y"]["dtype"] == "DT_FLOAT"
    assert body["outputs"]["y"]["floatVal"] == [3.5, 4.0, 5.5]
    assert body["outputs"]["y"]["tensorShape"] == {"dim": [{"size": "3"}]}
    assert body["modelSpec"] == {
        "name": "generic_model",
        "version": "1",
        "signatureName": "serving_default",
    }
    assert "legacy Python endpoint" in input_fn_server.log()


def test_default_octet_stream_output_is_a_predict_response(input_fn_server: ServeProcess) -> None:
    from tensorflow_serving.apis import predict_pb2

    answer = input_fn_server.post(json.dumps({"values": [1.0]}), Accept="application/octet-stream")
    assert answer.status_code == 200
    response = predict_pb2.PredictResponse.FromString(answer.content)
    assert list(response.outputs["y"].float_val) == [3.5]


def test_unsupported_accept_is_406_with_a_json_string(input_fn_server: ServeProcess) -> None:
    answer = input_fn_server.post(json.dumps({"values": [1.0]}), Accept="text/html")
    assert answer.status_code == 406
    assert answer.json() == "Unsupported accept type text/html"


def test_default_csv_input_keeps_every_row(output_fn_server: ServeProcess) -> None:
    answer = output_fn_server.post(b"1.0,2.0\n5.0,6.0\n", "text/csv", Accept=None)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"y": [3.5, 4.0, 5.5, 6.0], "accepts": "application/json"}


def test_default_json_tensor_proto_input(output_fn_server: ServeProcess) -> None:
    tensor = {"dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "3"}]}, "floatVal": [1, 2, 5]}
    answer = output_fn_server.post(json.dumps(tensor))
    assert answer.status_code == 200, answer.text
    assert answer.json()["y"] == [3.5, 4.0, 5.5]


def test_default_octet_stream_input_is_a_predict_request(output_fn_server: ServeProcess) -> None:
    import numpy as np
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = "generic_model"
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array([0.0, 4.0], np.float32)))
    answer = output_fn_server.post(request.SerializeToString(), "application/octet-stream")
    assert answer.status_code == 200, answer.text
    assert answer.json()["y"] == [3.0, 5.0]


def test_unsupported_content_type_is_415_with_a_json_string(output_fn_server: ServeProcess) -> None:
    answer = output_fn_server.post(b"1", "text/plain")
    assert answer.status_code == 415
    assert answer.json() == "Unsupported content type text/plain"


def test_transform_fn_with_input_fn_fails_startup(tmp_path: Path, hpt_source: Path) -> None:
    tree, env = legacy_tree(tmp_path, hpt_source, BOTH_KINDS)
    server = ServeProcess(tree, **env)
    code = server.wait_exit(timeout=120)
    assert code == 1
    assert "transform_fn cannot be declared together with an input or output function." in (
        server.log()
    )


@pytest.mark.parametrize(
    ("body", "content_type", "fragment"),
    [
        (b"\xff\x00 not a protobuf", "application/octet-stream", "not a serialized PredictRequest"),
        (b"1,2\n3", "text/csv", "same number of values"),
        (b'{"a": "\xff"}', "application/json", "Cannot parse the JSON body"),
    ],
    ids=["random-bytes", "ragged-csv", "invalid-utf8-json"],
)
def test_malformed_bodies_are_json_400s(
    output_fn_server: ServeProcess, body: bytes, content_type: str, fragment: str
) -> None:
    answer = output_fn_server.post(body, content_type)
    assert answer.status_code == 400, answer.text
    assert fragment in answer.json()["error"]
