"""How the master host of a parameter-server job tells the other hosts how the job ended.

The contract only lets a worker host see whether `<master>:2222` is up, which cannot tell a
master that finished from one that failed (the reference then reported success either way).
The master's `train` therefore answers on `OUTCOME_PORT` (2224): a client sends its host name
and a newline, the master replies `running` or `exit <code>`. After its own processes end the
master lingers (bounded) until every worker host has been told the final answer, or has said
`<host> bye` (a worker host that ended on its own needs no answer).
"""

import contextlib
import logging
import socket
import threading
import time
from types import TracebackType

from sagemaker_tensorflow_runtime.container.signals import SignalRecorder
from sagemaker_tensorflow_runtime.training.distributed.probe import (
    CONNECT_TIMEOUT_SECONDS,
    WaitTimeout,
    wait_until,
)

logger = logging.getLogger(__name__)

OUTCOME_PORT = 2224
RUNNING = "running"


class OutcomeServer:
    """The master's side: serves `running`, then `exit <code>`, to the worker hosts."""

    def __init__(self, expected_hosts: tuple[str, ...], port: int = OUTCOME_PORT) -> None:
        self.expected = set(expected_hosts)
        self.told: set[str] = set()
        self.exit_code: int | None = None
        self._lock = threading.Lock()
        self._sock = socket.create_server(("", port), reuse_port=False)
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="ps-outcome")

    def __enter__(self) -> "OutcomeServer":
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()

    def publish(self, exit_code: int) -> None:
        with self._lock:
            self.exit_code = exit_code

    def linger(self, timeout: float, signals: SignalRecorder | None) -> None:
        """Wait until every worker host has been told the outcome, at most `timeout` seconds."""
        try:
            wait_until(
                lambda: self.expected <= self.told,
                timeout=timeout,
                interval=0.2,
                signals=signals,
                failure="",
            )
        except WaitTimeout:
            missing = ", ".join(sorted(self.expected - self.told))
            logger.warning("Hosts %s did not ask for the outcome within %g s", missing, timeout)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(CONNECT_TIMEOUT_SECONDS)
        try:
            words = conn.makefile("r", encoding="utf-8").readline().split()
            with self._lock:
                code = self.exit_code
            conn.sendall((RUNNING if code is None else f"exit {code}").encode() + b"\n")
        except OSError:
            return
        if words and (code is not None or words[1:] == ["bye"]):
            with self._lock:
                self.told.add(words[0])


def query_outcome(master: str, me: str, port: int = OUTCOME_PORT, bye: bool = False) -> str | None:
    """`running`, `exit <code>`, or None when the master does not answer."""
    try:
        with socket.create_connection((master, port), timeout=CONNECT_TIMEOUT_SECONDS) as conn:
            conn.settimeout(CONNECT_TIMEOUT_SECONDS)
            conn.sendall(me.encode() + (b" bye\n" if bye else b"\n"))
            answer = conn.makefile("r", encoding="utf-8").readline().strip()
    except OSError:
        return None
    return answer or None


class MasterMonitor:
    """A worker host's view of the master, refreshed every `interval` seconds in a thread."""

    MISSED_PROBES_FOR_GONE = 3

    def __init__(self, master: str, me: str, interval: float, port: int = OUTCOME_PORT) -> None:
        self.master = master
        self.me = me
        self.interval = interval
        self.port = port
        self.seen = False
        self.missed = 0
        self.exit_code: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="master-monitor")

    def __enter__(self) -> "MasterMonitor":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(CONNECT_TIMEOUT_SECONDS * 2)
        if self.exit_code is None:
            query_outcome(self.master, self.me, self.port, bye=True)

    def refresh(self) -> None:
        answer = query_outcome(self.master, self.me, self.port)
        if answer is None:
            self.missed += 1
            return
        self.seen = True
        self.missed = 0
        if answer.startswith("exit "):
            with contextlib.suppress(ValueError):
                self.exit_code = int(answer.split()[1])

    @property
    def gone(self) -> bool:
        """The master stopped answering without having told us how the job ended."""
        return self.exit_code is None and self.seen and self.missed >= self.MISSED_PROBES_FOR_GONE

    @property
    def failed(self) -> bool:
        return (self.exit_code is not None and self.exit_code != 0) or self.gone

    def describe_failure(self) -> str:
        if self.exit_code is not None:
            return (
                f"The master host {self.master} failed (its training process exited with code "
                f"{self.exit_code}); this host stops too. The master's output/failure file "
                "has the reason."
            )
        return (
            f"The master host {self.master} went away without reporting how the job ended; "
            "this host stops too. Check the master's log for the cause."
        )

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.refresh()
            if self.exit_code is not None:
                return
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))
