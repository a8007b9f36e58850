"""Writing numpy outputs as JSON exactly as TF Serving prints numbers (serving.md §12.3).

float32 values print with 6 significant digits when that reads back as the same float32, else
9 (float64: 17); integral values keep a `.0`; NaN and infinities print as JSON-5 tokens.
"""

import base64
import json
import math
from typing import Any

import numpy as np

_F32 = np.float32


def float_text(value: float, double: bool = False) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    text = f"{value:g}"
    if double:
        if float(text) != value:
            text = f"{value:.17g}"
    elif _F32(float(text)) != _F32(value):
        text = f"{value:.9g}"
    if "." not in text and "e" not in text:
        text += ".0"
    return text


def _string_text(value: bytes, as_b64: bool) -> str:
    if as_b64:
        return '{"b64": "' + base64.b64encode(value).decode("ascii") + '"}'
    return json.dumps(value.decode("utf-8", errors="replace"), ensure_ascii=False)


def array_text(array: np.ndarray, as_b64: bool = False) -> str:
    """One array (any rank) as JSON text; a row of a string array arrives as bare bytes."""
    if not isinstance(array, np.ndarray):
        array = np.asarray(array, dtype=object if isinstance(array, bytes) else None)
    kind = array.dtype.kind
    if array.ndim == 0:
        return scalar_text(array.item(), kind, array.dtype, as_b64)
    if array.ndim == 1:
        items = array.tolist()
        if kind == "f":
            double = array.dtype == np.float64
            return "[" + ", ".join(float_text(v, double) for v in items) + "]"
        return "[" + ", ".join(scalar_text(v, kind, array.dtype, as_b64) for v in items) + "]"
    return "[" + ", ".join(array_text(sub, as_b64) for sub in array) + "]"


def scalar_text(value: Any, kind: str, dtype: np.dtype, as_b64: bool) -> str:
    if kind == "f":
        return float_text(float(value), dtype == np.float64)
    if kind == "b":
        return "true" if value else "false"
    if kind in "iu":
        return str(int(value))
    if isinstance(value, bytes):
        return _string_text(value, as_b64)
    return json.dumps(str(value))


def is_bytes_output(name: str, array: np.ndarray) -> bool:
    """String outputs whose alias ends in `_bytes` are sent base64-encoded."""
    return array.dtype == object and name.endswith("_bytes")


def document(key: str, value_text: str) -> str:
    """`{"<key>": <value>}` laid out as TF Serving prints it."""
    if value_text.startswith("["):
        return '{\n    "' + key + '": ' + value_text[:-1] + "\n    ]\n}"
    return '{\n    "' + key + '": ' + value_text + "\n}"


def object_text(items: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in items) + "}"
