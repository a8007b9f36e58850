"""TF Serving REST bodies ↔ data-plane calls: request parsing and response rendering."""

import json
import math
from typing import Any

import numpy as np
from google.protobuf import json_format as pb_json
from tensorflow.core.protobuf import meta_graph_pb2

from sagemaker_tensorflow_runtime.serving.modelserver.dataplane import (
    Classification,
    DataPlane,
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
    is_bytes_output,
    object_text,
)
from sagemaker_tensorflow_runtime.serving.modelserver.json_values import (
    python_value,
    rows_to_array,
    to_array,
)
from sagemaker_tensorflow_runtime.serving.modelserver.manager import VersionStatus
from sagemaker_tensorflow_runtime.serving.modelserver.signatures import Signature

_CONSTANTS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def parse_document(body: bytes) -> dict[str, Any]:
    """The request JSON object; TF Serving's parse error texts."""
    if not body.strip():
        raise invalid("JSON Parse error: The document is empty")
    try:
        doc = json.loads(body, parse_constant=_CONSTANTS.__getitem__)
    except json.JSONDecodeError as exc:
        message = "Invalid value." if exc.msg == "Expecting value" else exc.msg + "."
        raise invalid(f"JSON Parse error: {message} at offset: {exc.pos}") from None
    except UnicodeDecodeError as exc:
        raise invalid(
            f"JSON Parse error: Invalid encoding in string. at offset: {exc.start}"
        ) from None
    if not isinstance(doc, dict):
        text = json.dumps(doc, separators=(",", ":"))[:200]
        raise invalid(f"JSON Value: {text} Is not object")
    return doc


def signature_name(doc: dict[str, Any]) -> str | None:
    name = doc.get("signature_name")
    if name is not None and not isinstance(name, str):
        raise invalid("'signature_name' key must be a string value.")
    return name


def predict_inputs(doc: dict[str, Any], signature: Signature) -> tuple[dict[str, np.ndarray], bool]:
    """(inputs, row format?) from `instances` or `inputs`."""
    has_instances, has_inputs = "instances" in doc, "inputs" in doc
    if has_instances and has_inputs:
        raise invalid(
            "Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist"
        )
    if not (has_instances or has_inputs):
        raise invalid("Missing 'inputs' or 'instances' key")
    if has_instances:
        return _row_inputs(doc["instances"], signature), True
    return _columnar_inputs(doc["inputs"], signature), False


def _is_b64(value: Any) -> bool:
    return isinstance(value, dict) and list(value) == ["b64"]


def _row_inputs(instances: Any, signature: Signature) -> dict[str, np.ndarray]:
    if not isinstance(instances, list):
        raise invalid("Expecting 'instances' to be an list/array")
    if not instances:
        raise invalid("No values in 'instances' array")
    if isinstance(instances[0], dict) and not _is_b64(instances[0]):
        columns: dict[str, list[Any]] = {key: [] for key in signature.inputs}
        for index, row in enumerate(instances):
            if not isinstance(row, dict) or _is_b64(row):
                raise invalid(
                    f"Failed to process element: {index} of 'instances' list. Error: "
                    "INVALID_ARGUMENT: Expecting object but got list/value"
                )
            for key, value in row.items():
                if key not in signature.inputs:
                    raise invalid(
                        f"Failed to process element: {index} key: {key} of 'instances' list. "
                        f"Error: INVALID_ARGUMENT: JSON object: does not have named input: {key}"
                    )
                columns[key].append(value)
            if len(row) != len(signature.inputs):
                missing = sorted(set(signature.inputs) - set(row))
                raise invalid(
                    f"Failed to process element: {index} of 'instances' list. Error: "
                    f"INVALID_ARGUMENT: Missing named input: {', '.join(missing)}"
                )
        return {
            key: rows_to_array(rows, signature.inputs[key], key) for key, rows in columns.items()
        }
    if len(signature.inputs) != 1:
        raise invalid(
            "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
            f"Expecting object with named inputs {sorted(signature.inputs)}; the signature has "
            f"{len(signature.inputs)} inputs"
        )
    ((key, info),) = signature.inputs.items()
    return {key: rows_to_array(instances, info)}


def _columnar_inputs(inputs: Any, signature: Signature) -> dict[str, np.ndarray]:
    if isinstance(inputs, dict) and not _is_b64(inputs):
        arrays = {}
        for key, info in signature.inputs.items():
            if key not in inputs:
                raise invalid(f"Missing named input: {key} in 'inputs' object.")
            arrays[key] = to_array(inputs[key], info)
        return arrays
    if len(signature.inputs) != 1:
        missing = sorted(signature.inputs)[0]
        raise invalid(f"Missing named input: {missing} in 'inputs' object.")
    ((key, info),) = signature.inputs.items()
    return {key: to_array(inputs, info)}


def predict_response(result: Result, row_format: bool) -> str:
    outputs = result.outputs
    if row_format:
        return document("predictions", _rows_text(outputs))
    if len(outputs) == 1:
        ((name, array),) = outputs.items()
        return document("outputs", array_text(array, is_bytes_output(name, array)))
    items = [(n, array_text(a, is_bytes_output(n, a))) for n, a in outputs.items()]
    return '{\n    "outputs": ' + object_text(items) + "\n}"


def _rows_text(outputs: dict[str, np.ndarray]) -> str:
    names = list(outputs)
    batch = None
    for name in names:
        array = outputs[name]
        size = array.shape[0] if array.ndim > 0 else None
        if batch is None:
            batch = size
        if size is None or size != batch:
            raise invalid(
                f"Tensor name: {name} has inconsistent batch size: {size or 0} expecting: {batch}"
            )
    if len(names) == 1:
        name = names[0]
        return array_text(outputs[name], is_bytes_output(name, outputs[name]))
    rows = []
    for i in range(batch or 0):
        items = [(n, array_text(outputs[n][i], is_bytes_output(n, outputs[n]))) for n in names]
        rows.append(object_text(items))
    return "[" + ", ".join(rows) + "]"


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


__all__ = ["DataPlane"]
