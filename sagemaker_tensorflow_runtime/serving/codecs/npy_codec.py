"""`application/x-npy` bodies: one numpy array, its first dimension the instances."""

import io
from typing import Any

import numpy as np

from sagemaker_tensorflow_runtime.serving.errors import BadRequest


def decode(body: bytes) -> dict[str, Any]:
    try:
        array = np.load(io.BytesIO(body), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise BadRequest(f"Cannot read the application/x-npy body: {exc}") from None
    if not isinstance(array, np.ndarray) or array.ndim == 0:
        raise BadRequest("The application/x-npy body must hold an array with one row per instance")
    return {"instances": array}
