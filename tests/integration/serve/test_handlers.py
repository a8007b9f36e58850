"""`model/code/inference.py` on the real `serve` (serving.md §9; §14 cases 13-17, 27)."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.integration.conftest import build_wheel, pip_uninstall

from .harness import (
    HPT,
    ServeProcess,
    ServeTree,
    default_attributes,
    hpt_tree,
    running_serve,
)

ROW = [3.5, 4.0, 5.5]

# The reference container's test handlers, as users write them.
IO_HANDLERS = """
    import json


    def input_handler(data, context):
        if context.request_content_type == "application/json":
            text = data.read().decode("utf-8")
            return text if len(text) else ""
        if context.request_content_type == "text/csv":
            values = [float(x) for x in data.read().decode("utf-8").split(",")]
            return json.dumps({"instances": values})
        raise ValueError(
            '{"error": "unsupported content type %s"}' % (context.request_content_type or "unknown")
        )


    def output_handler(response, context):
        if response.status_code != 200:
            raise ValueError(response.content.decode("utf-8"))
        return response.content, context.accept_header
"""

# One handler, many behaviours: the custom attribute `action=<name>` picks one.
RICH_HANDLER = """
    import json
    import re

    import numpy as np
    import requests

    from sagemaker_tensorflow_runtime.serving import protos
    from sagemaker_tensorflow_runtime.serving.errors import InferenceError
    from sagemaker_tensorflow_runtime.serving.tensors.tensor_proto import tensor_proto, to_numpy

    session = requests.Session()
    PREDICT = "/tensorflow.serving.PredictionService/Predict"


    class Conflict(Exception):
        # Shaped like sagemaker_inference's BaseInferenceToolkitError.
        def __init__(self):
            super().__init__("conflicting request")
            self.status_code = 409
            self.message = "conflicting request"


    def forward(data, context):
        response = session.post(context.rest_uri, data=data.read())
        if response.status_code != 200:
            raise InferenceError(response.status_code, response.json()["error"])
        return response


    def large_grpc_predict(context, count):
        request = protos.message("tensorflow.serving.PredictRequest")()
        request.model_spec.name = context.model_name
        request.inputs["x"].CopyFrom(tensor_proto(np.ones(count, dtype=np.float32)))
        call = context.channel.unary_unary(
            PREDICT,
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=protos.message("tensorflow.serving.PredictResponse").FromString,
        )
        y = to_numpy(call(request, timeout=60).outputs["y"])
        return {"count": int(y.size), "first": float(y[0]), "bytes": request.ByteSize()}


    def handler(data, context):
        found = re.search(r"action=([a-z-]+)", context.custom_attributes or "")
        action = found.group(1) if found else "predict"
        if action == "predict":
            return forward(data, context).content, "application/json"
        if action == "keys":
            doc = forward(data, context).json()
            doc.update(python=True, numpy=np.__version__)
            return json.dumps(doc), "application/json"
        if action == "context":
            fields = context._asdict()
            fields["channel"] = type(fields["channel"]).__name__ if fields["channel"] else None
            fields["fields"] = list(context._fields)
            return json.dumps(fields), "application/json"
        if action == "bare-bytes":
            return b'{"bare": "bytes"}'
        if action == "bare-str":
            return "plain text"
        if action == "inference-error":
            raise InferenceError(422, "bad thing")
        if action == "status-code":
            raise Conflict()
        if action == "crash":
            raise RuntimeError("the handler fell over")
        if action == "grpc":
            return json.dumps(large_grpc_predict(context, 1_500_000)), "application/json"
        if action == "newline-content-type":
            return b"x", "text/plain\\r\\nX-Evil: 1"
        if action == "unicode-content-type":
            return b"x", "text/\u4e2d"
        if action == "dict-message":
            raise InferenceError(400, {"x": 1})
        if action == "bad-status":
            raise InferenceError(999, "m")
        if action == "system-exit":
            raise SystemExit(3)
        if action == "unprintable":
            raise Unprintable()
        raise InferenceError(400, "unknown action " + action)


    class Unprintable(Exception):
        def __str__(self):
            raise ValueError("no text")
