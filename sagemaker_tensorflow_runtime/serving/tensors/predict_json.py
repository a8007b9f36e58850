"""TF Serving's REST predict JSON (serving.md §12.2-12.3): request document → input arrays,
output arrays → `predictions` / `outputs` text. Shared by the embedded server and the front.
"""

import json
import math
from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np
import orjson

from sagemaker_tensorflow_runtime.serving.modelserver.errors import invalid
from sagemaker_tensorflow_runtime.serving.modelserver.json_format import (
    array_text,
    document,
    is_bytes_output,
    object_text,
)
from sagemaker_tensorflow_runtime.serving.modelserver.json_values import rows_to_array, to_array
from sagemaker_tensorflow_runtime.serving.tensors.dtypes import TensorSpec
from sagemaker_tensorflow_runtime.serving.tensors.float_text import float_array_text


class SignatureLike(Protocol):
    """What the conversion needs of a signature: its inputs by alias."""

    @property
    def inputs(self) -> Mapping[str, TensorSpec]: ...


BULK_BODY = 64 * 1024  # bodies this large are searched once for booleans (see BooleanFreeRows)
BULK_FLOATS = 256  # below this the bulk formatter's fixed cost (~0.1 ms) outweighs its gain
_CONSTANTS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def parse_document(body: bytes) -> dict[str, Any]:
    """The request JSON object; TF Serving's parse error texts."""
    if not body.strip():
        raise invalid("JSON Parse error: The document is empty")
    try:  # orjson is ~2x faster; what it refuses (NaN, huge ints, lone surrogates, bad
        doc = orjson.loads(body)  # JSON) goes through json for TF Serving's exact messages
    except orjson.JSONDecodeError:
        doc = _stdlib_parse(body)
    if not isinstance(doc, dict):
        text = json.dumps(doc, separators=(",", ":"))[:200]
        raise invalid(f"JSON Value: {text} Is not object")
    rows = doc.get("instances")
    if len(body) >= BULK_BODY and isinstance(rows, list) and not _may_hold_booleans(body):
        doc["instances"] = BooleanFreeRows(rows)
    return doc


def _may_hold_booleans(body: bytes) -> bool:
    """A memchr for `u` and `l` first (numbers and `instances` hold neither), then the words."""
    return (b"u" in body and b"true" in body) or (b"l" in body and b"false" in body)


class BooleanFreeRows(list[Any]):
    """`instances` parsed from a body in which no `true` or `false` appears anywhere: their
    numbers go to numpy without the walk over every value that looks for booleans."""


def _stdlib_parse(body: bytes) -> Any:
    try:
        return json.loads(body, parse_constant=_CONSTANTS.__getitem__)
    except json.JSONDecodeError as exc:
        message = "Invalid value." if exc.msg == "Expecting value" else exc.msg + "."
        raise invalid(f"JSON Parse error: {message} at offset: {exc.pos}") from None
    except UnicodeDecodeError as exc:
        raise invalid(
            f"JSON Parse error: Invalid encoding in string. at offset: {exc.start}"
        ) from None
    except RecursionError:
        raise invalid("JSON Parse error: The document is nested too deeply. at offset: 0") from None
    except ValueError:  # an integer past Python's 4,300-digit conversion limit
        raise invalid("JSON Parse error: Number too big to be stored in double.") from None


def signature_name(doc: dict[str, Any]) -> str | None:
    name = doc.get("signature_name")
    if name is not None and not isinstance(name, str):
        raise invalid("'signature_name' key must be a string value.")
    return name


def predict_inputs(
    doc: dict[str, Any], signature: SignatureLike
) -> tuple[dict[str, np.ndarray], bool]:
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


def _array_rows(instances: np.ndarray, signature: SignatureLike) -> dict[str, np.ndarray] | None:
    """Numeric arrays (CSV, npy) skip per-value checks when their kind fits the input's."""
    if len(signature.inputs) != 1 or instances.size == 0:
        return None
    ((key, info),) = signature.inputs.items()
    wanted = np.dtype(info.numpy_dtype).kind
    have = instances.dtype.kind
    if (wanted == "f" and have in "fiu") or (wanted in "iu" and have in "iu"):
        return {key: instances.astype(info.numpy_dtype, copy=False)}
    return None


def _row_inputs(instances: Any, signature: SignatureLike) -> dict[str, np.ndarray]:
    if isinstance(instances, np.ndarray):
        fast = _array_rows(instances, signature)
        if fast is not None:
            return fast
        instances = instances.tolist()
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
    booleans = not isinstance(instances, BooleanFreeRows)
    return {key: rows_to_array(instances, info, booleans=booleans)}


def _columnar_inputs(inputs: Any, signature: SignatureLike) -> dict[str, np.ndarray]:
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


def output_text(array: np.ndarray, as_b64: bool) -> str:
    """`array_text`, with float arrays formatted in bulk (same text, no call per value)."""
    if isinstance(array, np.ndarray) and array.size >= BULK_FLOATS and array.dtype.kind == "f":
        return float_array_text(array)
    return array_text(array, as_b64)


def predict_response(outputs: dict[str, np.ndarray], row_format: bool) -> str:
    if row_format:
        return document("predictions", _rows_text(outputs))
    if len(outputs) == 1:
        ((name, array),) = outputs.items()
        return document("outputs", output_text(array, is_bytes_output(name, array)))
    items = [(n, output_text(a, is_bytes_output(n, a))) for n, a in outputs.items()]
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
        return output_text(outputs[name], is_bytes_output(name, outputs[name]))
    rows = []
    for i in range(batch or 0):
        items = [(n, output_text(outputs[n][i], is_bytes_output(n, outputs[n]))) for n in names]
        rows.append(object_text(items))
    return "[" + ", ".join(rows) + "]"
