"""A small gRPC client for unary calls: HTTP/2 frames on a pooled plain socket.

Why not grpcio in the front: under gunicorn's gevent workers grpcio must run its I/O through
gevent (`init_gevent`), which costs ~0.6 ms of CPU and a thread-pool hop per call — more than
the rest of a small request. A unary call is one HEADERS and a few DATA frames each way, so a
pooled connection with pre-encoded request headers costs a fraction of that. It works unchanged
in gevent, sync and gthread workers: under gevent the socket module is gevent's.

Each connection carries one call at a time (a pool of connections, like HTTP/1.1 keep-alive),
which keeps flow control simple: every stream opens with a 2 GiB receive window, the connection
window is topped up after each response, and request DATA respects the server's windows.
Responses are gRPC messages with their `grpc-status` / `grpc-message` trailers; any failure
raises `RpcFailure` with a gRPC status code name.
"""

import contextlib
import socket
import struct
import threading
import urllib.parse
from dataclasses import dataclass

import hpack

from sagemaker_tensorflow_runtime.serving.modelserver.errors import Code

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
# Frame types (RFC 7540 §6).
DATA, HEADERS, RST_STREAM, SETTINGS, PUSH_PROMISE = 0x0, 0x1, 0x3, 0x4, 0x5
PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 0x6, 0x7, 0x8, 0x9
END_STREAM = ACK = 0x1
END_HEADERS, PADDED, PRIORITY_FLAG = 0x4, 0x8, 0x20
SETTINGS_HEADER_TABLE_SIZE, SETTINGS_ENABLE_PUSH, SETTINGS_INITIAL_WINDOW_SIZE = 0x1, 0x2, 0x4
SETTINGS_MAX_FRAME_SIZE = 0x5
MAX_WINDOW = 2**31 - 1
DEFAULT_WINDOW = 65_535
DEFAULT_FRAME = 16_384
OUR_MAX_FRAME = 2**24 - 1
READ_CHUNK = 1 << 18
FRAME_HEADER = struct.Struct(">IBI")  # 24-bit length | type, flags, stream id (packed below)
# RST_STREAM / GOAWAY error codes (RFC 7540 §7) as gRPC status names, as grpc-core maps them.
H2_ERRORS = {0x0: "INTERNAL", 0x7: "UNAVAILABLE", 0x8: "CANCELLED", 0xB: "RESOURCE_EXHAUSTED"}


class RpcFailure(Exception):
    """A call ended with a non-OK gRPC status (`code` is its name, e.g. "NOT_FOUND")."""

    def __init__(self, code: str, details: str) -> None:
        super().__init__(f"{code}: {details}")
        self.code = code
        self.details = details


class _Retryable(RpcFailure):
    """The connection was dead before the server saw the request: safe to try a new one."""


class _Answered(RpcFailure):
    """The server answered with a non-OK status; the connection is fine for the next call."""


def _integer(value: int, prefix_bits: int, first: int) -> bytes:
    """HPACK integer (RFC 7541 §5.1) with `first` holding the pattern bits above the prefix."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = [first | limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _literal(value: str) -> bytes:
    data = value.encode("ascii")
    return _integer(len(data), 7, 0) + data


def request_headers(authority: str, path: str, timeout_seconds: float) -> bytes:
    """The HPACK block of a unary call, literal and never added to the server's table."""
    block = bytearray(b"\x83\x86")  # :method POST, :scheme http (static table 3 and 6)
    block += _integer(4, 4, 0) + _literal(path)  # :path, name from the static table
    block += _integer(1, 4, 0) + _literal(authority)  # :authority
    block += _integer(31, 4, 0) + _literal("application/grpc")  # content-type
    block += b"\x00" + _literal("te") + _literal("trailers")
    millis = max(1, min(int(timeout_seconds * 1000), 99_999_999))
    block += b"\x00" + _literal("grpc-timeout") + _literal(f"{millis}m")
    return bytes(block)


def _frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return FRAME_HEADER.pack((len(payload) << 8) | kind, flags, stream) + payload