"""

FORWARDING_HANDLER = """
    import json

    import requests

    import {module}


    def handler(data, context):
        response = requests.post(context.rest_uri, data=data.read())
        doc = response.json()
        doc["module"] = {module}.VALUE
        return json.dumps(doc), "application/json"
"""


def forwarding_handler(module: str) -> str:
    return FORWARDING_HANDLER.replace("{module}", module)


@pytest.fixture(scope="module")
def io_server(tmp_path_factory: pytest.TempPathFactory, hpt_source: Path) -> Iterator[ServeProcess]:
    tree = hpt_tree(tmp_path_factory.mktemp("opt_ml"), hpt_source)
    tree.write_code({"inference.py": IO_HANDLERS})
    with running_serve(tree) as server:
        yield server


@pytest.fixture(scope="module")
def rich_server(
    tmp_path_factory: pytest.TempPathFactory, hpt_source: Path
) -> Iterator[ServeProcess]:
    """Two backend instances, so Context's rest_uri and grpc_port can be seen to pair up."""
    tree = hpt_tree(tmp_path_factory.mktemp("opt_ml"), hpt_source)
    tree.write_code({"inference.py": RICH_HANDLER})
    with running_serve(tree, instances=2) as server:
        yield server


def act(
    server: ServeProcess, action: str, body: str = "[1.0, 2.0, 5.0]", accept: str | None = "*/*"
) -> requests.Response:
    attributes = f"action={action}," + default_attributes()
    return server.post(body, attributes=attributes, Accept=accept)


# -- input_handler + output_handler ------------------------------------------------------------


def test_io_handlers_predict_json(io_server: ServeProcess) -> None:
    answer = io_server.post('{"instances":[1.0,2.0,5.0]}', attributes=default_attributes())
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"predictions": ROW}


@pytest.mark.parametrize("version", [123, 124])
def test_io_handlers_versions(io_server: ServeProcess, version: int) -> None:
    attributes = default_attributes(version=version)
    answer = io_server.post('{"instances":[1.0,2.0,5.0]}', attributes=attributes)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"predictions": ROW}


def test_io_handlers_regress(io_server: ServeProcess) -> None:
    body = '{"signature_name":"tensorflow/serving/regress","examples":[{"x":1.0},{"x":2.0}]}'
    answer = io_server.post(body, attributes=default_attributes("regress"))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"results": [3.5, 4.0]}


def test_io_handlers_csv(io_server: ServeProcess) -> None:
    answer = io_server.post("1.0,2.0,5.0", "text/csv")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"predictions": ROW}


