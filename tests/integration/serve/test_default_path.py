"""The default request path (no inference.py) on one shared `serve` (serving.md §6-§8, §14 1-12)."""

import io
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from .harness import ATTRIBUTES, HPT, ServeProcess, default_attributes, hpt_tree, running_serve

ROW = [3.5, 4.0, 5.5]
PREDICT = default_attributes()


@pytest.fixture(scope="module", params=["false", "true"], ids=["batching-off", "batching-on"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, hpt_source: Path
) -> Iterator[ServeProcess]:
    """Every case runs with backend batching off and on, as the reference's acceptance suite."""
    tree = hpt_tree(tmp_path_factory.mktemp("opt_ml"), hpt_source)
    with running_serve(tree, SAGEMAKER_TFS_ENABLE_BATCHING=request.param) as server:
        yield server


def ok_json(
    server: ServeProcess,
    body: str | bytes,
    content_type: str = "application/json",
    attributes: str | None = None,
) -> Any:
    answer = server.post(body, content_type, attributes=attributes)
    assert answer.status_code == 200, answer.text
    return answer.json()


def error_of(
    server: ServeProcess,
    body: str | bytes,
    status: int,
    content_type: str | None = "application/json",
    attributes: str | None = None,
    accept: str | None = None,
) -> str:
    answer = server.post(body, content_type, attributes=attributes, Accept=accept)
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"] == "application/json"
    message = answer.json()["error"]
    assert isinstance(message, str)
    return message


def test_predict_twice_in_a_row(server: ServeProcess) -> None:
    for _ in range(2):
        doc = ok_json(server, '{"instances":[1.0,2.0,5.0]}', attributes=PREDICT)
        assert doc == {"predictions": ROW}


@pytest.mark.parametrize("version", [123, 124])
def test_predict_each_version(server: ServeProcess, version: int) -> None:
    attributes = default_attributes(version=version)
    doc = ok_json(server, '{"instances":[1.0,2.0,5.0]}', attributes=attributes)
    assert doc == {"predictions": ROW}


def test_unknown_version_is_tf_servings_404(server: ServeProcess) -> None:
    message = error_of(server, "[1.0]", 404, attributes=default_attributes(version=7))
    assert message == f"Servable not found for request: Specific({HPT}, 7)"


def test_two_instances(server: ServeProcess) -> None:
    doc = ok_json(server, '{"instances":[[1.0,2.0,5.0],[1.0,2.0,5.0]]}', attributes=PREDICT)
    assert doc == {"predictions": [ROW, ROW]}


def test_string_where_a_float_is_expected_is_tf_servings_400(server: ServeProcess) -> None:
    message = error_of(server, '{"instances": ["]["]}', 400, attributes=PREDICT)
    assert message == (
        "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
        'JSON Value: "][" Type: String is not of expected type: float'
    )


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/jsonlines", "application/jsons"]
)
def test_json_lines_of_lists(server: ServeProcess, content_type: str) -> None:
    body = "[1.0, 2.0, 5.0]\n[1.0, 2.0, 5.0]"
    doc = ok_json(server, body, content_type, attributes=PREDICT)
    assert doc == {"predictions": [ROW, ROW]}


def test_json_lines_of_objects(server: ServeProcess) -> None:
    body = '{"x": [1.0, 2.0, 5.0]}\n{"x": [1.0, 2.0, 5.0]}'
    doc = ok_json(server, body, "application/jsonlines", attributes=PREDICT)
    assert doc == {"predictions": [ROW, ROW]}


def test_json_lines_blank_lines_are_dropped(server: ServeProcess) -> None:
    body = "\n[1.0, 2.0, 5.0]\n\n  [1.0, 2.0, 5.0]  \n"
    assert ok_json(server, body, "application/jsonlines") == {"predictions": [ROW, ROW]}


def test_columnar_inputs_pass_through(server: ServeProcess) -> None:
    assert ok_json(server, '{"inputs": [1.0, 2.0, 5.0]}') == {"outputs": ROW}


def test_signature_name_is_honoured(server: ServeProcess) -> None:
    body = '{"signature_name": "serving_default", "instances": [1.0, 2.0, 5.0]}'
    assert ok_json(server, body) == {"predictions": ROW}
    message = error_of(server, '{"signature_name": "nope", "instances": [1.0]}', 400)
    assert message == 'Serving signature name: "nope" not found in signature def'


