"""`application/x-npy` bodies: one numpy array, its first dimension the instances."""

import io
import math
from typing import Any

import numpy as np
from numpy.lib import format as npy_format

from sagemaker_tensorflow_runtime.serving.errors import BadRequest

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
    """A header may declare any shape: numpy would allocate it before finding the data short
    (a MemoryError for 373 GiB), so a body that holds less than it declares is refused first.
    Anything this cannot read is left to `np.load`, which names the problem."""
    stream = io.BytesIO(body)
    try:
        reader = _HEADER_READERS.get(npy_format.read_magic(stream))
        if reader is None:
            return
        shape, _, dtype = reader(stream)
    except ValueError:
        return
    if dtype.hasobject:
        return  # np.load refuses object arrays (no pickles)
    declared = math.prod(shape) * dtype.itemsize
    held = len(body) - stream.tell()
    if declared > held:
        raise BadRequest(
            f"The application/x-npy body declares an array of shape {tuple(shape)} and dtype "
            f"{dtype} ({declared:,} bytes) but holds {held:,} bytes of data"
        )
