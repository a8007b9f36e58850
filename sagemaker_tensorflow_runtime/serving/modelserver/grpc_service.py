"""TF Serving's gRPC API (serving.md §13): PredictionService and ModelService.

Request TensorProtos convert to numpy from `tensor_content` (binary) or the typed `*_val`
fields; responses carry numeric tensors as `tensor_content`.
"""

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf
from google.protobuf import any_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    inference_pb2,
    model_management_pb2,
    model_pb2,
    predict_pb2,
    regression_pb2,
)

from sagemaker_tensorflow_runtime.serving.modelserver.dataplane import DataPlane, Steps, Target
from sagemaker_tensorflow_runtime.serving.modelserver.errors import Code, invalid
from sagemaker_tensorflow_runtime.serving.modelserver.grpc_loop import LoopServer
from sagemaker_tensorflow_runtime.serving.modelserver.model_config import from_proto
from sagemaker_tensorflow_runtime.serving.modelserver.servable import Servable
from sagemaker_tensorflow_runtime.serving.tensors.dtypes import DTYPES, NUMPY_TO_DTYPE
from sagemaker_tensorflow_runtime.serving.tensors.tensor_proto import to_numpy

logger = logging.getLogger(__name__)

DEFAULT_MAX_MESSAGE_BYTES = 2**31 - 1


def target_of(spec: model_pb2.ModelSpec) -> Target:
    which = spec.WhichOneof("version_choice")
    return Target(
        name=spec.name,
        version=spec.version.value if which == "version" else None,
        label=spec.version_label if which == "version_label" else None,
        signature_name=spec.signature_name or None,
    )


def fill_spec(spec: model_pb2.ModelSpec, servable: Servable, signature: str) -> None:
    spec.name = servable.name
    spec.version.value = servable.version
    spec.signature_name = signature


def to_array(proto: Any) -> np.ndarray:
    """The request tensor as numpy; numeric `tensor_content` is read without TensorFlow's
    extra copy (dtypes the TF-free reader lacks go through tf.make_ndarray)."""
    try:
        if proto.dtype in DTYPES:
            return to_numpy(proto)
        return tf.make_ndarray(proto)
    except (TypeError, ValueError) as exc:
        raise invalid(f"Cannot convert TensorProto: {exc}") from None


def fill_proto(proto: Any, array: np.ndarray) -> None:
    """Write `array` into a response TensorProto in place: numeric dtypes as little-endian
    `tensor_content` (as TF Serving answers), anything else via tf.make_tensor_proto."""
    dtype = NUMPY_TO_DTYPE.get(array.dtype)
    if dtype is None:
        proto.CopyFrom(tf.make_tensor_proto(array))
        return
    proto.dtype = dtype
    for size in array.shape:
        proto.tensor_shape.dim.add().size = size
    proto.tensor_content = np.ascontiguousarray(array, array.dtype.newbyteorder("<")).tobytes()


def examples_of(input_proto: Any) -> list[bytes]:
    kind = input_proto.WhichOneof("kind")
    if kind == "example_list":
        return [e.SerializeToString() for e in input_proto.example_list.examples]
    if kind == "example_list_with_context":
        from sagemaker_tensorflow_runtime.serving.modelserver.dataplane import merge_context

        with_context = input_proto.example_list_with_context
        return [merge_context(e, with_context.context) for e in with_context.examples]
    raise invalid("Input is empty")


