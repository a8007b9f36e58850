"""The legacy Python endpoint (TF <= 1.12 `entry_point` models, serving.md §10).

The user module named by SAGEMAKER_PROGRAM may define `transform_fn(data, content_type,
accepts)`, or `input_fn(data, content_type)` and/or `output_fn(prediction, accepts)`; missing
ones get the defaults below. Predictions go to the backend over gRPC, choosing Predict or
Classify (or Regress) from the signature's method.
"""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from google.protobuf import json_format
from google.protobuf.message import DecodeError

from sagemaker_tensorflow_runtime.serving import protos
from sagemaker_tensorflow_runtime.serving.backend_client import BackendPool
from sagemaker_tensorflow_runtime.serving.errors import (
    BadRequest,
    NotAcceptable,
    PreconditionFailed,
    ServeError,
    UnsupportedMediaType,
)
from sagemaker_tensorflow_runtime.serving.pipeline import Answer, Invocation
from sagemaker_tensorflow_runtime.serving.tensors.dtypes import DT_STRING
from sagemaker_tensorflow_runtime.serving.tensors.tensor_proto import (
    tensor_proto,
    to_numpy,
    typed_tensor_proto,
)
from sagemaker_tensorflow_runtime.serving.user_module import import_from_path

JSON, CSV, OCTET = "application/json", "text/csv", "application/octet-stream"
PREDICT = "tensorflow/serving/predict"
CLASSIFY = "tensorflow/serving/classify"
REGRESS = "tensorflow/serving/regress"
LEGACY_FUNCTIONS = ("input_fn", "output_fn", "transform_fn")
NOT_SUPPORTED = "This prediction service type is not supported by SageMaker yet"
GRPC_METHOD = {
    PREDICT: ("Predict", "PredictRequest", "PredictResponse"),
    CLASSIFY: ("Classify", "ClassificationRequest", "ClassificationResponse"),
    REGRESS: ("Regress", "RegressionRequest", "RegressionResponse"),
}


class LegacyError(ServeError):
    """The user module's functions cannot be combined."""


def load_user_module(path: Path) -> Any:
    return import_from_path(path, path.stem, [path.parent])


def defines_legacy_functions(path: Path) -> bool:
    """Whether the module source defines any legacy function (read, not executed)."""
    import ast

    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return False
    return any(
        isinstance(node, ast.FunctionDef) and node.name in LEGACY_FUNCTIONS for node in tree.body
    )


def default_input_fn(data: bytes, content_type: str) -> Any:
    if content_type == JSON:
        tensor = protos.message("tensorflow.TensorProto")()
        try:
            json_format.Parse(data, tensor)
            return tensor
        except (json_format.ParseError, ValueError, RecursionError):
            try:
                return json.loads(data)
            except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
                raise BadRequest(f"Cannot parse the JSON body: {exc}") from None
    if content_type == CSV:
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
            rows = [[float(v) for v in line.split(",")] for line in text.splitlines() if line]
        except ValueError as exc:
            raise BadRequest(f"CSV values must be numbers: {exc}") from None
        if len({len(row) for row in rows}) > 1:
            raise BadRequest("CSV rows must all have the same number of values")
        return np.array(rows, dtype=np.float32)
    if content_type == OCTET:
        return RawRequest(data)
    raise UnsupportedMediaType(f"Unsupported content type {content_type}")


def default_output_fn(prediction: Any, accepts: str) -> bytes:
    if accepts in (JSON, "*/*"):
        return json_format.MessageToJson(prediction).encode("utf-8")
    if accepts == OCTET:
        return prediction.SerializeToString()
    raise NotAcceptable(f"Unsupported accept type {accepts}")


class RawRequest(bytes):
    """An octet-stream body: a serialized request proto of the signature's method."""


