"""Recording SIGTERM/SIGINT for a supervision loop.

The handlers only record the signal; the loop that owns the children reads the wakeup pipe and
acts (forwarding, deadlines). Used as a context manager so the previous handlers come back.
"""

import os
import signal
from types import FrameType, TracebackType

FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class SignalRecorder:
    """Records forwarded signals; `fileno()` becomes readable when one arrives."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self._read_fd = -1
        self._write_fd = -1
        self._previous: dict[int, object] = {}
        self._previous_wakeup = -1

    def __enter__(self) -> "SignalRecorder":
        self._read_fd, self._write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._previous_wakeup = signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)
        for signum in FORWARDED_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._record)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        signal.set_wakeup_fd(self._previous_wakeup)
        os.close(self._read_fd)
        os.close(self._write_fd)

    def _record(self, signum: int, frame: FrameType | None) -> None:
        self.received.append(signum)

    def fileno(self) -> int:
        return self._read_fd

    def drain(self) -> None:
        """Empty the wakeup pipe (the signal numbers themselves are in `received`)."""
        try:
            while os.read(self._read_fd, 512):
                pass
        except BlockingIOError:
            pass

    @property
    def first(self) -> int | None:
        return self.received[0] if self.received else None


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"
