"""Reading a whole Content-Length body through gunicorn's own length reader (wsgi_body.py)."""

import io

import pytest
from gunicorn.http.body import Body, ChunkedReader, LengthReader
from gunicorn.http.unreader import IterUnreader

from sagemaker_tensorflow_runtime.serving.wsgi_body import read_whole_body

BODY = bytes(range(256)) * 4000  # ~1 MB


def chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def length_body(data: bytes, length: int, size: int = 8192) -> tuple[Body, IterUnreader]:
    unreader = IterUnreader(chunks(data, size))
    return Body(LengthReader(unreader, length)), unreader


def drain(unreader: IterUnreader) -> bytes:
    parts = []
    while part := unreader.read():
        parts.append(part)
    return b"".join(parts)


@pytest.mark.parametrize("size", [1, 1000, 8192, 2**20])
def test_the_whole_body_and_not_a_byte_more(size: int) -> None:
    next_request = b"GET /ping HTTP/1.1\r\n\r\n"
    stream, unreader = length_body(BODY + next_request, len(BODY), size)
    assert read_whole_body({"wsgi.input": stream}) == BODY
    assert stream.read() == b""  # gunicorn sees the body consumed: nothing left to discard
    assert drain(unreader) == next_request  # and the next request's bytes are still there


def test_an_empty_body() -> None:
    stream, _ = length_body(b"", 0)
    assert read_whole_body({"wsgi.input": stream}) == b""


def test_a_connection_that_ends_early_is_an_eof_error() -> None:
    stream, _ = length_body(BODY[:1000], len(BODY))
    with pytest.raises(EOFError, match=f"after 1000 of {len(BODY)} body bytes"):
        read_whole_body({"wsgi.input": stream})


def test_other_streams_are_left_to_the_standard_reader() -> None:
    chunked = Body(ChunkedReader(object(), IterUnreader([b"3\r\nabc\r\n0\r\n\r\n"])))
    assert read_whole_body({"wsgi.input": chunked}) is None
    assert read_whole_body({"wsgi.input": io.BytesIO(b"abc")}) is None
    assert read_whole_body({}) is None
    started, _ = length_body(BODY, len(BODY))
    assert started.read(10) == BODY[:10]  # gunicorn's buffer holds more than was returned
    assert read_whole_body({"wsgi.input": started}) is None
