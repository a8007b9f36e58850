"""A JSON 502 for requests of a gevent worker that stopped running (serving.md §9.8, §15 #19).

gunicorn kills a gevent worker whose event loop has been blocked (a CPU-bound handler, a C call
holding the GIL) for longer than its timeout, and its clients see a closed connection. Here a
native watchdog thread notices the stall first (the loop's heartbeat greenlet stops ticking),
writes `502 {"error": ...}` on the socket of every request in flight, and ends the worker;
gunicorn starts a fresh one. A handler that is merely slow but cooperative is never cut off,
as with gunicorn itself.
"""

import contextlib
import json
import os
import threading
import time
from typing import Any

TICK_SECONDS = 0.5
WORKER_STALLED_EXIT = 70


class StallGuard:
    """Tracks in-flight request sockets and the event loop's heartbeat in one worker."""

    def __init__(self, timeout_seconds: float) -> None:
        self.timeout = timeout_seconds
        self._sockets: dict[int, Any] = {}
        self._lock = threading.Lock()
        self._last_tick = time.monotonic()
        self._started = False

    def start(self) -> bool:
        """Arm the guard in a gevent worker (after the fork); False elsewhere."""
        if self._started:
            return True
        try:
            import gevent
            from gevent import monkey
        except ImportError:
            return False
        if not monkey.is_module_patched("socket"):
            return False
        self._started = True
        gevent.spawn(self._tick)
        start_native_thread = monkey.get_original("_thread", "start_new_thread")
        start_native_thread(self._watch, ())
        return True

    def _tick(self) -> None:
        import gevent

        while True:
            self._last_tick = time.monotonic()
            gevent.sleep(TICK_SECONDS)

    def _watch(self) -> None:
        sleep = time.sleep
        try:
            from gevent import monkey

            sleep = monkey.get_original("time", "sleep")
        except ImportError:
            pass
        while True:
            sleep(TICK_SECONDS)
            stalled_for = time.monotonic() - self._last_tick
            if stalled_for > self.timeout:
                self._answer_all(stalled_for)
                os._exit(WORKER_STALLED_EXIT)

    def _answer_all(self, stalled_for: float) -> None:
        message = (
            f"the inference worker was blocked for {stalled_for:.0f} s, longer than "
            f"SAGEMAKER_GUNICORN_TIMEOUT_SECONDS ({self.timeout:g}); it is being replaced"
        )
        body = json.dumps({"error": message}).encode("utf-8")
        head = (
            "HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode("ascii")
        with self._lock:
            sockets = list(self._sockets.values())
        for sock in sockets:
            with contextlib.suppress(OSError):
                os.write(sock.fileno(), head + body)

    def enter(self, sock: Any) -> int:
        key = id(sock)
        if sock is not None:
            with self._lock:
                self._sockets[key] = sock
        return key

    def leave(self, key: int) -> None:
        with self._lock:
            self._sockets.pop(key, None)