@dataclass
class _Response:
    """What arrived for the current stream."""

    headers: list[tuple[str, str]] | None = None
    trailers: list[tuple[str, str]] | None = None
    chunks: list[bytes] | None = None
    closed: bool = False
    reset: int | None = None


class Connection:
    """One HTTP/2 connection to the server, used by one call at a time."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.decoder = hpack.Decoder()
        self.decoded: dict[bytes, list[tuple[str, str]]] = {}
        self.buffer = bytearray()
        self.next_stream = 1
        self.send_window = DEFAULT_WINDOW  # the connection's window at the server
        self.stream_window_default = DEFAULT_WINDOW
        self.stream_window = DEFAULT_WINDOW
        self.max_frame = DEFAULT_FRAME
        self.received = 0  # DATA bytes to give back to the connection window
        self.goaway = False
        self.pending = bytearray(PREFACE)
        settings = struct.pack(
            ">HIHIHI",
            SETTINGS_ENABLE_PUSH,
            0,
            SETTINGS_INITIAL_WINDOW_SIZE,
            MAX_WINDOW,
            SETTINGS_MAX_FRAME_SIZE,
            OUR_MAX_FRAME,
        )
        self.pending += _frame(SETTINGS, 0, 0, settings)
        self.pending += _frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", MAX_WINDOW - DEFAULT_WINDOW))
        self.used = False

    @property
    def reusable(self) -> bool:
        return not self.goaway and self.next_stream < 2**31 - 2

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def call(self, headers: bytes, message: bytes, timeout: float) -> bytes:
        """Send one request message and return the response message."""
        self.sock.settimeout(timeout)
        stream = self.next_stream
        self.next_stream += 2
        self.stream_window = self.stream_window_default
        fresh = not self.used
        self.used = True
        response = _Response()
        body = memoryview(struct.pack(">BI", 0, len(message)) + message)
        out = self.pending
        self.pending = bytearray()
        if self.received:
            out += _frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", self.received))
            self.received = 0
        out += _frame(HEADERS, END_HEADERS, stream, headers)
        try:
            self._send_body(out, body, stream, response)
        except OSError as exc:
            failure = RpcFailure if fresh else _Retryable
            raise failure("UNAVAILABLE", f"connection lost while sending: {exc}") from None
        # A reused connection that fails before any answer was closed by the server while
        # idle: the request was never processed, so another connection may retry it.
        stale_possible = not fresh and not response.headers
        while not response.closed:
            self._read_frame(stream, response, may_retry=stale_possible and not response.headers)
        return _message_of(response)

    def _send_body(
        self, out: bytearray, body: memoryview, stream: int, response: _Response
    ) -> None:
        """Send HEADERS then DATA frames within the server's flow-control windows."""
        offset, total = 0, len(body)
        while True:
            room = min(self.send_window, self.stream_window, total - offset)
            while room > 0:
                size = min(room, self.max_frame)
                last = offset + size == total
                out += FRAME_HEADER.pack((size << 8) | DATA, END_STREAM if last else 0, stream)
                out += body[offset : offset + size]
                offset += size
                self.send_window -= size
                self.stream_window -= size
                room -= size
            self.sock.sendall(out)
            out = bytearray()
            if offset >= total:
                return
            if response.closed:  # answered before the request was complete: our half of the
                self.goaway = True  # stream never ended, so no later call reuses it
                return
            self._read_frame(stream, response, may_retry=False)  # until a WINDOW_UPDATE

    def _fill(self, may_retry: bool) -> None:
        try:
            chunk = self.sock.recv(READ_CHUNK)
        except TimeoutError:
            raise RpcFailure("DEADLINE_EXCEEDED", "Deadline Exceeded") from None
        except OSError as exc:
            cls = _Retryable if may_retry else RpcFailure
            raise cls("UNAVAILABLE", f"connection lost: {exc}") from None
        if not chunk:
            cls = _Retryable if may_retry else RpcFailure
            raise cls("UNAVAILABLE", "the server closed the connection")
        self.buffer += chunk

    def _read_frame(self, stream: int, response: _Response, may_retry: bool) -> None:
        buffer = self.buffer
        while len(buffer) < 9:
            self._fill(may_retry)
        length_kind, flags, stream_id = FRAME_HEADER.unpack_from(buffer)
        length, kind = length_kind >> 8, length_kind & 0xFF
        stream_id &= 0x7FFFFFFF
        while len(buffer) < 9 + length:
            self._fill(may_retry)
        payload = bytes(buffer[9 : 9 + length])
        del buffer[: 9 + length]
        if kind == DATA:
            self.received += length
            if stream_id == stream:
                response.chunks = response.chunks or []
                response.chunks.append(_unpad(payload, flags))
                if flags & END_STREAM:
                    response.closed = True
        elif kind == HEADERS:
            block, last = _header_block(payload, flags), flags
            while not last & END_HEADERS:
                last, more = self._continuation(may_retry)
                block += more
            fields = self._decode(block)
            if stream_id == stream:
                if response.headers is None:
                    response.headers = fields
                else:
                    response.trailers = fields
                response.closed = response.closed or bool(flags & END_STREAM)
        elif kind == SETTINGS and not flags & ACK:
            self._apply_settings(payload)
            self._control(_frame(SETTINGS, ACK, 0))
        elif kind == PING and not flags & ACK:
            self._control(_frame(PING, ACK, 0, payload))
        elif kind == WINDOW_UPDATE:
            (increment,) = struct.unpack(">I", payload[:4])
            if stream_id == 0:
                self.send_window += increment & 0x7FFFFFFF
            elif stream_id == stream:
                self.stream_window += increment & 0x7FFFFFFF
        elif kind == RST_STREAM and stream_id == stream:
            response.reset = struct.unpack(">I", payload[:4])[0]
            response.closed = True
        elif kind == GOAWAY:
            self.goaway = True
            last_stream = struct.unpack(">I", payload[:4])[0] & 0x7FFFFFFF
            if stream > last_stream:  # never processed: another connection may try
                raise _Retryable("UNAVAILABLE", "the server is going away")
        elif kind == PUSH_PROMISE:
            raise RpcFailure("INTERNAL", "unexpected PUSH_PROMISE from the server")

    def _decode(self, block: bytes) -> list[tuple[str, str]]:
        """HPACK-decode a header block, reusing the answer for a block seen before when it
        leaves the decoder's table as it was (a server repeats the same few blocks); any
        other block may change the table, which forgets what was cached."""
        cached = self.decoded.get(block)
        if cached is not None:
            return cached
        fields = [(str(k), str(v)) for k, v in self.decoder.decode(block)]
        if _keeps_table(block):
            self.decoded[block] = fields
        else:
            self.decoded.clear()
        return fields

    def _control(self, frame: bytes) -> None:
        """Acknowledge SETTINGS or PING; a closed socket shows up on the next read instead."""
        with contextlib.suppress(OSError):
            self.sock.sendall(frame)

    def _continuation(self, may_retry: bool) -> tuple[int, bytes]:
        buffer = self.buffer
        while len(buffer) < 9:
            self._fill(may_retry)
        length_kind, flags, _ = FRAME_HEADER.unpack_from(buffer)
        length = length_kind >> 8
        if length_kind & 0xFF != CONTINUATION:
            raise RpcFailure("INTERNAL", "header block interrupted by another frame")
        while len(buffer) < 9 + length:
            self._fill(may_retry)
        payload = bytes(buffer[9 : 9 + length])
        del buffer[: 9 + length]
        return flags, payload

    def _apply_settings(self, payload: bytes) -> None:
        for offset in range(0, len(payload) - len(payload) % 6, 6):
            key, value = struct.unpack_from(">HI", payload, offset)
            if key == SETTINGS_INITIAL_WINDOW_SIZE:
                self.stream_window += value - self.stream_window_default
                self.stream_window_default = value
            elif key == SETTINGS_MAX_FRAME_SIZE:
                self.max_frame = value
            elif key == SETTINGS_HEADER_TABLE_SIZE:
                pass  # we never index request headers, so the server's table size is moot


