"""Which way the default pipeline sends a request to a real embedded model server: small bodies
as binary tensors over gRPC, large ones that need no parsing as text to the REST API, with the
same answers either way. The pool counts its calls; the backend and every call are real."""

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from sagemaker_tensorflow_runtime.serving import pipeline
from sagemaker_tensorflow_runtime.serving.backend_client import BackendPool
from sagemaker_tensorflow_runtime.serving.errors import BackendError, BadRequest
from sagemaker_tensorflow_runtime.serving.pipeline import (
    FORWARD_AS_TEXT_BYTES,
    DefaultPipeline,
    Invocation,
)
from tests.integration.modelserver.harness import ModelEntry, model_config_text, start_server

HPT = "half_plus_three"
ROW = [0.25 * i for i in range(100)]  # exact in float32: both paths print the same digits
ROW_TEXT = ",".join(repr(v) for v in ROW)
ROWS = FORWARD_AS_TEXT_BYTES // len(ROW_TEXT) + 2  # just past the threshold


class CountingPool(BackendPool):
    """A real pool that counts which backend API each request used."""

    def __init__(self, ports: list[tuple[int, int]]) -> None:
        super().__init__(ports, timeout_seconds=60)
        self.calls: Counter[str] = Counter()

    def rest(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        self.calls["rest"] += 1
        return super().rest(*args, **kwargs)

    def predict(self, *args: Any, **kwargs: Any) -> Any:
        self.calls["grpc"] += 1
        return super().predict(*args, **kwargs)


@pytest.fixture(scope="module")
def ports(tmp_path_factory: pytest.TempPathFactory, hpt_source: Path) -> Iterator[tuple[int, int]]:
    workdir = tmp_path_factory.mktemp("forward_as_text")
    config = workdir / "models.config"
    config.write_text(model_config_text([ModelEntry(HPT, hpt_source, versions=(123,))]))
    server = start_server(workdir, [f"--model_config_file={config}"], "backend", {HPT: "AVAILABLE"})
    yield server.grpc_port, server.rest_port
    assert server.stop() == 0, server.log()


@pytest.fixture
def pool(ports: tuple[int, int]) -> CountingPool:
    return CountingPool([ports])


def invoke(pool: CountingPool, body: bytes, content_type: str) -> bytes:
    return DefaultPipeline(pool, HPT).invoke(Invocation(body, content_type, None, None)).body


def json_body(rows: int) -> bytes:
    return ('{"instances": [' + ",".join([f"[{ROW_TEXT}]"] * rows) + "]}").encode()


def csv_body(rows: int, row_text: str = ROW_TEXT) -> bytes:
    return "\n".join([row_text] * rows).encode()


def predictions(answer: bytes) -> list[Any]:
    rows: list[Any] = orjson.loads(answer)["predictions"]
    return rows


def test_small_bodies_go_over_grpc(pool: CountingPool) -> None:
    answer = invoke(pool, json_body(2), "application/json")
    assert predictions(answer) == [[0.5 * v + 3 for v in ROW]] * 2
    assert pool.calls == {"grpc": 1}


def test_a_large_tfs_request_goes_to_rest_as_it_is_with_the_same_answer(
    pool: CountingPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    large = json_body(ROWS)
    assert len(large) >= FORWARD_AS_TEXT_BYTES
    answer = invoke(pool, large, "application/json")
    assert pool.calls == {"rest": 1}
    assert predictions(answer) == predictions(invoke(pool, json_body(1), "application/json")) * ROWS
    monkeypatch.setattr(pipeline, "FORWARD_AS_TEXT_BYTES", 2**62)  # the same body over gRPC
    assert invoke(pool, large, "application/json") == answer  # byte for byte
    assert pool.calls == {"rest": 1, "grpc": 2}


def test_large_number_csv_goes_to_rest_with_the_answer_of_its_json(pool: CountingPool) -> None:
    answer = invoke(pool, csv_body(ROWS), "text/csv")
    assert pool.calls == {"rest": 1}
    assert answer == invoke(pool, json_body(ROWS), "application/json")


def test_large_one_column_csv_is_a_list_of_scalars(pool: CountingPool) -> None:
    body = "\n".join(["0.5", "1.25"] * (FORWARD_AS_TEXT_BYTES // 8)).encode()
    answer = predictions(invoke(pool, body, "text/csv"))
    assert pool.calls == {"rest": 1}
    assert answer == [3.25, 3.625] * (FORWARD_AS_TEXT_BYTES // 8)


def test_large_csv_that_is_not_json_is_decoded_here_after_the_backend_refuses(
    pool: CountingPool,
) -> None:
    # `1.` and `+2` are numbers to CSV readers but not JSON: the backend refuses the text,
    # the body is decoded in the front and its answer is the one of the plain body.
    odd = ROW_TEXT.replace("1.0,", "1.,").replace(",2.0,", ",+2.0,")
    assert odd != ROW_TEXT
    answer = invoke(pool, csv_body(ROWS, odd), "text/csv")
    assert pool.calls == {"rest": 1, "grpc": 1}
    assert answer == invoke(pool, csv_body(ROWS), "text/csv")


def failure(pool: CountingPool, body: bytes, content_type: str) -> tuple[str, str, object]:
    """The error a request ends in: its type, message and HTTP status."""
    with pytest.raises(Exception) as raised:  # the front's and TF Serving's kinds
        invoke(pool, body, content_type)
    error = raised.value
    status = getattr(error, "status", None) or getattr(error, "http_status", None)
    return type(error).__name__, str(error), status


def test_large_ragged_csv_gets_the_answer_of_the_grpc_path(
    pool: CountingPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = csv_body(ROWS) + b"\n0.25"
    forwarded = failure(pool, body, "text/csv")
    assert pool.calls["rest"] == 1
    assert forwarded[2] == 400 and f"element: {ROWS} of 'instances'" in forwarded[1]
    monkeypatch.setattr(pipeline, "FORWARD_AS_TEXT_BYTES", 2**62)
    assert failure(pool, body, "text/csv") == forwarded
    assert pool.calls["rest"] == 1


def test_a_large_tfs_request_with_an_error_gets_tf_servings_answer(pool: CountingPool) -> None:
    body = json_body(ROWS).replace(b"[[", b'["][",[', 1)
    with pytest.raises(BackendError) as raised:
        invoke(pool, body, "application/json")
    assert pool.calls == {"rest": 1}  # the backend's answer is final: no second try
    assert raised.value.status == 400
    assert raised.value.message == (
        "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
        'JSON Value: "][" Type: String is not of expected type: float'
    )


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\n".join([f"[{ROW_TEXT}]".encode()] * ROWS), "application/jsonlines"),
        (b"[" + b",".join([f"[{ROW_TEXT}]".encode()] * ROWS) + b"]", "application/json"),
    ],
    ids=["json-lines", "generic-json"],
)
def test_large_json_lines_and_generic_json_are_checked_then_forwarded_wrapped(
    pool: CountingPool, monkeypatch: pytest.MonkeyPatch, body: bytes, content_type: str
) -> None:
    answer = invoke(pool, body, content_type)
    assert pool.calls == {"rest": 1}
    assert answer == invoke(pool, json_body(ROWS), "application/json")
    monkeypatch.setattr(pipeline, "FORWARD_AS_TEXT_BYTES", 2**62)
    assert invoke(pool, body, content_type) == answer


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\n".join([f"[{ROW_TEXT}]".encode()] * ROWS) + b"\n[1.0,", "application/jsonlines"),
        (csv_body(ROWS, ROW_TEXT.replace(",", ", ")), "text/csv"),
    ],
    ids=["json-lines-with-a-broken-line", "csv-with-blanks"],
)
def test_large_bodies_that_need_parsing_stay_in_the_front(
    pool: CountingPool, body: bytes, content_type: str
) -> None:
    assert len(body) >= FORWARD_AS_TEXT_BYTES
    try:
        answer: Any = predictions(invoke(pool, body, content_type))
    except BadRequest as exc:  # the broken line: the front's message, naming the line
        answer = exc.message
    if content_type == "text/csv":
        assert len(answer) == ROWS
        assert pool.calls == {"grpc": 1}
    else:
        assert answer.startswith("JSON Parse error:") and f"line {ROWS + 1}" in answer
        assert pool.calls == {}