def test_non_numeric_version_is_a_400(server: ServeProcess) -> None:
    attributes = f"tfs-model-name={HPT},tfs-model-version=latest"
    assert "latest" in error_of(server, "[1.0]", 400, attributes=attributes)


def test_single_object_is_one_row(server: ServeProcess) -> None:
    assert ok_json(server, '{"x":[1,2,5]}') == {"predictions": [ROW]}


@pytest.mark.parametrize(
    ("body", "expected"),
    [("[1.0,2.0,5.0]", [ROW]), ("[[1.0,2.0,5.0],[1.0,2.0,5.0]]", [ROW, ROW])],
)
def test_generic_json(server: ServeProcess, body: str, expected: object) -> None:
    assert ok_json(server, body, attributes=PREDICT) == {"predictions": expected}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("1.0", [3.5]),
        ("0.0", [3.0]),
        ("0.0,2.0,5.0", [[3.0, 4.0, 5.5]]),
        ("1.0,2.0,5.0\n1.0,2.0,5.0", [ROW, ROW]),
        ("1.0,2.0,5.0\r\n\r\n1.0,2.0,5.0\r\n", [ROW, ROW]),
        ("1.0\n2.0\n5.0", ROW),
    ],
)
def test_csv(server: ServeProcess, body: str, expected: object) -> None:
    assert ok_json(server, body, "text/csv", attributes=PREDICT) == {"predictions": expected}


def test_batch_transform_rows_with_spaces(server: ServeProcess) -> None:
    body = "1.0, 2.0, 5.0\n" * 10
    doc = ok_json(server, body, "text/csv", attributes=PREDICT)
    assert doc == {"predictions": [ROW] * 10}


def test_csv_two_rows_of_thirty_columns(server: ServeProcess) -> None:
    # Each prediction is 0.5·x + 3, so a row of 30 sums to 90 + Σx / 2: 97 and 100.
    rows = [[1.0] * 14 + [0.0] * 16, [2.0] * 10 + [0.0] * 20]
    body = "\n".join(",".join(str(v) for v in row) for row in rows)
    doc = ok_json(server, body, "text/csv", attributes=PREDICT)
    predictions = doc["predictions"]
    assert [len(row) for row in predictions] == [30, 30]
    assert [sum(row) for row in predictions] == [97.0, 100.0]


def test_csv_single_row_of_753936_numbers(server: ServeProcess) -> None:
    count = 753_936
    body = ",".join(["1.0", "2.0", "5.0", "0.0"] * (count // 4))
    assert len(body) > 3_000_000
    doc = ok_json(server, body, "text/csv", attributes=PREDICT)
    (predictions,) = doc["predictions"]
    assert len(predictions) == count
    assert predictions[:4] == [3.5, 4.0, 5.5, 3.0]


def test_csv_strings_reach_the_backend_as_strings(server: ServeProcess) -> None:
    message = error_of(server, "a,b,c", 400, "text/csv", attributes=PREDICT)
    assert 'JSON Value: "a" Type: String is not of expected type: float' in message


def test_csv_quoted_field_with_a_comma_is_one_string(server: ServeProcess) -> None:
    message = error_of(server, '"a,b",1.0', 400, "text/csv")
    assert 'JSON Value: "a,b" Type: String' in message


@pytest.mark.parametrize(
    ("body", "results"),
    [
        ('{"signature_name":"tensorflow/serving/regress","examples":[{"x":1.0},{"x":2.0}]}',
         [3.5, 4.0]),
        ('{"signature_name":"tensorflow/serving/regress","examples":[{"x":1.0}]}', [3.5]),
    ],
)  # fmt: skip
def test_regress(server: ServeProcess, body: str, results: list[float]) -> None:
    doc = ok_json(server, body, attributes=default_attributes("regress"))
    assert doc == {"results": results}


def test_classify(server: ServeProcess) -> None:
    body = '{"signature_name":"tensorflow/serving/classify","examples":[{"x":1.0},{"x":4.0}]}'
    doc = ok_json(server, body, attributes=default_attributes("classify"))
    assert doc == {"results": [[["lo", 0.5], ["hi", 3.5]], [["lo", 2.0], ["hi", 5.0]]]}


def test_text_that_is_not_json_is_a_400(server: ServeProcess) -> None:
    error_of(server, "whatever", 400, attributes=PREDICT)


def test_object_without_the_signatures_input_is_tf_servings_400(server: ServeProcess) -> None:
    message = error_of(server, '{"junk":"data"}', 400, attributes=PREDICT)
    assert message.startswith("Failed to process element: 0 key: junk of 'instances' list.")


def test_no_custom_attributes_uses_the_default_model(server: ServeProcess) -> None:
    assert ok_json(server, '{"instances":[1.0,2.0,5.0]}') == {"predictions": ROW}


def test_other_custom_attributes_are_ignored(server: ServeProcess) -> None:
    attributes = f"trace=abc, tfs-model-name={HPT},tfs-unknown=1"
    assert ok_json(server, "[1.0,2.0,5.0]", attributes=attributes) == {"predictions": [ROW]}


# Accept (§7.4): parsed JSON is compared; the exact bytes are only TF Serving's.
@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        ("application/jsonlines", "application/jsonlines"),
        ("application/json, application/jsonlines", "application/json"),
        ("application/jsonlines;q=0.5, application/json", "application/json"),
        ("*/*", "application/json"),
        ("image/png, application/jsonlines", "application/jsonlines"),
        ("application/json", "application/json"),
    ],
)
def test_accept_chooses_the_first_supported_type(
    server: ServeProcess, accept: str, content_type: str
) -> None:
    answer = server.post('{"instances":[1.0,2.0,5.0]}', Accept=accept)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == content_type
    assert answer.json() == {"predictions": ROW}
    if accept != "*/*":  # chosen explicitly: newlines removed
        assert "\n" not in answer.text


