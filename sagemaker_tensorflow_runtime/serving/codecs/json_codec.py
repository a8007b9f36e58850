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


def _rule(body: bytes) -> tuple[int, list[bytes]]:
    """Which of the three rules a (non-empty) body falls under, and its parts: the body, its
    non-blank lines, or the stripped body."""
    if TFS_REQUEST.search(body):
        return 1, [body]
    if JSON_LINES.search(body):
        return 2, [line.strip() for line in body.splitlines() if line.strip()]
    return 3, [body.strip()]


def _is_json(text: bytes) -> bool:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


def as_request_text(body: bytes) -> bytes | None:
    """The TF Serving request as text, wrapped as the rules say (serving.md §7.2 describes the
    wrapping in text): a rule 1 body as it is; JSON lines and generic JSON once every part is
    valid JSON — the check `decode` makes, without the arrays and answers it would build — so
    that no invalid body becomes a valid request by its wrapping. None otherwise."""
    if not body.strip():
        return None
    rule, parts = _rule(body)
    if rule == 1:
        return body
    if not all(_is_json(part) for part in parts):
        return None
    (first, *more) = parts
    if rule == 2:
        inner = b"[" + b",".join(parts) + b"]" if more else first
    else:
        inner = first if first.startswith(b"[[") else b"[" + first + b"]"
    return b'{"instances":' + inner + b"}"


def decode(body: bytes) -> dict[str, Any]:
    if not body.strip():
        raise BadRequest(EMPTY_BODY)
    rule, parts = _rule(body)
    if rule == 1:
        return parse_document(body)
    if rule == 2:
        rows = [_parse(line, f"JSON lines, line {i + 1}") for i, line in enumerate(parts)]
        return {"instances": rows[0] if len(rows) == 1 else rows}
    (stripped,) = parts
    value = _parse(stripped, "request body")
    return {"instances": value if stripped.startswith(b"[[") else [value]}
