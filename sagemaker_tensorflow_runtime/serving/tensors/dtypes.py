"""TensorFlow DataType numbers, their TF names and numpy types (types.proto, without TensorFlow)."""

from dataclasses import dataclass
from typing import Any

import numpy as np

DT_FLOAT, DT_DOUBLE, DT_INT32, DT_UINT8, DT_INT16, DT_INT8, DT_STRING = 1, 2, 3, 4, 5, 6, 7
DT_INT64, DT_BOOL, DT_UINT16, DT_HALF, DT_UINT32, DT_UINT64 = 9, 10, 17, 19, 22, 23

# DataType number -> (DataTypeString as TF prints it, numpy dtype)
DTYPES: dict[int, tuple[str, Any]] = {
    DT_FLOAT: ("float", np.float32),
    DT_DOUBLE: ("double", np.float64),
    DT_INT32: ("int32", np.int32),
    DT_UINT8: ("uint8", np.uint8),
    DT_INT16: ("int16", np.int16),
    DT_INT8: ("int8", np.int8),
    DT_STRING: ("string", object),
    DT_INT64: ("int64", np.int64),
    DT_BOOL: ("bool", np.bool_),
    DT_UINT16: ("uint16", np.uint16),
    DT_HALF: ("half", np.float16),
    DT_UINT32: ("uint32", np.uint32),
    DT_UINT64: ("uint64", np.uint64),
}
NUMPY_TO_DTYPE = {np.dtype(t): n for n, (_, t) in DTYPES.items() if t is not object}


@dataclass(frozen=True)
class TensorSpec:
    """One input or output of a signature: alias, DataType number, shape (None: unknown rank)."""

    key: str
    dtype: int
    shape: tuple[int, ...] | None = None

    @property
    def dtype_name(self) -> str:
        return DTYPES.get(self.dtype, (f"dtype {self.dtype}", object))[0]

    @property
    def numpy_dtype(self) -> Any:
        return DTYPES.get(self.dtype, ("", object))[1]

    @property
    def is_string(self) -> bool:
        return self.dtype == DT_STRING


def dtype_of(array: np.ndarray) -> int:
    """The DataType number of a numpy array (object arrays are strings)."""
    if array.dtype == object or array.dtype.kind in "SU":
        return DT_STRING
    try:
        return NUMPY_TO_DTYPE[array.dtype]
    except KeyError:
        raise ValueError(f"numpy dtype {array.dtype} has no TensorFlow equivalent") from None