def test_no_accept_passes_the_backend_body_as_json(server: ServeProcess) -> None:
    answer = server.post('{"instances":[1.0,2.0,5.0]}', Accept=None)
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.text == '{\n    "predictions": [3.5, 4.0, 5.5\n    ]\n}'


def test_request_in_jsonlines_answer_in_jsonlines(server: ServeProcess) -> None:
    answer = server.post(
        "[1.0, 2.0, 5.0]\n[1.0, 2.0, 5.0]", "application/jsonlines", Accept="application/jsonlines"
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == "application/jsonlines"
    assert answer.json() == {"predictions": [ROW, ROW]}


def test_accept_csv_renders_one_line_per_prediction(server: ServeProcess) -> None:
    answer = server.post("1.0,2.0,5.0\n0.0,0.0,0.0", "text/csv", Accept="text/csv")
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/csv")
    assert answer.text == "3.5,4.0,5.5\n3.0,3.0,3.0\n"


def test_unsatisfiable_accept_is_a_406(server: ServeProcess) -> None:
    message = error_of(server, "[1.0]", 406, accept="image/png")
    assert "image/png" in message


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8", "APPLICATION/JSON", "Text/CSV; header=absent"],
)
def test_content_type_is_matched_by_media_type(server: ServeProcess, content_type: str) -> None:
    body = "1.0,2.0,5.0" if "csv" in content_type.lower() else "[1.0,2.0,5.0]"
    assert ok_json(server, body, content_type) == {"predictions": [ROW]}


def test_unsupported_content_type_is_a_415(server: ServeProcess) -> None:
    assert error_of(server, "1", 415, "text/plain") == "Unsupported Media Type: text/plain"


def test_missing_content_type_is_a_415(server: ServeProcess) -> None:
    assert error_of(server, b"[1.0]", 415, None) == "Unsupported Media Type: Unknown"


def test_npy_body(server: ServeProcess) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.array([[1.0, 2.0, 5.0], [0.0, 0.0, 0.0]], dtype=np.float32))
    doc = ok_json(server, buffer.getvalue(), "application/x-npy")
    assert doc == {"predictions": [ROW, [3.0, 3.0, 3.0]]}


@pytest.mark.parametrize("content_type", ["application/json", "text/csv"])
def test_empty_body_is_a_400_naming_it(server: ServeProcess, content_type: str) -> None:
    message = error_of(server, b"", 400, content_type)
    assert "empty" in message.lower()


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/nothing"), ("POST", "/models"), ("GET", "/invocations")]
)
def test_unknown_route_is_a_json_404(server: ServeProcess, method: str, path: str) -> None:
    answer = server.http.request(method, f"{server.url}{path}", timeout=10)
    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json() == {"error": "Not Found"}


