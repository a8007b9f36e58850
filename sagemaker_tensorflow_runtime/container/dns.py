"""Waiting until the job's host names resolve (training.md §10.1 step 3)."""

import logging
import time
from collections.abc import Callable, Iterable

logger = logging.getLogger(__name__)

BASE_DELAY_SECONDS = 0.1
MAX_DELAY_SECONDS = 30.0


class HostsUnresolvedError(RuntimeError):
    """Some hosts did not resolve within the allowed time."""


def _resolves(host: str) -> bool:
    import socket

    try:
        socket.getaddrinfo(host, None)
    except OSError:
        return False
    return True


def wait_for_hosts(
    hosts: Iterable[str],
    timeout_seconds: float,
    resolves: Callable[[str], bool] = _resolves,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Retry with exponential backoff (100 ms doubling, at most 30 s apart) until all resolve."""
    pending = list(hosts)
    deadline = time.monotonic() + timeout_seconds
    delay = BASE_DELAY_SECONDS
    while True:
        pending = [h for h in pending if not resolves(h)]
        if not pending:
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise HostsUnresolvedError(
                f"Host names {pending} did not resolve within {timeout_seconds:g} s. Check the "
                "cluster's DNS (or /etc/hosts when running locally)."
            )
        logger.info("Waiting for host names %s to resolve", pending)
        sleep(min(delay, remaining))
        delay = min(delay * 2, MAX_DELAY_SECONDS)
