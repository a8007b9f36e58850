"""Replaying `assets.extra/tf_serving_warmup_requests` when a version loads, as TF Serving does.

The file is a TFRecord of PredictionLog protos; predict, classify and regress logs are replayed
against the new version before it becomes AVAILABLE (at most 1000 records).
"""

import logging
import struct
from collections.abc import Iterator
from pathlib import Path

import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

from sagemaker_tensorflow_runtime.serving.modelserver.servable import Servable

logger = logging.getLogger(__name__)

WARMUP_FILE = Path("assets.extra") / "tf_serving_warmup_requests"
MAX_RECORDS = 1000


def read_records(path: Path) -> Iterator[bytes]:
    """Records of a TFRecord file (CRCs are not checked: the file came with the model)."""
    with open(path, "rb") as f:
        while header := f.read(12):
            if len(header) < 12:
                raise ValueError(f"truncated record header in {path}")
            (length,) = struct.unpack("<Q", header[:8])
            data = f.read(length)
            if len(data) < length or len(f.read(4)) < 4:
                raise ValueError(f"truncated record in {path}")
            yield data


def replay_warmup(servable: Servable) -> int:
    """Run the version's warm-up requests; returns how many ran."""
    path = servable.path / WARMUP_FILE
    if not path.is_file():
        return 0
    count = 0
    for record in read_records(path):
        if count >= MAX_RECORDS:
            break
        log = prediction_log_pb2.PredictionLog.FromString(record)
        kind = log.WhichOneof("log_type")
        if kind == "predict_log":
            request = log.predict_log.request
            signature = servable.signature(request.model_spec.signature_name or None)
            inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
            servable.run(signature, inputs, list(request.output_filter))
        elif kind in ("classify_log", "regress_log"):
            request = getattr(log, kind).request
            signature = servable.signature(request.model_spec.signature_name or None)
            examples = [e.SerializeToString() for e in request.input.example_list.examples]
            key = next(iter(signature.inputs))
            servable.run(signature, {key: tf.constant(examples).numpy()})
        else:
            raise ValueError(f"unsupported warm-up record type {kind!r} in {path}")
        count += 1
    logger.info(
        "Finished reading warmup data for model at %s. Number of warmup records read: %d.",
        servable.path,
        count,
    )
    return count