def test_unknown_model_is_tf_servings_404(server: ServeProcess) -> None:
    message = error_of(server, "[1.0]", 404, attributes="tfs-model-name=nope")
    assert message == "Servable not found for request: Latest(nope)"


def test_unknown_method_is_a_400_naming_the_methods(server: ServeProcess) -> None:
    message = error_of(server, "[1.0]", 400, attributes=f"tfs-model-name={HPT},tfs-method=fit")
    assert all(m in message for m in ("predict", "classify", "regress"))


def test_tfs_passthrough(server: ServeProcess) -> None:
    status = server.http.get(f"{server.url}/tfs/v1/models/{HPT}", timeout=10)
    assert status.status_code == 200
    versions = {v["version"]: v["state"] for v in status.json()["model_version_status"]}
    assert versions == {"123": "AVAILABLE", "124": "AVAILABLE"}
    answer = server.post('{"instances":[1.0,2.0,5.0]}', path=f"/tfs/v1/models/{HPT}:predict")
    assert answer.status_code == 200
    assert answer.json() == {"predictions": ROW}


def test_ping_is_200_with_the_model_available(server: ServeProcess) -> None:
    assert server.ping() == 200


def test_ping_for_a_model_that_is_not_loaded_fails(server: ServeProcess) -> None:
    answer = server.http.get(f"{server.url}/ping", headers={ATTRIBUTES: "tfs-model-name=nope"})
    assert answer.status_code == 503
    assert answer.json()["error"]


def test_default_read_timeout_is_logged(server: ServeProcess) -> None:
    assert "proxy_read_timeout 60;" in server.log()


def test_batching_flag_reaches_the_backend(server: ServeProcess) -> None:
    batching = server.env["SAGEMAKER_TFS_ENABLE_BATCHING"] == "true"
    assert ("--enable_batching=true" in server.log()) is batching
    # Unset parameters are defaulted, with the tuning advice (§5.2).
    assert ("Tuning this parameter may yield better performance." in server.log()) is batching


LARGE_ROW = ", ".join(["0.25"] * 20_000)  # bodies past the bulk-conversion threshold


@pytest.mark.parametrize(
    ("body", "content_type", "status", "fragment"),
    [
        ("9" * 5000, "text/csv", 200, "Infinity"),  # past Python's int-string limit
        ('{"instances": ' + "[" * 40 + "1.5" + "]" * 40 + "}", "application/json", 400, "rank"),
        (f'{{"instances": [[{LARGE_ROW}, true]]}}', "application/json", 400, "Type: True"),
        (f'{{"instances": [[{LARGE_ROW}], [0.25]]}}', "application/json", 400, "shape"),
        ("\n".join([LARGE_ROW.replace(" ", "")] * 3 + ["0.25"]), "text/csv", 400, "shape"),
        (LARGE_ROW.replace(" ", "") + ",", "text/csv", 400, 'JSON Value: \\"\\" Type: String'),
    ],
    ids=["huge-integer-csv", "deep-json", "large-with-boolean", "large-ragged-json",
         "large-ragged-csv", "large-csv-trailing-comma"],
)  # fmt: skip
def test_hostile_bodies_get_a_json_answer_and_the_worker_survives(
    server: ServeProcess, body: str, content_type: str, status: int, fragment: str
) -> None:
    answer = server.post(body, content_type)
    assert answer.status_code == status, answer.text[:300]
    assert answer.headers["Content-Type"] == "application/json"
    assert fragment in answer.text
    assert ok_json(server, '{"instances": [1.0, 2.0, 5.0]}') == {"predictions": ROW}


