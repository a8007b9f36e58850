"""Every REST route of the embedded server (serving.md §12.1-12.5) on the shared server."""

import base64

import pytest

from .harness import ServerProcess

HPT = "/v1/models/half_plus_three"


def predict(server: ServerProcess, path: str, body: object) -> object:
    answer = server.post(path, body)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == "application/json"
    return answer.json()


def test_row_predict_prints_float32_as_tf_serving_does(server: ServerProcess) -> None:
    answer = server.post(f"{HPT}:predict", {"instances": [0.1, 1.0, 2.0]})
    assert answer.status_code == 200
    assert answer.text == '{\n    "predictions": [3.05, 3.5, 4.0\n    ]\n}'


def test_float_text_uses_float32_precision_when_six_digits_are_not_enough(
    server: ServerProcess,
) -> None:
    answer = server.post(f"{HPT}:predict", {"instances": [0.123456789, 1.9999e7, -6e-5]})
    assert "[3.06172848, 9999503.0, 2.99997" in answer.text


def test_row_predict_of_rows_with_their_own_shape(server: ServerProcess) -> None:
    body = {"instances": [[1.0, 2.0], [3.0, 4.0]]}
    assert predict(server, f"{HPT}:predict", body) == {"predictions": [[3.5, 4.0], [4.5, 5.0]]}


def test_columnar_predict(server: ServerProcess) -> None:
    assert predict(server, f"{HPT}:predict", {"inputs": [1.0, 2.0]}) == {"outputs": [3.5, 4.0]}
    named = predict(server, f"{HPT}:predict", {"inputs": {"x": [[1.0], [3.0]]}})
    assert named == {"outputs": [[3.5], [4.5]]}


def test_nan_and_infinity_literals_round_trip(server: ServerProcess) -> None:
    answer = server.post(f"{HPT}:predict", b'{"instances": [NaN, Infinity, -Infinity]}')
    assert answer.status_code == 200
    assert "[NaN, Infinity, -Infinity" in answer.text


def test_multi_input_multi_output_row_format(server: ServerProcess) -> None:
    body = {"instances": [{"a": [1.0, 2.0], "b": 3}, {"a": [0.5, 0.25], "b": -1}]}
    rows = predict(server, "/v1/models/multi_io:predict", body)["predictions"]
    assert rows == [
        {"sum": 6.0, "doubled": [2.0, 4.0], "label_bytes": {"b64": _b64(b"\x00\xffrow3")}},
        {"sum": -0.25, "doubled": [1.0, 0.5], "label_bytes": {"b64": _b64(b"\x00\xffrow-1")}},
    ]


def test_multi_input_multi_output_columnar_format(server: ServerProcess) -> None:
    body = {"inputs": {"a": [[1.0, 2.0]], "b": [3]}}
    outputs = predict(server, "/v1/models/multi_io:predict", body)["outputs"]
    assert outputs == {
        "sum": [6.0],
        "doubled": [[2.0, 4.0]],
        "label_bytes": [{"b64": _b64(b"\x00\xffrow3")}],
    }


def test_signature_name_selects_another_signature(server: ServerProcess) -> None:
    body = {"signature_name": "swap", "instances": [[1.0, 2.0]]}
    assert predict(server, "/v1/models/multi_io:predict", body) == {"predictions": [[-1.0, -2.0]]}


def test_b64_and_plain_string_inputs(server: ServerProcess) -> None:
    body = {"instances": [{"b64": _b64(b"hello")}, "abc"]}
    rows = predict(server, "/v1/models/strings:predict", body)["predictions"]
    assert rows == [{"upper": "HELLO", "length": 5}, {"upper": "ABC", "length": 3}]
    columnar = predict(server, "/v1/models/strings:predict", {"inputs": {"text": ["hi"]}})
    assert columnar == {"outputs": {"upper": ["HI"], "length": [2]}}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


REGRESS = "tensorflow/serving/regress"
CLASSIFY = "tensorflow/serving/classify"


def test_regress(server: ServerProcess) -> None:
    body = {"signature_name": REGRESS, "examples": [{"x": 1.0}, {"x": 2.0}]}
    assert predict(server, f"{HPT}:regress", body) == {"results": [3.5, 4.0]}


