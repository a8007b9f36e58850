"""Live relay of a child's stdout/stderr, keeping a bounded tail for error summaries.

Bytes are copied to our own stdout/stderr unmodified as they arrive (no line buffering, no
re-encoding), so logs appear live and in order per stream; a full pipe never blocks the child
for longer than our own output does. With a line rewriter (mpirun's rank tags) output is relayed
line by line instead, each complete line rewritten.
"""

import os
import threading
from collections import deque
from collections.abc import Callable

TAIL_LINES = 400
MAX_LINE_CHARS = 4000
READ_SIZE = 65536


class OutputTail:
    """The last lines a process printed on stdout and stderr, in arrival order."""

    def __init__(self, max_lines: int = TAIL_LINES) -> None:
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._stderr_lines: deque[str] = deque(maxlen=max_lines)
        self._lock = threading.Lock()

    def add(self, line: bytes, is_stderr: bool) -> None:
        text = line.decode("utf-8", errors="replace").rstrip("\r\n")[:MAX_LINE_CHARS]
        with self._lock:
            self._lines.append(text)
            if is_stderr:
                self._stderr_lines.append(text)

    def lines(self) -> list[str]:
        with self._lock:
            return list(self._lines)

    def stderr_lines(self) -> list[str]:
        with self._lock:
            return list(self._stderr_lines)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BrokenPipeError:
            return
        view = view[written:]


class StreamRelay(threading.Thread):
    """Copies one pipe to one of our file descriptors and feeds complete lines to a tail."""

    def __init__(
        self,
        source_fd: int,
        target_fd: int,
        tail: OutputTail,
        is_stderr: bool,
        rewrite: Callable[[bytes], bytes] | None = None,
    ) -> None:
        super().__init__(daemon=True, name=f"relay-{source_fd}")
        self._source = source_fd
        self._target = target_fd
        self._tail = tail
        self._is_stderr = is_stderr
        self._rewrite = rewrite

    def run(self) -> None:
        pending = b""
        try:
            while chunk := os.read(self._source, READ_SIZE):
                if self._rewrite is None:
                    _write_all(self._target, chunk)
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for line in complete:
                    self._line(line, b"\n")
                if len(pending) > MAX_LINE_CHARS * 4:
                    self._line(pending, b"")
                    pending = b""
        except OSError:
            pass
        finally:
            if pending:
                self._line(pending, b"")
            os.close(self._source)

    def _line(self, line: bytes, end: bytes) -> None:
        if self._rewrite is not None:
            line = self._rewrite(line)
            _write_all(self._target, line + end)
        self._tail.add(line, self._is_stderr)