@pytest.mark.parametrize(
    ("body", "content_type", "attributes", "status", "fragment"),
    [
        ('{"instances": ["\\ud800"]}', "application/json", None, 400, "ud800"),
        ("1.0", "application/json", "tfs-model-version=\u00b2", 400, "tfs-model-version"),
        ("99999999999999999999", "text/csv", "tfs-method=regress", 400, "64-bit"),
        ("1.0", "application/json", "tfs-model-name=a b", 404, "Latest(a b)"),
    ],
    ids=["lone-surrogate", "non-ascii-version", "regress-int-past-64-bits", "name-with-space"],
)
def test_more_hostile_requests_get_json_4xx(
    server: ServeProcess,
    body: str,
    content_type: str,
    attributes: str | None,
    status: int,
    fragment: str,
) -> None:
    answer = server.post(body.encode("utf-8", "surrogatepass"), content_type, attributes=attributes)
    assert answer.status_code == status, answer.text[:300]
    assert answer.headers["Content-Type"] == "application/json"
    assert fragment in answer.text
    ping = server.http.get(f"{server.url}/ping", headers={ATTRIBUTES: attributes}, timeout=10)
    assert ping.status_code in (200, 400, 503)
    assert ok_json(server, '{"instances": [1.0, 2.0, 5.0]}') == {"predictions": ROW}


def test_a_broken_chunked_body_is_a_json_400(server: ServeProcess) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(
            b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\nzz\r\n[1.0]\r\n0\r\n\r\n"
        )
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), answer[:300]
    assert b"application/json" in head and b"Cannot read the request body" in body
    assert ok_json(server, '{"instances": [1.0, 2.0, 5.0]}') == {"predictions": ROW}


def test_tfs_passthrough_with_a_non_utf8_path_is_answered_in_json(server: ServeProcess) -> None:
    answer = server.http.get(f"{server.url}/tfs/v1/models/%ff", timeout=10)
    assert answer.status_code == 404, answer.text
    assert answer.headers["Content-Type"] == "application/json"


def read_answers(connection: socket.socket, count: int) -> list[tuple[bytes, bytes]]:
    """`count` HTTP/1.1 answers (head, body) read off one connection, by Content-Length."""
    data, answers = b"", []
    while len(answers) < count:
        head, sep, rest = data.partition(b"\r\n\r\n")
        length = next(
            (int(line.split(b":")[1]) for line in head.split(b"\r\n")
             if line.lower().startswith(b"content-length:")),
            None,
        )  # fmt: skip
        if sep and length is not None and len(rest) >= length:
            answers.append((head, rest[:length]))
            data = rest[length:]
            continue
        chunk = connection.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    return answers


def large_json(rows: int) -> bytes:
    return ('{"instances": [' + ",".join(["[1.0, 2.0, 5.0]"] * rows) + "]}").encode()


def test_pipelined_requests_after_a_large_body_are_all_answered(server: ServeProcess) -> None:
    big = large_json(40_000)  # ~640 KB, read in one go and forwarded as it is
    small = b'{"instances": [1.0, 2.0, 5.0]}'
    requests = b"".join(
        b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        for body in (big, small, big)
    )
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as connection:
        connection.sendall(requests)
        answers = read_answers(connection, 3)
    assert [head.split(b"\r\n")[0] for head, _ in answers] == [b"HTTP/1.1 200 OK"] * 3
    assert [len(json.loads(body)["predictions"]) for _, body in answers] == [40_000, 3, 40_000]
    assert json.loads(answers[1][1]) == {"predictions": ROW}


def test_a_body_shorter_than_its_content_length_is_a_json_400(server: ServeProcess) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as connection:
        connection.sendall(
            b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000000\r\n\r\n" + large_json(1000)[:10_000]
        )
        connection.shutdown(socket.SHUT_WR)
        answers = read_answers(connection, 1)
    assert len(answers) == 1, answers
    head, body = answers[0]
    assert head.startswith(b"HTTP/1.1 400"), head
    assert b"Cannot read the request body" in body and b"10000 of 1000000" in body
    assert ok_json(server, '{"instances": [1.0, 2.0, 5.0]}') == {"predictions": ROW}


@pytest.mark.parametrize("accept", [None, "application/json", "text/csv"])
def test_large_csv_and_json_bodies_get_the_same_answer(
    server: ServeProcess, accept: str | None
) -> None:
    rows = 30_000  # past the size from which bodies go to the backend's REST API as text
    csv_answer = server.post("1.0,2.0,5.0\n" * rows, "text/csv", Accept=accept)
    json_answer = server.post(large_json(rows), "application/json", Accept=accept)
    assert csv_answer.status_code == json_answer.status_code == 200, csv_answer.text[:300]
    assert csv_answer.content == json_answer.content
    if accept == "text/csv":
        assert csv_answer.text == "3.5,4.0,5.5\n" * rows
    else:
        assert csv_answer.json() == {"predictions": [ROW] * rows}