def test_regress_with_context(server: ServerProcess) -> None:
    body = {"signature_name": REGRESS, "context": {"x": 4.0}, "examples": [{}, {}]}
    assert predict(server, f"{HPT}:regress", body) == {"results": [5.0, 5.0]}


def test_regress_example_features_override_context(server: ServerProcess) -> None:
    body = {"signature_name": REGRESS, "context": {"x": 4.0}, "examples": [{"x": 0.0}, {}]}
    assert predict(server, f"{HPT}:regress", body) == {"results": [3.0, 5.0]}


def test_classify(server: ServerProcess) -> None:
    body = {"signature_name": CLASSIFY, "examples": [{"x": 1.0}, {"x": 4.0}]}
    results = predict(server, f"{HPT}:classify", body)["results"]
    assert results == [[["lo", 0.5], ["hi", 3.5]], [["lo", 2.0], ["hi", 5.0]]]


def test_model_status_lists_every_version(server: ServerProcess) -> None:
    status = predict_get(server, HPT)
    assert status == {
        "model_version_status": [
            {
                "version": version,
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
            for version in ("124", "123")
        ]
    }


def predict_get(server: ServerProcess, path: str) -> dict:
    answer = server.get(path)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == "application/json"
    return answer.json()


def test_model_status_of_one_version_and_of_a_label(server: ServerProcess) -> None:
    one = predict_get(server, f"{HPT}/versions/123")["model_version_status"]
    assert [(v["version"], v["state"]) for v in one] == [("123", "AVAILABLE")]
    labelled = predict_get(server, "/v1/models/labelled/labels/canary")["model_version_status"]
    assert [v["version"] for v in labelled] == ["2"]


def test_metadata(server: ServerProcess) -> None:
    doc = predict_get(server, f"{HPT}/metadata")
    assert doc["model_spec"] == {"name": "half_plus_three", "signature_name": "", "version": "124"}
    signatures = doc["metadata"]["signature_def"]["signature_def"]
    assert set(signatures) == {"serving_default", REGRESS, CLASSIFY}
    default = signatures["serving_default"]
    assert default["method_name"] == "tensorflow/serving/predict"
    assert default["inputs"]["x"]["dtype"] == "DT_FLOAT"
    assert default["inputs"]["x"]["name"] == "x:0"
    assert set(default["outputs"]) == {"y"}


@pytest.mark.parametrize(
    ("path", "version"),
    [
        (f"{HPT}/versions/123/metadata", "123"),
        ("/v1/models/labelled/labels/stable/metadata", "1"),
        ("/v1/models/labelled/labels/canary/metadata", "2"),
    ],
)
def test_metadata_of_a_version_or_label(server: ServerProcess, path: str, version: str) -> None:
    assert predict_get(server, path)["model_spec"]["version"] == version


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/v1/models/labelled:predict", 3.0),  # latest: version 2, y = 0.5x + 2
        ("/v1/models/labelled/versions/1:predict", 2.0),
        ("/v1/models/labelled/versions/2:predict", 3.0),
        ("/v1/models/labelled/labels/stable:predict", 2.0),
        ("/v1/models/labelled/labels/canary:predict", 3.0),
        ("/V1/MODELS/labelled/LABELS/stable:PREDICT", 2.0),  # paths are case-insensitive
        ("/v1/models/labelled/labels/stable:regress", None),
    ],
)
def test_version_and_label_routing(server: ServerProcess, path: str, expected: float) -> None:
    if expected is None:  # regress follows the same routing
        body = {"signature_name": REGRESS, "examples": [{"x": 2.0}]}
        assert predict(server, path, body) == {"results": [2.0]}
        return
    assert predict(server, path, {"instances": [2.0]}) == {"predictions": [expected]}


def test_classify_by_version(server: ServerProcess) -> None:
    body = {"signature_name": CLASSIFY, "examples": [{"x": 2.0}]}
    results = predict(server, "/v1/models/labelled/versions/1:classify", body)["results"]
    assert results == [[["lo", 1.0], ["hi", 2.0]]]


def test_options_preflight_answers(server: ServerProcess) -> None:
    answer = server.http.options(f"{server.url}{HPT}:predict", timeout=10)
    assert answer.status_code == 200
