"""JSON, JSON lines and generic JSON → a TF Serving request (serving.md §7.2).

1. A body naming `instances`, `inputs` or `examples` is already a TF Serving request.
2. A `}` or `]` followed by `[` or `{` means JSON lines: one instance per non-blank line.
3. Anything else is one instance, or a list of instances when it starts with `[[`.
"""

import re
from typing import Any

import orjson

from sagemaker_tensorflow_runtime.serving.errors import BadRequest
from sagemaker_tensorflow_runtime.serving.tensors.predict_json import parse_document

TFS_REQUEST = re.compile(rb'"(?:instances|inputs|examples)"\s*:')
JSON_LINES = re.compile(rb"[}\]]\s*[\[{]")
EMPTY_BODY = (
    'The request body is empty: send a JSON, JSON lines or CSV body, e.g. {"instances": [1.0, 2.0]}'
)


def _parse(text: bytes, where: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"JSON Parse error: {exc} ({where})") from None


def as_request_text(body: bytes) -> bytes | None:
    """A body that already is a TF Serving request (rule 1) is forwarded as it is."""
    return body if TFS_REQUEST.search(body) else None


def decode(body: bytes) -> dict[str, Any]:
    stripped = body.strip()
    if not stripped:
        raise BadRequest(EMPTY_BODY)
    if TFS_REQUEST.search(body):
        return parse_document(body)
    if JSON_LINES.search(body):
        lines = [line.strip() for line in body.splitlines() if line.strip()]
        rows = [_parse(line, f"JSON lines, line {i + 1}") for i, line in enumerate(lines)]
        return {"instances": rows[0] if len(rows) == 1 else rows}
    value = _parse(stripped, "request body")
    if stripped.startswith(b"[["):
        return {"instances": value}
    return {"instances": [value]}
