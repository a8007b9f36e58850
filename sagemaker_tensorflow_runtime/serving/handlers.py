"""User handlers from `model/code/inference.py` (serving.md §9), resolved once per worker.

`handler(data, context)` owns the whole request; otherwise `input_handler` and
`output_handler` wrap a POST to the backend's REST API. A module with only one of the two fails
at start-up with the reference's message. Handlers may return a body alone or
`(body, content_type)`; an exception carrying `status_code` answers that status.
"""

import io
import json
import logging
import threading
from collections import namedtuple
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sagemaker_tensorflow_runtime.serving.accept import JSON
from sagemaker_tensorflow_runtime.serving.attributes import parse_custom_attributes
from sagemaker_tensorflow_runtime.serving.backend_client import BackendPool
from sagemaker_tensorflow_runtime.serving.pipeline import Answer, Invocation
from sagemaker_tensorflow_runtime.serving.user_module import import_from_path

logger = logging.getLogger(__name__)

Context = namedtuple(
    "Context",
    [
        "model_name",
        "model_version",
        "method",
        "rest_uri",
        "grpc_port",
        "channel",
        "custom_attributes",
        "request_content_type",
        "accept_header",
        "content_length",
    ],
)
NOT_IMPLEMENTED = "Handlers are not implemented correctly in user script."
Handler = Callable[[Any, Any], Any]


def load_module(path: Path) -> Any:
    """Import `inference.py` once, under the name `inference`, with code/ and code/lib on path."""
    return import_from_path(path, "inference", [path.parent, path.parent / "lib"])


def check_handler_source(path: Path) -> None:
    """Fail before starting workers when inference.py cannot define a valid combination.

    Reads top-level names without executing the module (functions, assignments, imports).
    """
    import ast

    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as exc:
        raise NotImplementedError(f"{path} has a syntax error: {exc}") from None
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    if "handler" not in names and not {"input_handler", "output_handler"} <= names:
        raise NotImplementedError(NOT_IMPLEMENTED)


def resolve_handler(module: Any) -> tuple[Handler | None, Handler | None, Handler | None]:
    """(handler, input_handler, output_handler); raises for an incomplete pair."""
    handler = getattr(module, "handler", None)
    if callable(handler):
        return handler, None, None
    input_handler = getattr(module, "input_handler", None)
    output_handler = getattr(module, "output_handler", None)
    if callable(input_handler) and callable(output_handler):
        return None, input_handler, output_handler
    raise NotImplementedError(NOT_IMPLEMENTED)


def _bare_body_type(accept: str) -> str:
    """A bare body's Content-Type: the first concrete type accepted (never `*/*`), else JSON."""
    for item in accept.split(","):
        kind = item.split(";", 1)[0].strip()
        if kind and "*" not in kind:
            return kind
    return JSON


def _as_answer(result: Any, default_type: str) -> Answer:
    if isinstance(result, tuple) and len(result) == 2:
        body, content_type = result
    else:
        body, content_type = result, _bare_body_type(default_type)
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif not isinstance(body, (bytes, bytearray)):
        body = json.dumps(body).encode("utf-8")
    return Answer(bytes(body), str(content_type or default_type))


class HandlerPipeline:
    """Invocations through the user's inference.py."""

    def __init__(self, pool: BackendPool, default_model: str, module: Any) -> None:
        self.pool = pool
        self.default_model = default_model
        self.handler, self.input_handler, self.output_handler = resolve_handler(module)
        self._local = threading.local()

    def _session(self) -> Any:
        session = getattr(self._local, "session", None)
        if session is None:
            import requests

            session = self._local.session = requests.Session()
        return session

    def context(self, request: Invocation) -> Context:
        model = parse_custom_attributes(request.custom_attributes, self.default_model)
        instance = self.pool.pick()
        return Context(
            model_name=model.name,
            model_version=str(model.version) if model.version is not None else None,
            method=model.method,
            rest_uri=instance.rest_uri(model.path()),
            grpc_port=instance.grpc_port,
            channel=instance.channel,
            custom_attributes=request.custom_attributes,
            request_content_type=request.content_type or JSON,
            accept_header=request.accept or JSON,
            content_length=len(request.body),
        )

    def invoke(self, request: Invocation) -> Answer:
        context = self.context(request)
        data = io.BytesIO(request.body)
        if self.handler is not None:
            return _as_answer(self.handler(data, context), context.accept_header)
        assert self.input_handler is not None and self.output_handler is not None
        payload = self.input_handler(data, context)
        response = self._session().post(context.rest_uri, data=payload, timeout=self.pool.timeout)
        return _as_answer(self.output_handler(response, context), context.accept_header)
