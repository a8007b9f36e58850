"""`application/x-npy` bodies: one numpy array, its first dimension the instances."""

import io
import math
from typing import Any

import numpy as np
from numpy.lib import format as npy_format

from sagemaker_tensorflow_runtime.serving.errors import BadRequest

ACCEPTED_KINDS = "biufU"
_HEADER_READERS = {
    (1, 0): npy_format.read_array_header_1_0,
    (2, 0): npy_format.read_array_header_2_0,
}


def decode(body: bytes) -> dict[str, Any]:
    _check_declared_size(body)
    try:
        array = np.load(io.BytesIO(body), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise BadRequest(f"Cannot read the application/x-npy body: {exc}") from None
    if not isinstance(array, np.ndarray) or array.ndim == 0:
        raise BadRequest("The application/x-npy body must hold an array with one row per instance")
    return {"instances": array}


def _check_declared_size(body: bytes) -> None:
    """The header is read and judged before numpy allocates what it declares: a header may
    declare any shape (a MemoryError for 373 GiB), or a zero-byte type whose 10**12 items
    take no data but hang the worker when listed. Numbers, booleans and unicode strings are
    what a model's inputs take; a body must hold the bytes its header declares."""
    stream = io.BytesIO(body)
    try:
        version = npy_format.read_magic(stream)
    except ValueError:
        raise BadRequest(
            "The application/x-npy body is not an .npy file (it must start with \\x93NUMPY; "
            "write it with numpy.save)"
        ) from None
    reader = _HEADER_READERS.get(version)
    if reader is None:
        raise BadRequest(
            f"The application/x-npy body is .npy format version {version[0]}.{version[1]}; "
            "use 1.0 or 2.0 (numpy.save's default for plain arrays)"
        )
    try:
        shape, _, dtype = reader(stream)
    except ValueError as exc:
        raise BadRequest(f"Cannot read the application/x-npy header: {exc}") from None
    if dtype.kind not in ACCEPTED_KINDS or dtype.itemsize == 0 or dtype.fields is not None:
        raise BadRequest(
            f"The application/x-npy body holds dtype {dtype}; send numbers, booleans or "
            "unicode strings (numpy kinds b, i, u, f, U)"
        )
    declared = math.prod(shape) * dtype.itemsize
    held = len(body) - stream.tell()
    if declared > held:
        raise BadRequest(
            f"The application/x-npy body declares an array of shape {tuple(shape)} and dtype "
            f"{dtype} ({declared:,} bytes) but holds {held:,} bytes of data"
        )
