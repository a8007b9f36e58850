"""Talking to the TensorFlow Serving backends from the front: gRPC for predict, REST otherwise.

Connections are created lazily in each worker process (never across a fork) and reused: a pool
of HTTP/2 connections per backend instance for gRPC (`grpc_unary`, far cheaper per call than
grpcio under gevent), one keep-alive HTTP connection per instance and thread for REST. A grpcio
channel exists only for user handlers that ask for one. Instances are used round-robin; a
request's REST and gRPC calls go to one instance.
"""

import http.client
import itertools
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sagemaker_tensorflow_runtime.serving import protos
from sagemaker_tensorflow_runtime.serving.errors import BackendError, BackendUnavailable
from sagemaker_tensorflow_runtime.serving.grpc_unary import RpcFailure, UnaryClient
from sagemaker_tensorflow_runtime.serving.modelserver.errors import HTTP_STATUS, Code
from sagemaker_tensorflow_runtime.serving.modelserver.signatures import Signature
from sagemaker_tensorflow_runtime.serving.tensors.dtypes import TensorSpec
from sagemaker_tensorflow_runtime.serving.tensors.tensor_proto import tensor_proto, to_numpy

MAX_MESSAGE_BYTES = 2**31 - 1
CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
]
PREDICT_METHOD = "/tensorflow.serving.PredictionService/Predict"
METADATA_METHOD = "/tensorflow.serving.PredictionService/GetModelMetadata"


@dataclass
class Instance:
    """One backend process: its ports and the connections this worker holds to it."""

    grpc_port: int
    rest_port: int
    timeout: float = 60.0
    _channel: Any = None
    _unary: UnaryClient | None = None
    _local: threading.local = field(default_factory=threading.local)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def channel(self) -> Any:
        """A ready gRPC channel (created on first use in this process)."""
        if self._channel is None:
            with self._lock:
                if self._channel is None:
                    self._channel = _grpc().insecure_channel(
                        f"127.0.0.1:{self.grpc_port}", options=CHANNEL_OPTIONS
                    )
        return self._channel

    @property
    def unary(self) -> UnaryClient:
        """This worker's pool of gRPC connections to the instance."""
        if self._unary is None:
            self._unary = UnaryClient("127.0.0.1", self.grpc_port, self.timeout)
        return self._unary

    def rest_uri(self, path: str) -> str:
        return f"http://127.0.0.1:{self.rest_port}{path}"

    def http(self, timeout: float) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", self.rest_port, timeout=timeout)
            self._local.connection = connection
        return connection

    def drop_http(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


_GEVENT_READY = False


def _grpc() -> Any:
    """grpcio for user handlers, first made to cooperate with the gevent hub in a gevent
    worker (a blocking call would otherwise stall every request of the worker). Done on first
    use, so that workers whose requests never need grpcio do not load it."""
    global _GEVENT_READY
    import grpc

    if not _GEVENT_READY:
        try:
            from gevent import monkey
        except ImportError:
            return grpc
        if monkey.is_module_patched("socket"):
            from grpc.experimental import gevent as grpc_gevent

            grpc_gevent.init_gevent()
        _GEVENT_READY = True
    return grpc


class BackendPool:
    """All backend instances of this endpoint, with cached signatures."""

    def __init__(self, ports: list[tuple[int, int]], timeout_seconds: float) -> None:
        self.instances = [Instance(grpc, rest, timeout_seconds) for grpc, rest in ports]
        self.timeout = timeout_seconds
        self._next = itertools.cycle(range(len(self.instances)))
        self._signatures: dict[tuple[str, int | None, str], Signature] = {}

    def pick(self) -> Instance:
        return self.instances[next(self._next)]

    def rest(
        self, instance: Instance, method: str, path: str, body: bytes | None = None
    ) -> tuple[int, bytes]:
        """One REST call on a pooled keep-alive connection (one retry on a stale connection)."""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        for attempt in (1, 2):
            connection = instance.http(self.timeout)
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                return response.status, response.read()
            except (ConnectionError, http.client.HTTPException, OSError) as exc:
                instance.drop_http()
                if attempt == 2 or isinstance(exc, TimeoutError):
                    raise BackendUnavailable(
                        f"TensorFlow Serving (REST port {instance.rest_port}) did not answer: {exc}"
                    ) from None
        raise AssertionError("unreachable")

    def _grpc(self, instance: Instance, method: str, request: Any, response_type: str) -> Any:
        try:
            answer = instance.unary.call(method, request.SerializeToString())
        except RpcFailure as exc:
            if exc.code == "UNAVAILABLE":
                raise BackendUnavailable(
                    f"TensorFlow Serving (gRPC port {instance.grpc_port}) is unavailable: "
                    f"{exc.details}",
                    503,
                ) from None
            status = int(HTTP_STATUS.get(Code.__members__.get(exc.code, Code.UNKNOWN), 500))
            raise BackendError(exc.details or exc.code, status) from None
        return protos.message(response_type).FromString(answer)

    def call(self, instance: Instance, rpc: str, request: Any, response_type: str) -> Any:
        """Any PredictionService RPC (`Predict`, `Classify`, ...) with a ready request."""
        return self._grpc(
            instance,
            f"/tensorflow.serving.PredictionService/{rpc}",
            request,
            f"tensorflow.serving.{response_type}",
        )

    def signature(self, instance: Instance, name: str, version: int | None, key: str) -> Signature:
        cached = self._signatures.get((name, version, key))
        if cached is not None:
            return cached
        request = protos.message("tensorflow.serving.GetModelMetadataRequest")()
        request.model_spec.name = name
        if version is not None:
            request.model_spec.version.value = version
        request.metadata_field.append("signature_def")
        response = self._grpc(
            instance, METADATA_METHOD, request, "tensorflow.serving.GetModelMetadataResponse"
        )
        signature_map = protos.message("tensorflow.serving.SignatureDefMap")()
        response.metadata["signature_def"].Unpack(signature_map)
        if key not in signature_map.signature_def:
            raise BackendError(f'Serving signature name: "{key}" not found in signature def', 400)
        definition = signature_map.signature_def[key]
        signature = Signature(
            key=key,
            method_name=definition.method_name,
            inputs={k: _spec(k, v) for k, v in definition.inputs.items()},
            outputs={k: _spec(k, v) for k, v in definition.outputs.items()},
        )
        self._signatures[(name, version, key)] = signature
        return signature

    def forget_signatures(self) -> None:
        self._signatures.clear()

    def predict(
        self,
        instance: Instance,
        name: str,
        version: int | None,
        signature_key: str,
        inputs: Mapping[str, np.ndarray],
    ) -> dict[str, np.ndarray]:
        request = protos.message("tensorflow.serving.PredictRequest")()
        request.model_spec.name = name
        request.model_spec.signature_name = signature_key
        if version is not None:
            request.model_spec.version.value = version
        for key, array in inputs.items():
            request.inputs[key].CopyFrom(tensor_proto(array))
        response = self._grpc(
            instance, PREDICT_METHOD, request, "tensorflow.serving.PredictResponse"
        )
        return {key: to_numpy(proto) for key, proto in response.outputs.items()}


def _spec(key: str, info: Any) -> TensorSpec:
    shape = None if info.tensor_shape.unknown_rank else tuple(d.size for d in info.tensor_shape.dim)
    return TensorSpec(key=key, dtype=info.dtype, shape=shape)


def error_body(message: str) -> bytes:
    return json.dumps({"error": message}).encode("utf-8")