def test_io_handlers_large_csv(io_server: ServeProcess) -> None:
    count = 753_936
    answer = io_server.post(",".join(["1.0", "2.0", "5.0", "0.0"] * (count // 4)), "text/csv")
    assert answer.status_code == 200, answer.text[:300]
    predictions = answer.json()["predictions"]
    assert len(predictions) == count
    assert predictions[:4] == [3.5, 4.0, 5.5, 3.0]


def test_io_handlers_empty_body_is_a_500_from_the_backend_error(io_server: ServeProcess) -> None:
    answer = io_server.post(b"")
    assert answer.status_code == 500
    assert "document is empty" in answer.json()["error"]


def test_io_handlers_unsupported_content_type(io_server: ServeProcess) -> None:
    answer = io_server.post("[1.0]", "unsupported-type")
    assert answer.status_code == 500
    assert "unsupported content type" in answer.json()["error"]


def test_io_handlers_ping(io_server: ServeProcess) -> None:
    assert io_server.ping() == 200


# -- handler(data, context) --------------------------------------------------------------------


def test_handler_predict(rich_server: ServeProcess) -> None:
    for _ in range(2):
        answer = act(rich_server, "predict", '{"instances":[1.0,2.0,5.0]}')
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"predictions": ROW}


def test_handler_adds_keys_to_the_answer(rich_server: ServeProcess) -> None:
    answer = act(rich_server, "keys", '{"instances": [{"x": [1.0, 2.0, 5.0]}]}')
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["predictions"] == [ROW]
    assert doc["python"] is True and doc["numpy"]


def test_context_has_effective_values_when_defaulted(rich_server: ServeProcess) -> None:
    body = '{"instances": [1.0]}'
    answer = rich_server.post(body, Accept=None, attributes="action=context")
    assert answer.status_code == 200, answer.text
    ctx = answer.json()
    assert ctx["fields"] == [
        "model_name", "model_version", "method", "rest_uri", "grpc_port", "channel",
        "custom_attributes", "request_content_type", "accept_header", "content_length",
    ]  # fmt: skip
    assert ctx["model_name"] == HPT
    assert ctx["method"] == "predict"
    assert ctx["model_version"] is None
    assert ctx["custom_attributes"] == "action=context"
    assert ctx["request_content_type"] == "application/json"
    assert ctx["accept_header"] == "application/json"
    assert ctx["content_length"] == len(body)
    assert ctx["channel"] is not None


def test_context_with_attributes_and_headers(rich_server: ServeProcess) -> None:
    attributes = f"action=context,tfs-model-name={HPT},tfs-model-version=123,tfs-method=regress"
    answer = rich_server.post(
        "1,2", "text/csv", Accept="application/jsonlines", attributes=attributes
    )
    ctx = answer.json()
    assert (ctx["model_name"], ctx["model_version"], ctx["method"]) == (HPT, "123", "regress")
    assert ctx["rest_uri"].endswith(f"/v1/models/{HPT}/versions/123:regress")
    assert ctx["request_content_type"] == "text/csv"
    assert ctx["accept_header"] == "application/jsonlines"
    assert ctx["custom_attributes"] == attributes


def test_context_rest_uri_and_grpc_port_are_one_instance(rich_server: ServeProcess) -> None:
    lo = rich_server.port_range[0]
    pairs = set()
    for _ in range(6):
        ctx = rich_server.post("[1]", attributes="action=context").json()
        prefix = "http://127.0.0.1:"
        assert ctx["rest_uri"].startswith(prefix), ctx["rest_uri"]
        rest_port = int(ctx["rest_uri"][len(prefix) :].split("/", 1)[0])
        assert ctx["rest_uri"].endswith(f"/v1/models/{HPT}:predict")
        pairs.add((ctx["grpc_port"], rest_port))
    # SAGEMAKER_SAFE_PORT_RANGE=lo-hi: instance i has gRPC lo + 2i and REST lo + 2i + 1.
    assert pairs == {(lo, lo + 1), (lo + 2, lo + 3)}


def test_context_channel_carries_large_messages(rich_server: ServeProcess) -> None:
    answer = act(rich_server, "grpc")
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["count"] == 1_500_000 and doc["first"] == 3.5
    assert doc["bytes"] > 4 * 1024 * 1024


@pytest.mark.parametrize(
    ("action", "accept", "body", "content_type"),
    [
        ("bare-bytes", None, '{"bare": "bytes"}', "application/json"),
        ("bare-bytes", "*/*", '{"bare": "bytes"}', "application/json"),
        ("bare-bytes", "application/jsonlines", '{"bare": "bytes"}', "application/jsonlines"),
        ("bare-str", "text/plain", "plain text", "text/plain"),
    ],
)
def test_bare_body_gets_the_accept_type(
    rich_server: ServeProcess, action: str, accept: str | None, body: str, content_type: str
) -> None:
    answer = act(rich_server, action, accept=accept)
    assert answer.status_code == 200, answer.text
    assert answer.text == body
    assert answer.headers["Content-Type"].split(";")[0] == content_type


@pytest.mark.parametrize(
    ("action", "status", "message"),
    [
        ("inference-error", 422, "bad thing"),
        ("status-code", 409, "conflicting request"),
        ("crash", 500, "the handler fell over"),
    ],
)
def test_handler_exceptions_become_json_errors(
    rich_server: ServeProcess, action: str, status: int, message: str
) -> None:
    answer = act(rich_server, action)
    assert answer.status_code == status
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json() == {"error": message}


def test_handler_crash_is_logged_with_its_traceback(rich_server: ServeProcess) -> None:
    act(rich_server, "crash")
    log = rich_server.log()
    assert "Traceback" in log and "RuntimeError: the handler fell over" in log


def test_backend_error_status_reaches_the_client(rich_server: ServeProcess) -> None:
    answer = act(rich_server, "predict", '{"instances": ["]["]}')
    assert answer.status_code == 400
    assert "is not of expected type: float" in answer.json()["error"]


# -- dependencies: requirements.txt, lib/ --------------------------------------------------------


@pytest.fixture
def tiny_wheel(tmp_path: Path) -> Iterator[Path]:
    """A local wheel `sm_serve_tinydep`, uninstalled again after the test."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels, "sm_serve_tinydep", "1.0", "VALUE = 'from the wheel'\n")
    yield wheels
    pip_uninstall("sm_serve_tinydep")


def test_handler_with_requirements_installs_them(
    tree: ServeTree, hpt_source: Path, tiny_wheel: Path
) -> None:
    tree.add_model(hpt_source)
    tree.write_code(
        {
            "inference.py": forwarding_handler("sm_serve_tinydep"),
            "requirements.txt": "sm_serve_tinydep\n",
        }
    )
    with running_serve(tree, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(tiny_wheel)) as server:
        answer = server.post('{"instances":[1.0,2.0,5.0]}')
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"predictions": ROW, "module": "from the wheel"}
        assert "installing packages from requirements.txt" in server.log()


def test_lib_wins_over_requirements(tree: ServeTree, hpt_source: Path) -> None:
    tree.add_model(hpt_source)
    tree.write_code(
        {
            "inference.py": forwarding_handler("dummy_module"),
            "lib/dummy_module/__init__.py": "VALUE = 'from lib'\n",
            # Would fail to install (no index): it must not even be tried.
            "requirements.txt": "sm-serve-package-that-does-not-exist==9.9\n",
        }
    )
    with running_serve(tree, PIP_NO_INDEX="1") as server:
        answer = server.post('{"instances":[1.0,2.0,5.0]}')
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"predictions": ROW, "module": "from lib"}
        lib = tree.code_dir / "lib"
        assert f"loading modules in '{lib}', ignoring requirements.txt" in server.log()
        assert "installing packages" not in server.log()


def test_requirements_that_fail_to_install_stop_serve(tree: ServeTree, hpt_source: Path) -> None:
    tree.add_model(hpt_source)
    tree.write_code(
        {
            "inference.py": forwarding_handler("json"),
            "requirements.txt": "sm-serve-package-that-does-not-exist==9.9\n",
        }
    )
    server = ServeProcess(tree, PIP_NO_INDEX="1")
    assert server.wait_exit() != 0
    assert "failed to install required packages." in server.log()
    server.assert_no_children_left()


def test_only_input_handler_fails_startup(tree: ServeTree, hpt_source: Path) -> None:
    tree.add_model(hpt_source)
    tree.write_code({"inference.py": "def input_handler(data, context):\n    return data\n"})
    server = ServeProcess(tree)
    deadline = time.monotonic() + 90
    while server.proc.poll() is None and time.monotonic() < deadline:
        assert server.ping(timeout=2) != 200
        server.record_children()
        time.sleep(0.2)
    code = server.wait_exit(timeout=1)
    assert code != 0
    assert "Handlers are not implemented correctly in user script." in server.log()
    server.assert_no_children_left()


@pytest.mark.parametrize(
    ("action", "status", "fragment"),
    [
        ("newline-content-type", 500, "not a valid header value"),
        ("unicode-content-type", 500, "not a valid header value"),
        ("dict-message", 400, "{'x': 1}"),
        ("bad-status", 500, "HTTP error status from 400 to 599, got 999"),
        ("system-exit", 500, "3"),
        ("unprintable", 500, "Unprintable"),
    ],
)
def test_odd_handler_answers_and_errors_still_get_a_json_answer(
    rich_server: ServeProcess, action: str, status: int, fragment: str
) -> None:
    answer = act(rich_server, action)
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"] == "application/json"
    assert fragment in answer.json()["error"]
    assert "X-Evil" not in answer.headers
    follow_up = act(rich_server, "predict", '{"instances": [1.0, 2.0, 5.0]}')
    assert follow_up.json() == {"predictions": [3.5, 4.0, 5.5]}
    assert rich_server.log().count("Booting worker") == 1  # the one worker never replaced
