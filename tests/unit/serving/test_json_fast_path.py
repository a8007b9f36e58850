"""The C fast path for numeric JSON agrees with TF Serving's checked conversion, or steps aside."""

import numpy as np
import orjson
import pytest

from sagemaker_tensorflow_runtime.serving.modelserver.errors import ServingError
from sagemaker_tensorflow_runtime.serving.modelserver.json_values import (
    checked_rows_to_array,
    numeric_fast_path,
    rows_to_array,
)
from sagemaker_tensorflow_runtime.serving.tensors.dtypes import (
    DT_BOOL,
    DT_DOUBLE,
    DT_FLOAT,
    DT_INT32,
    DT_INT64,
    DT_STRING,
    DT_UINT8,
    TensorSpec,
)
from sagemaker_tensorflow_runtime.serving.tensors.predict_json import (
    BooleanFreeRows,
    parse_document,
    predict_inputs,
)

FLOAT, DOUBLE, INT32, INT64 = (
    TensorSpec("x", t) for t in (DT_FLOAT, DT_DOUBLE, DT_INT32, DT_INT64)
)
UINT8, BOOL, STRING = (
    TensorSpec("x", DT_UINT8),
    TensorSpec("x", DT_BOOL),
    TensorSpec("x", DT_STRING),
)


@pytest.mark.parametrize(
    ("rows", "spec"),
    [
        ([1.0, 2.0, 5.0], FLOAT),
        ([[1, 2.5], [3, 4]], FLOAT),
        ([[1, 2], [3, 4]], INT64),
        ([0.1, float("nan"), float("inf")], DOUBLE),
        ([[[1], [2]], [[3], [4]]], INT32),
        ([255, 0], UINT8),
    ],
)
def test_fast_path_matches_the_checked_conversion(rows: list, spec: TensorSpec) -> None:
    fast = numeric_fast_path(rows, spec)
    assert fast is not None
    checked = checked_rows_to_array(rows, spec, None)
    assert fast.dtype == checked.dtype and fast.shape == checked.shape
    np.testing.assert_array_equal(fast, checked)


@pytest.mark.parametrize(
    ("rows", "spec"),
    [
        ([1.0, True], FLOAT),  # numpy would make True a 1.0; TF Serving rejects it
        ([1, False], INT64),
        ([1.5, 2], INT64),  # floats for an integer input
        ([[1, 2], [3]], FLOAT),  # ragged
        (["a", 1.0], FLOAT),
        ([{"b64": "AA=="}], FLOAT),
        ([2**70], INT64),
        ([300], UINT8),  # out of range
        ([-1], UINT8),
        ([True, False], BOOL),  # not numeric: the checked path handles it
        (["a"], STRING),
        ([], FLOAT),
    ],
)
def test_fast_path_steps_aside(rows: list, spec: TensorSpec) -> None:
    assert numeric_fast_path(rows, spec) is None


def test_rejections_keep_tf_servings_message() -> None:
    with pytest.raises(
        ServingError, match="JSON Value: true Type: True is not of expected type: float"
    ):
        rows_to_array([1.0, True], FLOAT)


class _Signature:
    def __init__(self, spec: TensorSpec) -> None:
        self.inputs = {"x": spec}


def _big_body(last: str) -> bytes:
    """A request body past the bulk threshold whose final value is `last`."""
    values = ", ".join(["0.25"] * 20_000 + [last])
    return f'{{"instances": [[{values}]]}}'.encode()


def test_large_float_documents_are_converted_in_bulk_with_the_same_values() -> None:
    body = _big_body("3")
    doc = parse_document(body)
    assert isinstance(doc["instances"], BooleanFreeRows)
    inputs, row_format = predict_inputs(doc, _Signature(FLOAT))
    assert row_format and inputs["x"].dtype == np.float32 and inputs["x"].shape == (1, 20_001)
    checked = checked_rows_to_array(orjson.loads(body)["instances"], FLOAT, None)
    np.testing.assert_array_equal(inputs["x"], checked)


@pytest.mark.parametrize(
    ("last", "spec", "message"),
    [
        ("true", FLOAT, "JSON Value: true Type: True is not of expected type: float"),
        ('"a"', FLOAT, 'JSON Value: "a" Type: String is not of expected type: float'),
        ("0.5", INT64, "JSON Value: 0.25 Type: Number is not of expected type: int64"),
    ],
)
def test_large_documents_keep_tf_servings_messages(
    last: str, spec: TensorSpec, message: str
) -> None:
    doc = parse_document(_big_body(last))
    with pytest.raises(ServingError, match=message):
        predict_inputs(doc, _Signature(spec))


@pytest.mark.parametrize(
    ("rows", "spec"),
    [
        ("[[1, 2], [3.5, 4]]", INT32),  # integers stay integers in the message
        ("[[1, 2.5]]", STRING),
        ("[[1, 2.5]]", BOOL),
        ("[[1152921504606846977, 0.5]]", INT64),
        ("[[1.5], [2.5, 3.5]]", FLOAT),
    ],
)
def test_large_bodies_fail_with_the_messages_of_small_ones(rows: str, spec: TensorSpec) -> None:
    small = f'{{"instances": {rows}}}'.encode()
    large = small + b" " * 70_000  # past the bulk threshold, same document
    messages = []
    for body in (small, large):
        with pytest.raises(ServingError) as caught:
            predict_inputs(parse_document(body), _Signature(spec))
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


def test_numbers_past_pythons_digit_limit_or_float_range_are_tf_serving_errors() -> None:
    with pytest.raises(ServingError, match="Number too big to be stored in double"):
        parse_document(b'{"instances": [' + b"9" * 5000 + b"]}")
    with pytest.raises(ServingError, match="out of range for type float"):
        rows_to_array([1, int("9" * 400)], FLOAT)
