"""The Flask app of the `serve` front: the explicit route table (serving.md §6).

Routes only do HTTP; the work happens in the pipelines. Every error is JSON `{"error": ...}`.
"""

import logging
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
from flask import Flask, Response, request

from sagemaker_tensorflow_runtime.serving import connections
from sagemaker_tensorflow_runtime.serving.backend_client import BackendPool
from sagemaker_tensorflow_runtime.serving.errors import (
    BadRequest,
    NotAcceptable,
    PreconditionFailed,
    ServeError,
    UnsupportedMediaType,
    is_error_status,
    safe_text,
    status_of,
)
from sagemaker_tensorflow_runtime.serving.front_config import FrontConfig
from sagemaker_tensorflow_runtime.serving.handlers import HandlerPipeline, load_module
from sagemaker_tensorflow_runtime.serving.legacy import (
    LegacyPipeline,
    load_user_module,
)
from sagemaker_tensorflow_runtime.serving.legacy import error_body as legacy_error_body
from sagemaker_tensorflow_runtime.serving.pipeline import (
    Answer,
    DefaultPipeline,
    Invocation,
)
from sagemaker_tensorflow_runtime.serving.stall_guard import StallGuard
from sagemaker_tensorflow_runtime.serving.wsgi_body import read_whole_body

logger = logging.getLogger("sagemaker_tensorflow_runtime.serve")
CUSTOM_ATTRIBUTES = "X-Amzn-SageMaker-Custom-Attributes"
JSON_TYPE = "application/json"
LEGACY_STATUS_ERRORS = (UnsupportedMediaType, NotAcceptable, PreconditionFailed)


HEADER_VALUE = re.compile(r"[ -~]+")  # printable ASCII: no CR/LF, nothing latin-1 cannot send


def json_error(message: object, status: int) -> Response:
    # A message may quote the request's own text, lone surrogates included: orjson refuses
    # those, so they are escaped rather than turning the answer into a 500 HTML page.
    safe = safe_text(message).encode("utf-8", "backslashreplace").decode("utf-8")
    return Response(orjson.dumps({"error": safe}), status=status, mimetype="application/json")


class Endpoint:
    """The route functions, bound to one worker's pipeline and backends."""

    def __init__(self, config: FrontConfig) -> None:
        self.config = config
        self.pool = BackendPool(list(config.backends), config.read_timeout_seconds)
        self.guard = StallGuard(config.handler_timeout_seconds)
        self.pipeline: DefaultPipeline | HandlerPipeline | LegacyPipeline
        if config.legacy_module:
            module = load_user_module(Path(config.legacy_module))
            self.pipeline = LegacyPipeline(
                self.pool, config.default_model, module, config.default_accept
            )
        elif config.inference_module:
            module = load_module(Path(config.inference_module))
            self.pipeline = HandlerPipeline(self.pool, config.default_model, module)
        else:
            self.pipeline = DefaultPipeline(self.pool, config.default_model)

    def ping(self) -> Response:
        """200 only while the default model (or the one named in the attributes) is AVAILABLE."""
        from sagemaker_tensorflow_runtime.serving.attributes import parse_custom_attributes

        try:
            model = parse_custom_attributes(
                request.headers.get(CUSTOM_ATTRIBUTES), self.config.default_model
            )
            for instance in self.pool.instances:
                status, body = self.pool.rest(instance, "GET", model.path(action=False))
                if status != 200 or b'"AVAILABLE"' not in body:
                    logger.warning("failed ping%s", body.decode("utf-8", "replace"))
                    return json_error(f"model {model.name} is not available", 503)
        except ServeError as exc:  # a malformed header keeps its 4xx; the rest is unavailable
            return json_error(exc.message, exc.status if exc.status < 500 else 503)
        return Response(b"", status=200)

    def invocations(self) -> Response:
        self.guard.start()
        key = self.guard.enter(request.environ.get("gunicorn.socket"))
        try:
            return self._invoke()
        finally:
            self.guard.leave(key)

    def _invoke(self) -> Response:
        try:
            invocation = Invocation(
                body=request_body(),
                content_type=request.headers.get("ContentType")
                or request.headers.get("Content-Type")
                if isinstance(self.pipeline, LegacyPipeline)
                else request.headers.get("Content-Type"),
                accept=request.headers.get("Accept"),
                custom_attributes=request.headers.get(CUSTOM_ATTRIBUTES),
            )
            answer: Answer = self.pipeline.invoke(invocation)
        except LEGACY_STATUS_ERRORS as exc:
            if isinstance(self.pipeline, LegacyPipeline):  # the legacy body: a JSON string
                return Response(legacy_error_body(exc.message), exc.status, mimetype=JSON_TYPE)
            return error_response(exc)
        except (Exception, KeyboardInterrupt, SystemExit) as exc:  # a JSON answer, never a
            return error_response(exc)  # dead worker (user code may raise SystemExit too)
        content_type = answer.content_type
        if not (isinstance(content_type, str) and HEADER_VALUE.fullmatch(content_type)):
            return json_error(
                f"The handler answered with content type {safe_text(content_type)[:200]!r}, "
                "which is not a valid header value (printable ASCII)",
                500,
            )
        return Response(answer.body, status=answer.status, content_type=content_type)

    def tfs(self, path: str) -> Response:
        """Local-use passthrough to a backend's REST API."""
        instance = self.pool.pick()
        try:
            body = request_body() if request.method == "POST" else None
            target = "/" + quote(path, safe="/:")
            status, payload = self.pool.rest(instance, request.method, target, body)
        except ServeError as exc:
            return json_error(exc.message, exc.status)
        return Response(payload, status=status, mimetype="application/json")


def request_body() -> bytes:
    """The request's body; one that cannot be read (gunicorn's NoMoreData, InvalidChunkSize:
    a broken chunked encoding, a client gone mid-body) is the client's error."""
    try:
        whole = read_whole_body(request.environ)
        return request.get_data(cache=False) if whole is None else whole
    except Exception as exc:
        raise BadRequest(f"Cannot read the request body: {type(exc).__name__}: {exc}") from None


def error_response(exc: BaseException) -> Response:
    if isinstance(exc, ServeError):
        return json_error(exc.message, exc.status)
    http_status = getattr(exc, "http_status", None)
    if is_error_status(http_status):  # TF Serving's typing rules, checked in the front
        return json_error(getattr(exc, "message", None) or safe_text(exc), http_status)
    status = status_of(exc)
    if status is not None:
        return json_error(getattr(exc, "message", None) or safe_text(exc), status)
    logger.exception("Handler failed")
    return json_error(safe_text(exc) or type(exc).__name__, 500)


def create_app(config: FrontConfig | None = None) -> Flask:
    """The WSGI app; gunicorn calls this once per worker."""
    config = config or FrontConfig.from_env(os.environ)
    endpoint = Endpoint(config)
    app = Flask("sagemaker_tensorflow_runtime.serve")
    app.add_url_rule("/ping", "ping", endpoint.ping, methods=["GET"])
    app.add_url_rule("/invocations", "invocations", endpoint.invocations, methods=["POST"])
    app.add_url_rule("/tfs/<path:path>", "tfs", endpoint.tfs, methods=["GET", "POST"])

    app.wsgi_app = connections.tracked(app.wsgi_app)  # type: ignore[method-assign,assignment]

    @app.errorhandler(404)
    def not_found(_: Any) -> Response:
        return json_error("Not Found", 404)

    @app.errorhandler(405)
    def wrong_method(_: Any) -> Response:
        return json_error("Not Found", 404)

    return app
