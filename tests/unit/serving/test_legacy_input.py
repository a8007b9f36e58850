"""The legacy default input_fn answers malformed bodies with a 400 naming the problem."""

import pytest

from sagemaker_tensorflow_runtime.serving.errors import BadRequest
from sagemaker_tensorflow_runtime.serving.legacy import default_input_fn


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b'{"a": "\xff"}', "application/json", "Cannot parse the JSON body"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", "Cannot parse the JSON body"),
        (b"1,2\n\xff", "text/csv", "CSV values must be numbers"),
        (b"1,2\n3", "text/csv", "same number of values"),
    ],
    ids=["invalid-utf8-json", "deep-json", "invalid-utf8-csv", "ragged-csv"],
)
def test_malformed_bodies_are_400s(body: bytes, content_type: str, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        default_input_fn(body, content_type)
