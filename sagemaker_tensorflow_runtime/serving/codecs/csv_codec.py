"""CSV → `{"instances": [...]}` (serving.md §7.3): RFC 4180, one instance per record.

Numeric fields become numbers, others strings; a one-field record is a scalar. An all-numeric
body (the common case, up to millions of values) goes straight to a numpy array.
"""

import csv
import io
import re
from typing import Any

import numpy as np

from sagemaker_tensorflow_runtime.serving.errors import BadRequest

INTEGER = re.compile(r"[+-]?\d+")
EMPTY_CSV = "The request body is empty: send one CSV record per instance, e.g. 1.0,2.0,5.0"


def _number(field: str) -> Any:
    text = field.strip()
    if INTEGER.fullmatch(text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return field


def _records(body: bytes) -> list[list[str]]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"CSV body is not valid UTF-8 (byte {exc.start})") from None
    try:
        return [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    except csv.Error as exc:
        raise BadRequest(f"Cannot parse CSV: {exc}") from None


def _numeric_array(records: list[list[str]], integral: bool) -> np.ndarray | None:
    widths = {len(r) for r in records}
    if len(widths) != 1:
        return None
    try:
        array = np.array(records, dtype=np.float64)
    except ValueError:
        return None
    if integral:
        array = array.astype(np.int64)
    return array[:, 0] if widths == {1} else array


def decode(body: bytes) -> dict[str, Any]:
    records = _records(body)
    if not records:
        raise BadRequest(EMPTY_CSV)
    integral = not re.search(rb"[.eEnN]", body)
    array = _numeric_array(records, integral)
    if array is not None:
        return {"instances": array}
    rows: list[Any] = []
    for record in records:
        values = [_number(f) for f in record]
        rows.append(values[0] if len(values) == 1 else values)
    return {"instances": rows}
