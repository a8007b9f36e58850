"""Hostile request bodies and broken HTTP: each gets an error (or a closed connection), and the
same server answers a good request afterwards."""

import socket

import pytest

from .harness import ServerProcess

PREDICT = "/v1/models/half_plus_three:predict"


def exchange(server: ServerProcess, data: bytes, shut_write: bool = False) -> bytes:
    """Send raw bytes; read until the response is complete, the peer closes, or 10 s pass."""
    with socket.create_connection(("127.0.0.1", server.rest_port), timeout=10) as sock:
        sock.sendall(data)
        if shut_write:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        while True:
            try:
                chunk = sock.recv(1 << 20)
            except (TimeoutError, ConnectionResetError):
                return received
            if not chunk:
                return received
            received += chunk
            if _complete(received):
                return received


def _complete(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def post_raw(body: bytes, headers: bytes | None = None) -> bytes:
    headers = b"Content-Length: %d\r\n" % len(body) if headers is None else headers
    return b"POST " + PREDICT.encode() + b" HTTP/1.1\r\nHost: test\r\n" + headers + b"\r\n" + body


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def nested(depth: int) -> bytes:
    return b"[" * depth + b"1.0" + b"]" * depth


HOSTILE = {
    "100k-deep JSON": post_raw(b'{"instances": ' + nested(100_000) + b"}"),
    "10k-deep nested lists": post_raw(b'{"instances": [' + nested(10_000) + b"]}"),
    "rank 40 below the JSON limit": post_raw(b'{"instances": [' + nested(40) + b"]}"),
    "invalid UTF-8 in a string": post_raw(b'{"instances": ["\xff\xfe\xfd"]}'),
    "invalid UTF-8 outside strings": post_raw(b'{"instances": [1.0]\xff}'),
    "binary garbage body": post_raw(bytes(range(256)) * 64),
    "negative Content-Length": post_raw(b"", b"Content-Length: -5\r\n"),
    "non-numeric Content-Length": post_raw(b"", b"Content-Length: lots\r\n"),
    "bad chunk size": post_raw(b"zz\r\nabc\r\n0\r\n\r\n", b"Transfer-Encoding: chunked\r\n"),
    "very long string": post_raw(b'{"instances": ["' + b"a" * 3_000_000 + b'"]}'),
    "huge number": post_raw(b'{"instances": [1e999999]}'),
    "top-level array": post_raw(b"[1, 2, 3]"),
    "garbage request line": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
    + bytes(200)
    + b"\r\n\r\n",
    "HTTP/0.9-style line": b"GARBAGE\r\n\r\n",
}


@pytest.mark.parametrize("data", HOSTILE.values(), ids=list(HOSTILE))
def test_hostile_request_gets_an_error_and_the_server_lives(
    server: ServerProcess, data: bytes
) -> None:
    response = exchange(server, data)
    assert server.alive(), server.log()
    if response:  # a closed connection is an acceptable answer to broken HTTP
        assert 200 <= status_of(response) < 500, response[:300]
        assert b"\r\nContent-Type: application/json\r\n" in response, response[:300]
    assert server.post(PREDICT, {"instances": [1.0]}).json() == {"predictions": [3.5]}


def test_nan_is_a_value_not_an_error(server: ServerProcess) -> None:
    response = exchange(server, post_raw(b'{"instances": [NaN]}'))
    assert status_of(response) == 200
    assert response.endswith(b'{\n    "predictions": [NaN\n    ]\n}')


def test_json_errors_are_400(server: ServerProcess) -> None:
    for name in ("100k-deep JSON", "10k-deep nested lists", "rank 40 below the JSON limit"):
        response = exchange(server, HOSTILE[name])
        assert status_of(response) == 400, (name, response[:300])
        assert b'"error"' in response


def test_chunked_body_is_accepted(server: ServerProcess) -> None:
    body = b'{"instances": [1.0]}'
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    response = exchange(server, post_raw(chunked, b"Transfer-Encoding: chunked\r\n"))
    assert status_of(response) == 200
    assert response.endswith(b"[3.5\n    ]\n}")


def test_short_body_then_hang_up(server: ServerProcess) -> None:
    """Content-Length promises 100 bytes, 2 arrive, then the client closes its side."""
    exchange(server, post_raw(b"{}", b"Content-Length: 100\r\n"), shut_write=True)
    assert server.alive()
    assert server.post(PREDICT, {"instances": [1.0]}).json() == {"predictions": [3.5]}


def test_client_that_vanishes_mid_response(server: ServerProcess) -> None:
    """A 3 MB error answer to a client that has already gone must not hurt the server."""
    with socket.create_connection(("127.0.0.1", server.rest_port), timeout=10) as sock:
        sock.sendall(HOSTILE["very long string"])
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    assert server.alive()
    assert server.post(PREDICT, {"instances": [1.0]}).json() == {"predictions": [3.5]}
