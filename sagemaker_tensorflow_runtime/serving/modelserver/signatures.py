"""Signature definitions read from saved_model.pb (names, dtypes, shapes, method names).

Read from the proto rather than from the loaded functions so TF1 and TF2 SavedModels look the
same, and so metadata answers carry exactly what the file says. TensorFlow is imported only to
read a file, so the typing rules built on these types stay importable without it.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagemaker_tensorflow_runtime.serving.tensors.dtypes import TensorSpec

PREDICT = "tensorflow/serving/predict"
CLASSIFY = "tensorflow/serving/classify"
REGRESS = "tensorflow/serving/regress"
DEFAULT_SIGNATURE = "serving_default"
SERVE_TAG = "serve"


TensorInfo = TensorSpec


@dataclass(frozen=True)
class Signature:
    """A SignatureDef of the `serve` meta graph."""

    key: str
    method_name: str
    inputs: dict[str, TensorInfo]
    outputs: dict[str, TensorInfo]


def _tensor_info(key: str, info: Any) -> TensorInfo:
    shape = None if info.tensor_shape.unknown_rank else tuple(d.size for d in info.tensor_shape.dim)
    return TensorInfo(key=key, dtype=info.dtype, shape=shape)


def serve_meta_graph(version_dir: Path) -> Any:
    """The meta graph tagged `serve` in `version_dir/saved_model.pb`."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString((version_dir / "saved_model.pb").read_bytes())
    for meta_graph in saved_model.meta_graphs:
        if SERVE_TAG in meta_graph.meta_info_def.tags:
            return meta_graph
    raise ValueError(f"{version_dir} has no meta graph tagged '{SERVE_TAG}'")


def read_signatures(meta_graph: Any) -> dict[str, Signature]:
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
