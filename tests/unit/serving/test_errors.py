"""Errors raised by user code become answers that cannot fail in turn."""

import pytest

from sagemaker_tensorflow_runtime.serving.errors import InferenceError, safe_text


@pytest.mark.parametrize("status", [0, 200, 399, 600, 999, True, "400", 400.0])
def test_inference_error_needs_an_http_error_status(status: object) -> None:
    with pytest.raises(ValueError, match="HTTP error status from 400 to 599"):
        InferenceError(status, "m")  # type: ignore[arg-type]


def test_inference_error_keeps_its_status_and_makes_text_of_its_message() -> None:
    error = InferenceError(422, {"field": "x"})  # type: ignore[arg-type]
    assert (error.status_code, error.message) == (422, "{'field': 'x'}")
    assert InferenceError(404).message == "Not Found"


class Unprintable(Exception):
    def __str__(self) -> str:
        raise ValueError("no text")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("s", "s"),
        (b"caf\xc3\xa9", "café"),
        (b"\xff", "\ufffd"),
        (5, "5"),
        (Unprintable(), "Unprintable"),
    ],
)
def test_safe_text(value: object, text: str) -> None:
    assert safe_text(value) == text
