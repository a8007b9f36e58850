"""Signature definitions read from saved_model.pb (names, dtypes, shapes, method names).

Read from the proto rather than from the loaded functions so TF1 and TF2 SavedModels look the
same, and so metadata answers carry exactly what the file says.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2

PREDICT = "tensorflow/serving/predict"
CLASSIFY = "tensorflow/serving/classify"
REGRESS = "tensorflow/serving/regress"
DEFAULT_SIGNATURE = "serving_default"
SERVE_TAG = "serve"


@dataclass(frozen=True)
class TensorInfo:
    """One input or output of a signature."""

    key: str
    dtype: int
    shape: tuple[int, ...] | None  # None: unknown rank; -1: unknown dimension

    @property
    def dtype_name(self) -> str:
        """TF's DataTypeString: `float`, `int64`, `string`, ..."""
        return types_pb2.DataType.Name(self.dtype).removeprefix("DT_").lower()

    @property
    def numpy_dtype(self) -> Any:
        return NUMPY_DTYPES.get(self.dtype, object)

    @property
    def is_string(self) -> bool:
        return self.dtype == types_pb2.DT_STRING


@dataclass(frozen=True)
class Signature:
    """A SignatureDef of the `serve` meta graph."""

    key: str
    method_name: str
    inputs: dict[str, TensorInfo]
    outputs: dict[str, TensorInfo]


NUMPY_DTYPES: dict[int, Any] = {
    types_pb2.DT_FLOAT: np.float32,
    types_pb2.DT_DOUBLE: np.float64,
    types_pb2.DT_INT8: np.int8,
    types_pb2.DT_INT16: np.int16,
    types_pb2.DT_INT32: np.int32,
    types_pb2.DT_INT64: np.int64,
    types_pb2.DT_UINT8: np.uint8,
    types_pb2.DT_UINT16: np.uint16,
    types_pb2.DT_UINT32: np.uint32,
    types_pb2.DT_UINT64: np.uint64,
    types_pb2.DT_BOOL: np.bool_,
    types_pb2.DT_HALF: np.float16,
    types_pb2.DT_STRING: object,
}


def _tensor_info(key: str, info: Any) -> TensorInfo:
    shape = None if info.tensor_shape.unknown_rank else tuple(d.size for d in info.tensor_shape.dim)
    return TensorInfo(key=key, dtype=info.dtype, shape=shape)


def serve_meta_graph(version_dir: Path) -> meta_graph_pb2.MetaGraphDef:
    """The meta graph tagged `serve` in `version_dir/saved_model.pb`."""
    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString((version_dir / "saved_model.pb").read_bytes())
    for meta_graph in saved_model.meta_graphs:
        if SERVE_TAG in meta_graph.meta_info_def.tags:
            return meta_graph
    raise ValueError(f"{version_dir} has no meta graph tagged '{SERVE_TAG}'")


def read_signatures(meta_graph: meta_graph_pb2.MetaGraphDef) -> dict[str, Signature]:
    signatures = {}
    for key, sig in meta_graph.signature_def.items():
        if key == "__saved_model_init_op":
            continue
        signatures[key] = Signature(
            key=key,
            method_name=sig.method_name,
            inputs={k: _tensor_info(k, v) for k, v in sig.inputs.items()},
            outputs={k: _tensor_info(k, v) for k, v in sig.outputs.items()},
        )
    return signatures