class LegacyPipeline:
    """Invocations through input_fn / predict / output_fn, or transform_fn."""

    def __init__(self, pool: BackendPool, model: str, module: Any, default_accept: str) -> None:
        self.pool = pool
        self.model = model
        self.default_accept = default_accept
        self.transform_fn: Callable[..., Any] | None = getattr(module, "transform_fn", None)
        user_input = getattr(module, "input_fn", None)
        user_output = getattr(module, "output_fn", None)
        if self.transform_fn is not None and (user_input or user_output):
            raise LegacyError(
                "transform_fn cannot be declared together with an input or output function."
            )
        self.input_fn: Callable[..., Any] = user_input or default_input_fn
        self.output_fn: Callable[..., Any] = user_output or default_output_fn

    def invoke(self, request: Invocation) -> Answer:
        content_type = (request.content_type or JSON).split(";")[0].strip()
        accepts = (request.accept or self.default_accept).split(",")[0].strip()
        if accepts in ("", "*/*"):
            accepts = self.default_accept if accepts == "" else accepts
        if self.transform_fn is not None:
            body = self.transform_fn(request.body, content_type, accepts)
        else:
            data = self.input_fn(request.body, content_type)
            body = self.output_fn(self.predict(data), accepts)
        if isinstance(body, str):
            body = body.encode("utf-8")
        return Answer(bytes(body), accepts if accepts != "*/*" else JSON)

    def predict(self, data: Any) -> Any:
        instance = self.pool.pick()
        signature = self.pool.signature(instance, self.model, None, "serving_default")
        method = signature.method_name
        if method not in GRPC_METHOD:
            raise ServeError(NOT_SUPPORTED, 500)
        rpc, request_type, response_type = GRPC_METHOD[method]
        try:
            if isinstance(data, RawRequest):
                message = protos.message(f"tensorflow.serving.{request_type}")
                request = message.FromString(bytes(data))
            elif method == PREDICT:
                request = self._predict_request(data, signature)
            else:
                request = self._examples_request(request_type, data)
        except DecodeError as exc:
            raise BadRequest(
                f"The application/octet-stream body is not a serialized {request_type} (the "
                f"model's signature is {method}): {exc}"
            ) from None
        except (TypeError, ValueError, RecursionError) as exc:  # input_fn's data
            raise PreconditionFailed(
                f"Cannot build a {request_type} from the input data: {exc}"
            ) from None
        if not request.model_spec.name:
            request.model_spec.name = self.model
            request.model_spec.signature_name = "serving_default"
        response = self.pool.call(instance, rpc, request, response_type)
        # Output tensors in the typed `*_val` fields, as the legacy container's users (and the
        # protobuf-JSON shapes of the contract) expect them, whatever the backend sent.
        for tensor in getattr(response, "outputs", {}).values():
            if tensor.tensor_content:
                tensor.CopyFrom(typed_tensor_proto(to_numpy(tensor)))
        return response

    def _predict_request(self, data: Any, signature: Any) -> Any:
        request = protos.message("tensorflow.serving.PredictRequest")()
        if type(data).__name__ == "PredictRequest":  # a user input_fn's own (TF) proto
            request.MergeFromString(data.SerializeToString())
            return request
        if isinstance(data, dict):
            for key, value in data.items():
                if key not in signature.inputs:
                    raise PreconditionFailed(
                        f"Unknown input {key!r}; the signature's inputs are "
                        f"{sorted(signature.inputs)}"
                    )
                request.inputs[key].CopyFrom(_as_tensor(value, signature.inputs[key]))
            return request
        key = "inputs" if "inputs" in signature.inputs else next(iter(signature.inputs))
        if type(data).__name__ == "TensorProto":
            request.inputs[key].MergeFromString(data.SerializeToString())
        else:
            request.inputs[key].CopyFrom(_as_tensor(data, signature.inputs[key]))
        return request

    def _examples_request(self, request_type: str, data: Any) -> Any:
        request = protos.message(f"tensorflow.serving.{request_type}")()
        if isinstance(data, dict):
            rows = [data]
        elif isinstance(data, list) and data and all(isinstance(d, dict) for d in data):
            rows = data
        elif isinstance(data, (list, tuple, np.ndarray)):
            rows = [{"inputs": list(np.asarray(data).reshape(-1).tolist())}]
        else:
            rows = [{"inputs": [data]}]
        for row in rows:
            example = request.input.example_list.examples.add()
            for name, value in row.items():
                _fill_feature(example.features.feature[name], value)
        return request


def _as_tensor(value: Any, spec: Any) -> Any:
    if spec.dtype == DT_STRING:
        array = np.asarray(value, dtype=object)
    else:
        try:
            array = np.asarray(value, dtype=spec.numpy_dtype)
        except (TypeError, ValueError) as exc:
            raise PreconditionFailed(f"Unsupported input shape or type: {exc}") from None
    return tensor_proto(array)


def _fill_feature(feature: Any, value: Any) -> None:
    values = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        feature.int64_list.value.extend(int(v) for v in values)
    elif all(isinstance(v, (int, float, np.number)) for v in values):
        feature.float_list.value.extend(float(v) for v in values)
    else:
        feature.bytes_list.value.extend(
            v if isinstance(v, bytes) else str(v).encode("utf-8") for v in values
        )


def error_body(message: str) -> bytes:
    return json.dumps(message).encode("utf-8")
