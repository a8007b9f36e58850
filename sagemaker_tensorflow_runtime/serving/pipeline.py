"""The default request path (no inference.py): attributes → codec → backend → response.

Predict requests decode straight into numpy arrays with TF Serving's own typing rules and go to
the backend over gRPC as binary tensors; classify and regress go to its REST API. Answers are
TF-Serving-identical JSON, rendered in the negotiated type.

Large bodies that can become a TF Serving request as text (one that already is one, JSON
lines and generic JSON once checked, number-only CSV) go to the REST API that way instead:
building tensors from megabytes of numbers and printing the answer cost this single
cooperative worker ~20 ms of CPU per MB, during which none of its other requests moves, while
TF Serving does both in C++ on its own threads (the embedded server does them in Python at
about the same cost, but outside the front's worker).
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from sagemaker_tensorflow_runtime.serving import codecs
from sagemaker_tensorflow_runtime.serving.accept import media_type, negotiate
from sagemaker_tensorflow_runtime.serving.attributes import ModelRequest, parse_custom_attributes
from sagemaker_tensorflow_runtime.serving.backend_client import BackendPool, Instance
from sagemaker_tensorflow_runtime.serving.codecs.responses import encode
from sagemaker_tensorflow_runtime.serving.errors import BackendError, BadRequest, NotAcceptable
from sagemaker_tensorflow_runtime.serving.tensors.predict_json import (
    predict_inputs,
    predict_response,
    signature_name,
)

DEFAULT_SIGNATURE = "serving_default"
FORWARD_AS_TEXT_BYTES = 256 * 1024  # below this, the gRPC path's lower latency wins


@dataclass(frozen=True)
class Invocation:
    """What the route hands to the pipeline: headers that matter and the body."""

    body: bytes
    content_type: str | None
    accept: str | None
    custom_attributes: str | None


@dataclass(frozen=True)
class Answer:
    """A successful response."""

    body: bytes
    content_type: str
    status: int = 200


class DefaultPipeline:
    """Invocations without user code."""

    def __init__(self, pool: BackendPool, default_model: str) -> None:
        self.pool = pool
        self.default_model = default_model

    def invoke(self, request: Invocation) -> Answer:
        model = parse_custom_attributes(request.custom_attributes, self.default_model)
        negotiated = negotiate(request.accept)
        if negotiated is None:
            raise NotAcceptable(
                f"None of the accepted types ({request.accept}) can be produced; use "
                "application/json, application/jsonlines or text/csv"
            )
        media = media_type(request.content_type)
        instance = self.pool.pick()
        text = self._forward_as_text(instance, model, media, request.body)
        if text is None:
            document = codecs.decode(media, request.body)
            if model.method == "predict":
                text = self._predict(instance, model, document)
            else:
                text = self._rest(instance, model, document)
        body, content_type = encode(text, negotiated)
        return Answer(body, content_type)

    def _forward_as_text(
        self, instance: Instance, model: ModelRequest, media: str, body: bytes
    ) -> str | None:
        """The backend's answer to a large body sent to its REST API as text; None when the
        body is small, cannot be sent as text, or was an unchecked conversion the backend
        refused (decode it then)."""
        if len(body) < FORWARD_AS_TEXT_BYTES:
            return None
        form = codecs.request_text(media, body)
        if form is None:
            return None
        status, answer = self.pool.rest(instance, "POST", model.path(), form.text)
        if status == 200:
            return answer.decode("utf-8", errors="replace")
        if form.final:
            raise BackendError(backend_message(answer), status)
        return None

    def _predict(self, instance: Instance, model: ModelRequest, document: dict[str, Any]) -> str:
        key = signature_name(document) or DEFAULT_SIGNATURE
        signature = self.pool.signature(instance, model.name, model.version, key)
        inputs, row_format = predict_inputs(document, signature)
        outputs = self.pool.predict(instance, model.name, model.version, key, inputs)
        ordered = {k: outputs[k] for k in signature.outputs if k in outputs} or outputs
        return predict_response(ordered, row_format)

    def _rest(self, instance: Instance, model: ModelRequest, document: dict[str, Any]) -> str:
        try:  # arrays orjson cannot take natively (Fortran order, float128...) become lists
            payload = orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY, default=_listed)
        except orjson.JSONEncodeError as exc:  # an integer past 64 bits, bytes, ...
            raise BadRequest(f"The request cannot be sent to the backend as JSON: {exc}") from None
        status, body = self.pool.rest(instance, "POST", model.path(), payload)
        text = body.decode("utf-8", errors="replace")
        if status != 200:
            raise BackendError(backend_message(body), status)
        return text


def _listed(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


def backend_message(body: bytes) -> str:
    """The `error` of a TF Serving error body, else the body itself."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode("utf-8", errors="replace")
    if isinstance(doc, dict) and isinstance(doc.get("error"), str):
        return doc["error"]
    return body.decode("utf-8", errors="replace")
