"""Supervised child processes of `serve`: start, notice death, restart with back-off, stop.

Deaths are noticed through pidfds in the supervisor's selector loop; a child that dies soon
after (re)starting too often is reported instead of restarted forever.
"""

import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

QUICK_DEATH_SECONDS = 10.0
MAX_QUICK_DEATHS = 3


@dataclass
class Child:
    """One supervised process."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str]
    popen: subprocess.Popen[bytes] | None = None
    pidfd: int | None = None
    started_at: float = 0.0
    quick_deaths: int = 0
    restarts: int = field(default=0)

    def start(self) -> None:
        self.popen = subprocess.Popen(list(self.argv), env=dict(self.env), stdin=subprocess.DEVNULL)
        self.started_at = time.monotonic()
        self.pidfd = os.pidfd_open(self.popen.pid)
        logger.info("started %s (pid %d): %s", self.name, self.popen.pid, " ".join(self.argv))

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def reap(self) -> int | None:
        """The exit status if the child has ended (closing its pidfd), else None."""
        if self.popen is None:
            return None
        code = self.popen.poll()
        if code is not None and self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None
        return code

    def died_quickly(self) -> bool:
        quick = time.monotonic() - self.started_at < QUICK_DEATH_SECONDS
        self.quick_deaths = self.quick_deaths + 1 if quick else 0
        return self.quick_deaths >= MAX_QUICK_DEATHS

    def signal(self, signum: int) -> None:
        if self.running and self.popen is not None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signum)

    def stop(self, deadline: float) -> None:
        """SIGTERM, wait until `deadline` (monotonic), then SIGKILL; always reaped."""
        if self.popen is None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            logger.warning("%s did not stop in time; killing it", self.name)
            self.popen.kill()
            self.popen.wait()
        self.reap()
