"""TF Serving's REST API (serving.md §12) on a threaded HTTP/1.1 server.

Routes: `/v1/models/{name}[/versions/{v}|/labels/{l}]` with `:predict`, `:classify`,
`:regress`, `/metadata`, or nothing (status). Every answer is JSON; errors are
`{"error": "<message>"}` with TF Serving's status mapping. A request that outlives
`--rest_api_timeout_in_ms` answers 504 while its work finishes in the background.
"""

import json
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

from sagemaker_tensorflow_runtime.serving.modelserver import rest_codec
from sagemaker_tensorflow_runtime.serving.modelserver.dataplane import DataPlane
from sagemaker_tensorflow_runtime.serving.modelserver.errors import (
    Code,
    ServingError,
    invalid,
)

logger = logging.getLogger(__name__)

ROUTE = re.compile(
    r"^/v1/models(?:/(?P<name>[^/:]*))?"
    r"(?:/versions/(?P<version>[^/:]+))?(?:/labels/(?P<label>[^/:]+))?"
    r"(?:(?P<metadata>/metadata)|:(?P<method>[a-z]+))?/?$",
    re.IGNORECASE,
)
MAX_BODY_BYTES = 2**31 - 1


class RestApi:
    """Maps a (method, path, body) to (status, JSON text) through the data plane."""

    def __init__(self, dataplane: DataPlane, timeout_seconds: float, workers: int) -> None:
        self.dataplane = dataplane
        self.timeout = timeout_seconds
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rest")

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, str]:
        try:
            if self.timeout <= 0:
                return HTTPStatus.OK, self._dispatch(method, path, body)
            future = self._pool.submit(self._dispatch, method, path, body)
            try:
                return HTTPStatus.OK, future.result(timeout=self.timeout)
            except FutureTimeout:
                raise ServingError(Code.DEADLINE_EXCEEDED, "Deadline exceeded") from None
        except ServingError as exc:
            return exc.http_status, json.dumps({"error": exc.message})
        except Exception as exc:  # never a dead connection for a bad request
            logger.exception("REST request %s %s failed", method, path)
            return HTTPStatus.INTERNAL_SERVER_ERROR, json.dumps({"error": str(exc)})

    def _dispatch(self, method: str, path: str, body: bytes) -> str:
        match = ROUTE.match(unquote(path.split("?", 1)[0]))
        if match is None:
            raise invalid(f"Malformed request: {method} {path}")
        name = match["name"]
        if not name:
            raise invalid("Missing model name in request.")
        version = _version(match["version"])
        label = match["label"]
        if version is not None and label is not None:
            raise invalid(
                f"Both model version ({version}) and model version label ({label}) cannot "
                "be supplied."
            )
        action = (match["method"] or "").lower()
        if method == "GET" and not action:
            target = rest_codec.target(name, version, label, None)
            if match["metadata"]:
                servable = self.dataplane.servable_for_metadata(target)
                return rest_codec.metadata_response(
                    servable.name, servable.version, servable.meta_graph
                )
            return rest_codec.status_response(self.dataplane.status(target))
        if method != "POST" or action not in ("predict", "classify", "regress"):
            raise invalid(f"Malformed request: {method} {path}")
        doc = rest_codec.parse_document(body)
        target = rest_codec.target(name, version, label, doc)
        if action == "predict":
            servable = self.dataplane.servable_for_metadata(target)
            signature = servable.signature(target.signature_name)
            inputs, rows = rest_codec.predict_inputs(doc, signature)
            outputs = self.dataplane.run(servable, signature, inputs)
            return rest_codec.predict_response(outputs, rows)
        examples = rest_codec.examples(doc)
        if action == "regress":
            return rest_codec.regress_response(self.dataplane.regress(target, examples))
        return rest_codec.classify_response(self.dataplane.classify(target, examples))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _version(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit():
        raise invalid(f"Failed to convert version: {text} to numeric.")
    return int(text)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes; with Nagle on, the body waits for the
    # client's delayed ACK of the headers (~40 ms per keep-alive request).
    disable_nagle_algorithm = True
    # A request line too broken to carry a version still gets a status line and headers
    # (http.server would answer it as HTTP/0.9: a bare HTML page).
    default_request_version = "HTTP/1.1"
    server: "RestServer"

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (bad request line, unknown method) as JSON, like ours."""
        self.close_connection = True
        self._answer(code, json.dumps({"error": message or HTTPStatus(code).phrase}))

    def _answer(self, status: int, text: str) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes | None:
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._chunked_body()
        try:
            size = int(length or 0)
        except ValueError:
            size = -1
        if size < 0 or size > MAX_BODY_BYTES:
            self._answer(HTTPStatus.BAD_REQUEST, '{"error": "Invalid Content-Length"}')
            self.close_connection = True
            return None
        return self.rfile.read(size)

    def _chunked_body(self) -> bytes | None:
        parts: list[bytes] = []
        while True:
            try:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            except ValueError:
                self._answer(HTTPStatus.BAD_REQUEST, '{"error": "Invalid chunked encoding"}')
                self.close_connection = True
                return None
            if size == 0:
                self.rfile.readline()
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def do_GET(self) -> None:
        self._answer(*self.server.api.handle("GET", self.path, b""))

    def do_POST(self) -> None:
        body = self._body()
        if body is not None:
            self._answer(*self.server.api.handle("POST", self.path, body))

    def do_PUT(self) -> None:
        self._body()
        self._answer(*self.server.api.handle("PUT", self.path, b""))

    def do_DELETE(self) -> None:
        self._answer(*self.server.api.handle("DELETE", self.path, b""))

    def do_OPTIONS(self) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s - %s", self.address_string(), format % args)


class RestServer(ThreadingHTTPServer):
    """The HTTP listener; one thread per connection (keep-alive)."""

    daemon_threads = True
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], api: RestApi) -> None:
        self.api = api
        super().__init__(address, _Handler)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="rest", daemon=True)
        thread.start()
        return thread
