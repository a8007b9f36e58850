"""Errors of the `serve` front: one root, the HTTP status on the class.

User handlers may raise `InferenceError(status_code, message)` (or any exception carrying a
`status_code`, like sagemaker-inference's BaseInferenceToolkitError) to answer a chosen status.
"""

from http import HTTPStatus
from typing import TypeGuard


class ServeError(Exception):
    """A request failed; answered as JSON `{"error": message}` with `status`."""

    status: int = HTTPStatus.INTERNAL_SERVER_ERROR

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = int(status)


class InferenceError(ServeError):
    """Raise from inference.py to answer `status_code` with `message`."""

    def __init__(self, status_code: int, message: str = "") -> None:
        if not is_error_status(status_code):
            raise ValueError(
                f"InferenceError needs an HTTP error status from 400 to 599, got {status_code!r}"
            )
        super().__init__(safe_text(message) or HTTPStatus(status_code).phrase, status_code)
        self.status_code = status_code


class BadRequest(ServeError):
    """The request body or headers cannot be used."""

    status = HTTPStatus.BAD_REQUEST


class NotFound(ServeError):
    """No such route or model."""

    status = HTTPStatus.NOT_FOUND


class UnsupportedMediaType(ServeError):
    """The request's Content-Type has no decoder."""

    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE


class NotAcceptable(ServeError):
    """No response type the client accepts can be produced."""

    status = HTTPStatus.NOT_ACCEPTABLE


class PreconditionFailed(ServeError):
    """The input's shape does not fit the model (legacy endpoint)."""

    status = HTTPStatus.PRECONDITION_FAILED


class BackendError(ServeError):
    """TensorFlow Serving answered with an error (its status and message are passed on)."""


class BackendUnavailable(ServeError):
    """TensorFlow Serving could not be reached."""

    status = HTTPStatus.BAD_GATEWAY


def status_of(exc: BaseException) -> int | None:
    """The HTTP status a user exception asks for, if it carries one."""
    status = getattr(exc, "status_code", None)
    return status if is_error_status(status) else None


def is_error_status(status: object) -> TypeGuard[int]:
    return isinstance(status, int) and not isinstance(status, bool) and 400 <= status <= 599


def safe_text(value: object) -> str:
    """Text for an error message from whatever user code put there (bytes, a dict, an object
    whose __str__ fails): an error answer must never fail in turn."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    try:
        return str(value)
    except Exception:
        return type(value).__name__