class PredictionService:
    """Predict, Classify, Regress, MultiInference and GetModelMetadata.

    Each method takes the request and returns the response, or `Steps` that yield the batch
    tasks they wait for and return it (see `grpc_loop`); errors are ServingErrors raised."""

    def __init__(self, dataplane: DataPlane) -> None:
        self.dataplane = dataplane

    def Predict(self, request: Any) -> Steps[Any]:
        inputs = {key: to_array(proto) for key, proto in request.inputs.items()}
        result = yield from self.dataplane.predict_steps(
            target_of(request.model_spec), inputs, list(request.output_filter)
        )
        response = predict_pb2.PredictResponse()
        for name, array in result.outputs.items():
            fill_proto(response.outputs[name], array)
        fill_spec(response.model_spec, result.servable, result.signature.key)
        return response

    def Classify(self, request: Any) -> Steps[Any]:
        result = yield from self.dataplane.classify_steps(
            target_of(request.model_spec), examples_of(request.input)
        )
        response = classification_pb2.ClassificationResponse()
        for row in result.classes:
            classifications = response.result.classifications.add()
            for label, score in row:
                entry = classifications.classes.add()
                entry.label = label.decode("utf-8", "replace")
                entry.score = score
        fill_spec(response.model_spec, result.servable, result.signature.key)
        return response

    def Regress(self, request: Any) -> Steps[Any]:
        result = yield from self.dataplane.regress_steps(
            target_of(request.model_spec), examples_of(request.input)
        )
        response = regression_pb2.RegressionResponse()
        for value in result.outputs["outputs"].tolist():
            response.result.regressions.add().value = float(value)
        fill_spec(response.model_spec, result.servable, result.signature.key)
        return response

    def MultiInference(self, request: Any) -> Steps[Any]:
        response = inference_pb2.MultiInferenceResponse()
        for task in request.tasks:
            single = _single_task_request(task, request.input)
            result = response.results.add()
            if task.method_name == "tensorflow/serving/classify":
                answer = yield from self.Classify(single)
                result.classification_result.CopyFrom(answer.result)
            elif task.method_name == "tensorflow/serving/regress":
                answer = yield from self.Regress(single)
                result.regression_result.CopyFrom(answer.result)
            else:
                raise invalid(f"Unsupported signature method_name: {task.method_name}")
            result.model_spec.CopyFrom(answer.model_spec)
        return response

    def GetModelMetadata(self, request: Any) -> Any:
        fields = list(request.metadata_field)
        if fields != ["signature_def"]:
            raise invalid(
                "Metadata field(s) not supported: only 'signature_def' is available"
                if fields
                else "GetModelMetadataRequest must specify at least one metadata_field"
            )
        servable = self.dataplane.servable_for_metadata(target_of(request.model_spec))
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        for key, sig in servable.meta_graph.signature_def.items():
            if key != "__saved_model_init_op":
                signature_map.signature_def[key].CopyFrom(sig)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        packed = any_pb2.Any()
        packed.Pack(signature_map)
        response.metadata["signature_def"].CopyFrom(packed)
        response.model_spec.name = servable.name
        response.model_spec.version.value = servable.version
        return response


def _single_task_request(task: Any, input_proto: Any) -> Any:
    request = (
        classification_pb2.ClassificationRequest()
        if task.method_name == "tensorflow/serving/classify"
        else regression_pb2.RegressionRequest()
    )
    request.model_spec.CopyFrom(task.model_spec)
    request.input.CopyFrom(input_proto)
    return request


class ModelService:
    """GetModelStatus and HandleReloadConfigRequest (load/unload at run time)."""

    def __init__(self, dataplane: DataPlane, reload: Callable[[list[Any]], list[str]]) -> None:
        self.dataplane = dataplane
        self._reload = reload

    def GetModelStatus(self, request: Any) -> Any:
        response = get_model_status_pb2.GetModelStatusResponse()
        states = get_model_status_pb2.ModelVersionStatus.State
        for status in self.dataplane.status(target_of(request.model_spec)):
            entry = response.model_version_status.add()
            entry.version = status.version
            entry.state = states.Value(status.state)
            entry.status.error_code = int(status.error_code)
            entry.status.error_message = status.error_message
        return response

    def HandleReloadConfigRequest(self, request: Any) -> Any:
        response = model_management_pb2.ReloadConfigResponse()
        try:
            configs = from_proto(request.config)
        except ValueError as exc:
            raise invalid(str(exc)) from None
        errors = self._reload(configs)
        if errors:
            response.status.error_code = int(Code.UNKNOWN)
            response.status.error_message = "; ".join(errors)
        return response


def start_grpc_server(
    address: str,
    dataplane: DataPlane,
    reload: Callable[[list[Any]], list[str]],
    max_workers: int,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
) -> LoopServer:
    """The gRPC API on `address`, served on an event loop (`grpc_loop`)."""
    return LoopServer(
        address,
        PredictionService(dataplane),
        ModelService(dataplane, reload),
        max_workers,
        [
            ("grpc.max_send_message_length", max_message_bytes),
            ("grpc.max_receive_message_length", max_message_bytes),
        ],
    )
