"""Rendering TF Serving's JSON answer in the negotiated type (serving.md §7.4).

JSON and JSON lines: the backend's JSON with every newline removed when the client chose the
type explicitly, unchanged otherwise. CSV (beyond the reference): one line per prediction, the
values of a row flattened in output order.
"""

import csv
import io
from typing import Any

import orjson

from sagemaker_tensorflow_runtime.serving.accept import CSV, Negotiated

RESULT_KEYS = ("predictions", "outputs", "results")


def encode(text: str, negotiated: Negotiated) -> tuple[bytes, str]:
    if negotiated.content_type == CSV:
        return csv_rows(text), CSV
    if negotiated.explicit:
        return text.replace("\n", "").encode("utf-8"), negotiated.content_type
    return text.encode("utf-8"), negotiated.content_type


def _flatten(value: Any, out: list[Any]) -> None:
    if isinstance(value, list):
        for item in value:
            _flatten(item, out)
    elif isinstance(value, dict):
        for item in value.values():
            _flatten(item, out)
    else:
        out.append(value)


def csv_rows(text: str) -> bytes:
    doc = orjson.loads(text)
    rows: Any = next((doc[k] for k in RESULT_KEYS if k in doc), [])
    if not isinstance(rows, list):
        rows = [rows]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        values: list[Any] = []
        _flatten(row, values)
        writer.writerow(values)
    return buffer.getvalue().encode("utf-8")