def _hpack_int(block: bytes, at: int, prefix_bits: int) -> tuple[int, int]:
    """(value, next offset) of an HPACK integer starting at `at` (RFC 7541 §5.1)."""
    limit = (1 << prefix_bits) - 1
    value = block[at] & limit
    at += 1
    if value < limit:
        return value, at
    shift = 0
    while True:
        byte = block[at]
        at += 1
        value += (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def _keeps_table(block: bytes) -> bool:
    """True when every field of the block is indexed or a literal not added to the table
    (RFC 7541 §6.1-6.2.3): decoding it again gives the same fields while the table stays."""
    at = 0
    try:
        while at < len(block):
            byte = block[at]
            if byte & 0x80:  # indexed field
                _, at = _hpack_int(block, at, 7)
            elif byte & 0xE0 in (0x00, 0x10):  # literal without / never indexing
                index, at = _hpack_int(block, at, 4)
                for _ in range(1 if index else 2):  # value, or name and value
                    length, at = _hpack_int(block, at, 7)
                    at += length
            else:  # incremental indexing or a table size update
                return False
    except IndexError:
        return False
    return at == len(block)


def _unpad(payload: bytes, flags: int) -> bytes:
    if flags & PADDED and payload:
        return payload[1 : len(payload) - payload[0]]
    return payload


def _header_block(payload: bytes, flags: int) -> bytes:
    start, end = 0, len(payload)
    if flags & PADDED:
        start, end = 1, end - payload[0]
    if flags & PRIORITY_FLAG:
        start += 5
    return payload[start:end]


def _message_of(response: _Response) -> bytes:
    """The response message, or RpcFailure with the status the server (or HTTP/2) gave."""
    if response.reset is not None:
        code = H2_ERRORS.get(response.reset, "INTERNAL")
        raise RpcFailure(code, f"stream reset by the server (HTTP/2 error {response.reset})")
    fields = dict(response.headers or [])
    if response.trailers is not None:
        fields.update(response.trailers)
    if fields.get(":status", "200") != "200":
        raise RpcFailure("UNAVAILABLE", f"HTTP status {fields.get(':status')} from the server")
    status = fields.get("grpc-status")
    if status is None:
        raise RpcFailure("INTERNAL", "the server's response carried no grpc-status")
    if status != "0":
        known = status.isdigit() and int(status) in Code._value2member_map_
        code = Code(int(status)).name if known else "UNKNOWN"
        raise _Answered(code, urllib.parse.unquote(fields.get("grpc-message", "")))
    data = b"".join(response.chunks or [])
    if len(data) < 5:
        raise RpcFailure("INTERNAL", "the server's response carried no message")
    compressed, length = struct.unpack_from(">BI", data)
    if compressed:
        raise RpcFailure("INTERNAL", "compressed response message (none was accepted)")
    if len(data) != 5 + length:
        raise RpcFailure("INTERNAL", "the server sent a truncated or extra message")
    return data[5:]


class UnaryClient:
    """Unary gRPC calls to one server over a pool of connections (thread- and greenlet-safe)."""

    def __init__(self, host: str, port: int, timeout_seconds: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout_seconds
        self._idle: list[Connection] = []
        self._lock = threading.Lock()
        self._headers: dict[str, bytes] = {}

    def call(self, method: str, message: bytes) -> bytes:
        """The serialized response of `method` (e.g. "/pkg.Service/Method") for `message`."""
        headers = self._headers.get(method)
        if headers is None:
            headers = request_headers(f"{self.host}:{self.port}", method, self.timeout)
            self._headers[method] = headers
        for attempt in (1, 2):
            connection = self._acquire()
            try:
                result = connection.call(headers, message, self.timeout)
            except _Retryable:
                connection.close()
                if attempt == 2:
                    raise
                continue
            except _Answered:
                self._release(connection)
                raise
            except BaseException:
                connection.close()
                raise
            self._release(connection)
            return result
        raise AssertionError("unreachable")

    def _acquire(self) -> Connection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        try:
            return Connection(self.host, self.port, self.timeout)
        except OSError as exc:
            message = f"cannot connect to {self.host}:{self.port}: {exc}"
            raise RpcFailure("UNAVAILABLE", message) from None

    def _release(self, connection: Connection) -> None:
        if not connection.reusable:
            connection.close()
            return
        with self._lock:
            self._idle.append(connection)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
