"""numpy ↔ TensorProto without TensorFlow: binary `tensor_content` out, every field form in."""

import math
from typing import Any

import numpy as np

from sagemaker_tensorflow_runtime.serving import protos
from sagemaker_tensorflow_runtime.serving.tensors.dtypes import (
    DT_BOOL,
    DT_DOUBLE,
    DT_FLOAT,
    DT_HALF,
    DT_INT64,
    DT_STRING,
    DT_UINT32,
    DT_UINT64,
    DTYPES,
    dtype_of,
)

# Which repeated field holds the values when tensor_content is empty.
VALUE_FIELD = {
    DT_FLOAT: "float_val",
    DT_DOUBLE: "double_val",
    DT_INT64: "int64_val",
    DT_BOOL: "bool_val",
    DT_STRING: "string_val",
    DT_UINT32: "uint32_val",
    DT_UINT64: "uint64_val",
}


def tensor_proto(array: np.ndarray) -> Any:
    """A TensorProto for `array`; numeric data travels as little-endian `tensor_content`."""
    proto = protos.message("tensorflow.TensorProto")()
    dtype = dtype_of(array)
    proto.dtype = dtype
    for size in array.shape:
        proto.tensor_shape.dim.add().size = size
    if dtype == DT_STRING:
        proto.string_val.extend(
            v if isinstance(v, bytes) else str(v).encode("utf-8") for v in array.reshape(-1)
        )
    else:
        proto.tensor_content = np.ascontiguousarray(array, array.dtype.newbyteorder("<")).tobytes()
    return proto


def to_numpy(proto: Any) -> np.ndarray:
    """The array a TensorProto holds (tensor_content or the typed value fields)."""
    shape = tuple(d.size for d in proto.tensor_shape.dim)
    dtype = proto.dtype
    if dtype not in DTYPES:
        raise ValueError(f"unsupported tensor dtype {dtype}")
    numpy_type = DTYPES[dtype][1]
    count = math.prod(shape)
    if dtype == DT_STRING:
        values = list(proto.string_val)
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return _fill(array, shape, count)
    if proto.tensor_content:
        return (
            np.frombuffer(proto.tensor_content, dtype=np.dtype(numpy_type).newbyteorder("<"))
            .astype(numpy_type, copy=False)
            .reshape(shape)
        )
    if dtype == DT_HALF:
        raw = np.array(proto.half_val, dtype=np.uint16).view(np.float16)
        return _fill(raw, shape, count)
    field = VALUE_FIELD.get(dtype, "int_val")
    return _fill(np.array(getattr(proto, field), dtype=numpy_type), shape, count)


def _fill(values: np.ndarray, shape: tuple[int, ...], count: int) -> np.ndarray:
    """TensorProto shorthand: fewer values than the shape holds repeat the last one."""
    if values.size == count:
        return values.reshape(shape)
    if values.size == 0:
        return np.zeros(shape, dtype=values.dtype)
    padded = np.concatenate([values, np.repeat(values[-1:], count - values.size)])
    return padded.reshape(shape)


def typed_tensor_proto(array: np.ndarray) -> Any:
    """A TensorProto with values in the typed `*_val` field (as TF Serving's JSON shows them)."""
    proto = tensor_proto(array)
    dtype = proto.dtype
    if dtype == DT_STRING:
        return proto
    proto.tensor_content = b""
    flat = array.reshape(-1)
    if dtype == DT_HALF:
        proto.half_val.extend(flat.astype(np.float16).view(np.uint16).tolist())
    else:
        getattr(proto, VALUE_FIELD.get(dtype, "int_val")).extend(flat.tolist())
    return proto
