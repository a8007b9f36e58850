"""Every REST error message of serving.md §12.6, with its status code from §12.7."""

from dataclasses import dataclass

import pytest

from .harness import ServerProcess

HPT = "/v1/models/half_plus_three"


@dataclass(frozen=True)
class Case:
    """One bad request and the exact answer it gets."""

    method: str
    path: str
    body: bytes | str | None
    status: int
    message: str
    prefix: bool = False  # message is the start of the error text


CASES = {
    "unknown model": Case(
        "POST",
        "/v1/models/nope:predict",
        '{"instances": [1.0]}',
        404,
        "Servable not found for request: Latest(nope)",
    ),
    "unknown version": Case(
        "POST",
        f"{HPT}/versions/999:predict",
        '{"instances": [1.0]}',
        404,
        "Servable not found for request: Specific(half_plus_three, 999)",
    ),
    "metadata of unknown model": Case(
        "GET",
        "/v1/models/nope/metadata",
        None,
        404,
        "Servable not found for request: Latest(nope)",
    ),
    "status of unknown model": Case(
        "GET", "/v1/models/nope", None, 404, "Could not find any versions of model nope"
    ),
    "status of unknown version": Case(
        "GET",
        f"{HPT}/versions/999",
        None,
        404,
        "Could not find version 999 of model half_plus_three",
    ),
    "non-numeric version": Case(
        "POST",
        f"{HPT}/versions/1x:predict",
        '{"instances": [1.0]}',
        400,
        "Failed to convert version: 1x to numeric.",
    ),
    "non-numeric version in status": Case(
        "GET", f"{HPT}/versions/abc", None, 400, "Failed to convert version: abc to numeric."
    ),
    "version and label": Case(
        "POST",
        f"{HPT}/versions/123/labels/stable:predict",
        '{"instances": [1.0]}',
        400,
        "Both model version (123) and model version label (stable) cannot be supplied.",
    ),
    "no model name": Case(
        "POST",
        "/v1/models/:predict",
        '{"instances": [1.0]}',
        400,
        "Missing model name in request.",
    ),
    "no model name in status": Case(
        "GET", "/v1/models", None, 400, "Missing model name in request."
    ),
    "GET of predict": Case(
        "GET", "/v1/models/x:predict", None, 400, "Malformed request: GET /v1/models/x:predict"
    ),
    "unknown verb": Case(
        "POST", f"{HPT}:explain", "{}", 400, f"Malformed request: POST {HPT}:explain"
    ),
    "POST of status": Case("POST", HPT, "{}", 400, f"Malformed request: POST {HPT}"),
    "PUT": Case("PUT", f"{HPT}:predict", "{}", 400, f"Malformed request: PUT {HPT}:predict"),
    "DELETE": Case("DELETE", HPT, None, 400, f"Malformed request: DELETE {HPT}"),
    "empty body": Case(
        "POST", f"{HPT}:predict", "", 400, "JSON Parse error: The document is empty"
    ),
    "blank body": Case(
        "POST", f"{HPT}:predict", " \n ", 400, "JSON Parse error: The document is empty"
    ),
    "bad JSON": Case(
        "POST", f"{HPT}:predict", "xx", 400, "JSON Parse error: Invalid value. at offset: 0"
    ),
    "neither key": Case(
        "POST", f"{HPT}:predict", '{"foo": 1}', 400, "Missing 'inputs' or 'instances' key"
    ),
    "both keys": Case(
        "POST",
        f"{HPT}:predict",
        '{"inputs": [1.0], "instances": [1.0]}',
        400,
        "Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist",
    ),
    "instances not a list": Case(
        "POST",
        f"{HPT}:predict",
        '{"instances": 1.0}',
        400,
        "Expecting 'instances' to be an list/array",
    ),
    "empty instances": Case(
        "POST", f"{HPT}:predict", '{"instances": []}', 400, "No values in 'instances' array"
    ),
    "signature_name not a string": Case(
        "POST",
        f"{HPT}:predict",
        '{"signature_name": 5, "instances": [1.0]}',
        400,
        "'signature_name' key must be a string value.",
    ),
    "unknown signature": Case(
        "POST",
        f"{HPT}:predict",
        '{"signature_name": "zz", "instances": [1.0]}',
        400,
        'Serving signature name: "zz" not found in signature def',
    ),
    "wrong value type": Case(
        "POST",
        f"{HPT}:predict",
        '{"instances": ["]["]}',
        400,
        "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
        'JSON Value: "][" Type: String is not of expected type: float',
    ),
    "unknown key in a row": Case(
        "POST",
        f"{HPT}:predict",
        '{"instances": [{"junk": "data"}]}',
        400,
        "Failed to process element: 0 key: junk of 'instances' list.",
        prefix=True,
    ),
    "wrong value type in a named row": Case(
        "POST",
        "/v1/models/multi_io:predict",
        '{"instances": [{"a": [1.0, 2.0], "b": 1}, {"a": [1.0, 2.0], "b": 1.5}]}',
        400,
        "Failed to process element: 1 key: b of 'instances' list. Error: INVALID_ARGUMENT: "
        "JSON Value: 1.5 Type: Number is not of expected type: int64",
    ),
    "missing named input": Case(
        "POST",
        "/v1/models/multi_io:predict",
        '{"inputs": {"a": [[1.0, 2.0]]}}',
        400,
        "Missing named input: b in 'inputs' object.",
    ),
    "bad base64 (columnar)": Case(
        "POST",
        "/v1/models/strings:predict",
        '{"inputs": {"text": [{"b64": "!!!"}]}}',
        400,
        "Unable to base64 decode",
    ),
    "bad base64 (row)": Case(
        "POST",
        "/v1/models/strings:predict",
        '{"instances": [{"b64": "!!!"}]}',
        400,
        "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
        "Unable to base64 decode",
    ),
    "regress with a predict signature": Case(
        "POST",
        f"{HPT}:regress",
        '{"examples": [{"x": 1.0}]}',
        400,
        "Expected regression signature method_name to be tensorflow/serving/regress. "
        "Was: tensorflow/serving/predict",
    ),
    "op error has no traceback": Case(
        "POST",
        f"{HPT}:regress",
        '{"signature_name": "tensorflow/serving/regress", "examples": [{"x": 1}]}',
        400,
        "Name: <unknown>, Key: x, Index: 0.  Data types don't match. "
        "Data type: int64 but expected type: float",
    ),
    "unknown label": Case(
        "POST",
        "/v1/models/labelled/labels/nolabel:predict",
        '{"instances": [1.0]}',
        400,
        "Unrecognized servable version label: nolabel",
    ),
    "failed model": Case(
        "POST",
        "/v1/models/broken:predict",
        '{"instances": [1.0]}',
        404,
        "Servable not found for request: Latest(broken)",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_error_message_and_status(server: ServerProcess, case: Case) -> None:
    answer = server.http.request(
        case.method, f"{server.url}{case.path}", data=case.body, timeout=30
    )
    assert answer.status_code == case.status, answer.text
    assert answer.headers["Content-Type"] == "application/json"
    error = answer.json()["error"]
    if case.prefix:
        assert error.startswith(case.message), error
    else:
        assert error == case.message


def test_paths_outside_v1_are_not_served(server: ServerProcess) -> None:
    answer = server.get("/v2/models/half_plus_three")
    assert answer.status_code in (400, 404)
    assert "error" in answer.json()
