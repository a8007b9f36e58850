"""The front's HTTP/2 gRPC client against a real grpcio server (grpc-core's HTTP/2 transport,
the same as tensorflow_model_server's): messages both ways, flow control for large ones,
statuses, deadlines, and connections the server dropped."""

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest

from sagemaker_tensorflow_runtime.serving.grpc_unary import RpcFailure, UnaryClient

BIG = 2**31 - 1
SERVICE = "test.Echo"


def _echo(request: bytes, context: Any) -> bytes:
    return request[::-1]


def _fail(request: bytes, context: Any) -> bytes:
    context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.decode("utf-8"))
    raise AssertionError("unreachable")


def _slow(request: bytes, context: Any) -> bytes:
    time.sleep(float(request.decode()))
    return b"late"


def _empty(request: bytes, context: Any) -> bytes:
    return b""


def start_server(port: int = 0) -> tuple[grpc.Server, int]:
    handlers = {
        name: grpc.unary_unary_rpc_method_handler(function)
        for name, function in {
            "Echo": _echo,
            "Fail": _fail,
            "Slow": _slow,
            "Empty": _empty,
        }.items()
    }
    server = grpc.server(
        ThreadPoolExecutor(8),
        options=[("grpc.max_send_message_length", BIG), ("grpc.max_receive_message_length", BIG)],
    )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    return server, bound


@pytest.fixture
def server() -> Iterator[tuple[grpc.Server, int]]:
    server, port = start_server()
    yield server, port
    server.stop(grace=None)


def method(name: str) -> str:
    return f"/{SERVICE}/{name}"


def test_small_messages_round_trip_on_one_connection(server: tuple[grpc.Server, int]) -> None:
    client = UnaryClient("127.0.0.1", server[1], 10)
    for index in range(200):
        payload = f"request {index}".encode()
        assert client.call(method("Echo"), payload) == payload[::-1]
    assert len(client._idle) == 1  # one connection, reused for every call
    assert client.call(method("Empty"), b"x") == b""


def test_large_messages_respect_flow_control_both_ways(server: tuple[grpc.Server, int]) -> None:
    client = UnaryClient("127.0.0.1", server[1], 30)
    payload = bytes(range(256)) * (40 * 4096)  # 40 MiB: far past every default window
    assert client.call(method("Echo"), payload) == payload[::-1]
    assert client.call(method("Echo"), payload[:3]) == payload[:3][::-1]  # windows still right


def test_status_and_message_of_a_failed_call(server: tuple[grpc.Server, int]) -> None:
    client = UnaryClient("127.0.0.1", server[1], 10)
    text = 'bad input: "x" — 100% wrong, naïve'
    with pytest.raises(RpcFailure) as failure:
        client.call(method("Fail"), text.encode())
    assert (failure.value.code, failure.value.details) == ("INVALID_ARGUMENT", text)
    assert len(client._idle) == 1  # a failed call leaves its connection usable
    assert client.call(method("Echo"), b"ok") == b"ko"
    assert len(client._idle) == 1


def test_a_message_over_the_server_limit_is_refused_and_the_client_goes_on() -> None:
    server = grpc.server(ThreadPoolExecutor(2), options=[("grpc.max_receive_message_length", 1000)])
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                SERVICE, {"Echo": grpc.unary_unary_rpc_method_handler(_echo)}
            ),
        )
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        client = UnaryClient("127.0.0.1", port, 10)
        with pytest.raises(RpcFailure) as failure:
            client.call(method("Echo"), b"x" * 50_000_000)  # past the windows it grants
        assert failure.value.code == "RESOURCE_EXHAUSTED"
        assert not client._idle  # answered mid-request: that connection is not reused
        assert client.call(method("Echo"), b"small") == b"llams"
    finally:
        server.stop(grace=None)


def test_unknown_method_is_unimplemented(server: tuple[grpc.Server, int]) -> None:
    with pytest.raises(RpcFailure) as failure:
        UnaryClient("127.0.0.1", server[1], 10).call(method("Nope"), b"")
    assert failure.value.code == "UNIMPLEMENTED"


def test_deadline(server: tuple[grpc.Server, int]) -> None:
    client = UnaryClient("127.0.0.1", server[1], 0.3)
    started = time.monotonic()
    with pytest.raises(RpcFailure) as failure:
        client.call(method("Slow"), b"2")
    assert failure.value.code == "DEADLINE_EXCEEDED"
    assert time.monotonic() - started < 1.5
    assert client.call(method("Slow"), b"0") == b"late"  # a fresh connection afterwards


def test_nothing_listening_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(RpcFailure) as failure:
        UnaryClient("127.0.0.1", port, 2).call(method("Echo"), b"x")
    assert failure.value.code == "UNAVAILABLE"
    assert str(port) in failure.value.details


def test_a_restarted_server_is_reached_on_a_new_connection() -> None:
    server, port = start_server()
    client = UnaryClient("127.0.0.1", port, 10)
    try:
        assert client.call(method("Echo"), b"before") == b"erofeb"
        server.stop(grace=None).wait()
        server, _ = start_server(port)
        assert client.call(method("Echo"), b"after") == b"retfa"  # the stale one is retried
    finally:
        server.stop(grace=None)


def test_concurrent_callers_each_get_their_own_answer(server: tuple[grpc.Server, int]) -> None:
    client = UnaryClient("127.0.0.1", server[1], 30)
    errors: list[str] = []

    def caller(index: int) -> None:
        for round_ in range(50):
            payload = f"{index}:{round_}:".encode() * (1 + 5000 * (round_ % 3))
            if client.call(method("Echo"), payload) != payload[::-1]:
                errors.append(f"{index}:{round_}")

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert 1 <= len(client._idle) <= 8
