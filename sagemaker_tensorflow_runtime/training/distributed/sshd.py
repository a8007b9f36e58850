"""The SSH daemon an MPI job needs on every host (training.md §13.4).

`sshd -D` runs in the foreground as our child, in its own process group, for as long as the
host takes part in the job; leaving the `with` block stops it (SIGTERM, then SIGKILL).
"""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from types import TracebackType

STOP_SECONDS = 5.0
SSH_PORT = 22


class SshdError(RuntimeError):
    """sshd is missing or would not stay up."""


class SshDaemon:
    """A running `<sshd> -D`."""

    def __init__(self, program: str, env: Mapping[str, str]) -> None:
        self.program = program
        self.env = dict(env)
        self.popen: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "SshDaemon":
        if not os.access(self.program, os.X_OK):
            raise SshdError(
                f"MPI training needs an SSH server, and {self.program} does not exist or is not "
                "executable: install openssh-server in the image (see docs/distributed.md), or "
                "set SAGEMAKER_SSHD to the sshd program."
            )
        self.popen = subprocess.Popen(
            [self.program, "-D"], env=self.env, stdin=subprocess.DEVNULL, process_group=0
        )
        return self

    def check(self) -> None:
        """Raise if sshd has exited (a bad config, a missing /run/sshd, port 22 taken)."""
        if self.popen is not None and self.popen.poll() is not None:
            raise SshdError(
                f"{self.program} -D exited with code {self.popen.returncode}; its reason is in "
                "the log above. Check /etc/ssh/sshd_config, the host keys and /run/sshd."
            )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        try:
            self.popen.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()
