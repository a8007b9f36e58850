"""TF Serving REST bodies ↔ data-plane calls: request parsing and response rendering."""

import json
from typing import Any

import numpy as np
from google.protobuf import json_format as pb_json
from tensorflow.core.protobuf import meta_graph_pb2

from sagemaker_tensorflow_runtime.serving.modelserver.dataplane import (
    Classification,
    Result,
    Target,
    make_example,
    merge_context,
)
from sagemaker_tensorflow_runtime.serving.modelserver.errors import invalid
from sagemaker_tensorflow_runtime.serving.modelserver.json_format import (
    array_text,
    document,
    float_text,
)
from sagemaker_tensorflow_runtime.serving.modelserver.json_values import python_value
from sagemaker_tensorflow_runtime.serving.modelserver.manager import VersionStatus
from sagemaker_tensorflow_runtime.serving.tensors.predict_json import (  # noqa: F401 (re-exported)
    parse_document,
    predict_inputs,
    predict_response,
    signature_name,
)


def examples(doc: dict[str, Any]) -> list[bytes]:
    """Serialized tf.Examples from `examples` (+ `context`)."""
    items = doc.get("examples")
    if not isinstance(items, list):
        raise invalid("Expecting 'examples' to be an list/array")
    if not items:
        raise invalid("No values in 'examples' array")
    context_doc = doc.get("context")
    if context_doc is not None and not isinstance(context_doc, dict):
        raise invalid("'context' must be an object")
    context = make_example(python_value(context_doc)) if context_doc else None
    serialized = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise invalid(f"Failed to process element: {index} of 'examples' list: not an object")
        example = make_example(python_value(item))
        serialized.append(
            merge_context(example, context) if context else example.SerializeToString()
        )
    return serialized


def regress_response(result: Result) -> str:
    return document("results", array_text(result.outputs["outputs"].astype(np.float32)))


def classify_response(result: Classification) -> str:
    rows = []
    for row in result.classes:
        pairs = [
            "[" + json.dumps(label.decode("utf-8", "replace")) + ", " + float_text(score) + "]"
            for label, score in row
        ]
        rows.append("[" + ", ".join(pairs) + "]")
    return document("results", "[" + ", ".join(rows) + "]")


def status_response(statuses: list[VersionStatus]) -> str:
    entries = [
        {
            "version": str(s.version),
            "state": s.state,
            "status": {"error_code": s.error_code.name, "error_message": s.error_message},
        }
        for s in statuses
    ]
    return json.dumps({"model_version_status": entries}, indent=1)


def metadata_response(name: str, version: int, meta_graph: meta_graph_pb2.MetaGraphDef) -> str:
    signature_map = {
        key: pb_json.MessageToDict(sig, preserving_proto_field_name=True)
        for key, sig in meta_graph.signature_def.items()
        if key != "__saved_model_init_op"
    }
    doc = {
        "model_spec": {"name": name, "signature_name": "", "version": str(version)},
        "metadata": {"signature_def": {"signature_def": signature_map}},
    }
    return json.dumps(doc, indent=1)


def target(name: str, version: int | None, label: str | None, doc: dict[str, Any] | None) -> Target:
    return Target(name, version, label, signature_name(doc) if doc is not None else None)
