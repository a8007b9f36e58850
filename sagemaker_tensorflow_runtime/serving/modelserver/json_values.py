"""JSON values ↔ numpy arrays with TF Serving's typing rules and error texts (serving.md §12.2).

Numbers must be numbers, integers integers, booleans booleans and strings strings (or
`{"b64": ...}`); every row must have the same shape. Messages match TF Serving's so clients that
parse them keep working.
"""

import base64
import binascii
import json
from typing import Any

import numpy as np

from sagemaker_tensorflow_runtime.serving.modelserver.errors import ServingError, invalid
from sagemaker_tensorflow_runtime.serving.modelserver.signatures import TensorInfo

FLOAT_KINDS = "f"
INT_KINDS = "iu"
MAX_RANK = 32  # numpy's limit; deeper nesting is a client error, not a server crash


def json_type(value: Any) -> str:
    """RapidJSON's type name of a decoded JSON value."""
    if value is None:
        return "Null"
    if value is True:
        return "True"
    if value is False:
        return "False"
    if isinstance(value, dict):
        return "Object"
    if isinstance(value, list):
        return "Array"
    if isinstance(value, str):
        return "String"
    return "Number"


def _type_error(value: Any, info: TensorInfo) -> ServingError:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return invalid(
        f"JSON Value: {text} Type: {json_type(value)} is not of expected type: {info.dtype_name}"
    )


def decode_b64(value: dict[str, Any]) -> bytes:
    try:
        return base64.b64decode(value["b64"], validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise invalid("Unable to base64 decode") from None


def _scalar(value: Any, info: TensorInfo) -> Any:
    kind = np.dtype(info.numpy_dtype).kind
    if info.is_string:
        if isinstance(value, str):
            return value.encode("utf-8")
        if isinstance(value, dict) and list(value) == ["b64"]:
            return decode_b64(value)
        raise _type_error(value, info)
    if isinstance(value, bool):
        if kind == "b":
            return value
        raise _type_error(value, info)
    if kind in FLOAT_KINDS and isinstance(value, (int, float)):
        return value
    if kind in INT_KINDS and isinstance(value, int):
        return value
    raise _type_error(value, info)


def _numbers(flat: list[Any], info: TensorInfo) -> np.ndarray:
    """Checked values as an array of the input's type; a number beyond it (an integer past
    float64's range, which Python's ints allow) is the client's error, not a 500."""
    try:
        return np.array(flat, dtype=info.numpy_dtype)
    except OverflowError:
        raise invalid(f"A value is out of range for type {info.dtype_name}") from None


def _shape(value: Any, outer_rank: int = 0) -> tuple[int, ...]:
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        if len(shape) + outer_rank > MAX_RANK:
            raise invalid(f"Tensor rank exceeds the maximum supported rank of {MAX_RANK}")
        if not value:
            break
        value = value[0]
    return tuple(shape)


def _flatten(value: Any, shape: tuple[int, ...], info: TensorInfo, out: list[Any]) -> None:
    if not shape:
        if isinstance(value, list):
            raise invalid(f"Expecting a scalar but got a list of {len(value)} values")
        out.append(_scalar(value, info))
        return
    if not isinstance(value, list) or len(value) != shape[0]:
        got = len(value) if isinstance(value, list) else "a scalar"
        raise invalid(f"Expecting tensor size: {shape[0]} but got: {got}")
    for item in value:
        _flatten(item, shape[1:], info, out)


def numeric_fast_path(value: Any, info: TensorInfo, booleans: bool = True) -> np.ndarray | None:
    """Rectangular all-number JSON for a numeric input, converted in C; None when any value
    needs the checks below (bools, strings, objects, ragged or too-deep lists, big ints), so
    that every error keeps TF Serving's exact message. `booleans=False`: the caller knows
    that no value is a boolean, and the walk that looks for them is skipped."""
    wanted = np.dtype(info.numpy_dtype).kind
    if wanted not in "fiu" or not isinstance(value, list):
        return None
    try:
        array = np.array(value)
    except (ValueError, TypeError, OverflowError):
        return None
    allowed = "fiu" if wanted == "f" else "iu"
    if array.dtype.kind not in allowed or array.size == 0:
        return None
    # numpy silently turns True into 1 next to numbers; TF Serving rejects booleans.
    if booleans and bool in _leaf_types(value, array.ndim):
        return None
    if wanted in "iu":
        limits = np.iinfo(info.numpy_dtype)
        if array.min() < limits.min or array.max() > limits.max:
            return None  # out of range for the input's integer type: the checked path decides
    return array.astype(info.numpy_dtype, copy=False)


def _leaf_types(value: list[Any], depth: int) -> set[type]:
    """The types of the values `depth` lists deep (a rectangular nesting, as numpy found)."""
    if depth <= 1:
        return set(map(type, value))
    types: set[type] = set()
    for item in value:
        types |= _leaf_types(item, depth - 1)
    return types


def to_array(value: Any, info: TensorInfo) -> np.ndarray:
    """One JSON value (nested lists of scalars) as an array of the input's dtype."""
    fast = numeric_fast_path(value, info)
    if fast is not None:
        return fast
    shape = _shape(value)
    flat: list[Any] = []
    _flatten(value, shape, info, flat)
    if info.is_string:
        array = np.empty(len(flat), dtype=object)
        array[:] = flat
        return array.reshape(shape)
    return _numbers(flat, info).reshape(shape)


def rows_to_array(
    rows: list[Any], info: TensorInfo, key: str | None = None, booleans: bool = True
) -> np.ndarray:
    """Rows of one input (`instances`) stacked on a new first dimension."""
    fast = numeric_fast_path(rows, info, booleans)
    return fast if fast is not None else checked_rows_to_array(rows, info, key)


def checked_rows_to_array(rows: list[Any], info: TensorInfo, key: str | None) -> np.ndarray:
    """The value-by-value conversion, with TF Serving's message for the first bad value."""
    expected: tuple[int, ...] | None = None
    flat: list[Any] = []
    for index, row in enumerate(rows):
        try:
            shape = _shape(row, outer_rank=1)
            if expected is None:
                expected = shape
            elif shape != expected:
                raise invalid(
                    f"Expecting shape {list(expected)} but got {list(shape)}; all instances "
                    "must have the same shape"
                )
            _flatten(row, shape, info, flat)
        except ServingError as exc:
            where = f"{index} key: {key}" if key is not None else f"{index}"
            raise invalid(
                f"Failed to process element: {where} of 'instances' list. Error: "
                f"{exc.status_text()}"
            ) from None
    full_shape = (len(rows), *(expected or ()))
    if info.is_string:
        array = np.empty(len(flat), dtype=object)
        array[:] = flat
        return array.reshape(full_shape)
    return _numbers(flat, info).reshape(full_shape)


def python_value(value: Any) -> Any:
    """A JSON example feature value as Python (b64 objects decoded)."""
    if isinstance(value, dict) and list(value) == ["b64"]:
        return decode_b64(value)
    if isinstance(value, list):
        return [python_value(v) for v in value]
    return value
