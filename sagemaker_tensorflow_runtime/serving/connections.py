"""The client connections of a gunicorn worker, so that stopping does not wait on idle ones.

On SIGTERM a gunicorn worker stops accepting and waits, up to its graceful timeout, until every
connection has ended — including keep-alive connections idle between requests (SageMaker's
front end keeps them open for a minute or more), which would hold the worker for the whole
timeout. The worker's SIGTERM handler therefore also shuts the read side of every idle
connection: its handler sees end-of-stream and closes it. Requests in flight finish and are
answered; gunicorn then closes their connections, as it does when stopping.
"""

import contextlib
import socket
import weakref
from collections.abc import Callable, Iterable
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_open: "weakref.WeakSet[Any]" = weakref.WeakSet()
_busy: dict[int, int] = {}  # id(socket) -> requests in flight on it


def tracked(app: WsgiApp) -> WsgiApp:
    """`app`, noting each request's connection and whether a request is in flight on it."""

    def call(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        sock = environ.get("gunicorn.socket")
        if sock is None:
            return app(environ, start_response)
        key = id(sock)
        _open.add(sock)
        _busy[key] = _busy.get(key, 0) + 1
        try:
            return app(environ, start_response)
        finally:
            left = _busy.pop(key, 1) - 1
            if left:
                _busy[key] = left

    return call


def close_idle() -> int:
    """Shut the read side of every known connection with no request in flight; the count.

    Done on a duplicate of the socket: shutdown acts on the connection, and gevent's socket
    would otherwise wake its reader with an error instead of a plain end-of-stream.
    """
    closed = 0
    for sock in list(_open):
        if id(sock) in _busy:
            continue
        with contextlib.suppress(OSError), sock.dup() as twin:
            twin.shutdown(socket.SHUT_RD)
            closed += 1
    return closed
