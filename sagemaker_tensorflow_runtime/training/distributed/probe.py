"""Reachability probes and bounded, signal-aware waits between hosts.

A wait sleeps on the signal recorder's wakeup pipe, so SIGTERM/SIGINT end it at once; every wait
has a bound and raises `WaitTimeout` with a message saying what did not happen.
"""

import select
import socket
import time
from collections.abc import Callable

from sagemaker_tensorflow_runtime.container.signals import SignalRecorder

CONNECT_TIMEOUT_SECONDS = 2.0


class WaitTimeout(RuntimeError):
    """What we waited for did not happen within its bound."""


class WaitInterrupted(RuntimeError):
    """SIGTERM or SIGINT arrived while waiting."""


def port_open(host: str, port: int, timeout: float = CONNECT_TIMEOUT_SECONDS) -> bool:
    """Whether `host:port` accepts a TCP connection now (the contract's reachability test)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def pause(signals: SignalRecorder | None, seconds: float) -> None:
    """Sleep up to `seconds`; raise `WaitInterrupted` when a signal arrives."""
    if signals is None:
        time.sleep(seconds)
        return
    if signals.first is None:
        select.select([signals.fileno()], [], [], max(0.0, seconds))
        signals.drain()
    if signals.first is not None:
        raise WaitInterrupted("interrupted by a signal")


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float,
    interval: float,
    signals: SignalRecorder | None,
    failure: str,
    first_interval: float | None = None,
    fast_seconds: float = 30.0,
) -> None:
    """Poll `condition` until true; `failure` is the timeout message.

    Polls every `interval` seconds; with `first_interval`, polls come that often during the
    first `fast_seconds` (hosts usually come up together, so the first seconds matter).
    """
    start = time.monotonic()
    deadline = start + timeout
    while not condition():
        now = time.monotonic()
        remaining = deadline - now
        if remaining <= 0:
            raise WaitTimeout(failure)
        fast = first_interval is not None and now - start < fast_seconds
        gap = first_interval if fast and first_interval is not None else interval
        pause(signals, min(gap, remaining))
