"""Running a group of child processes: argv lists, explicit env, live output, signals.

Each child runs in its own process group. A recorded SIGTERM/SIGINT is forwarded to every group;
when the children outlive `grace_seconds` after that, their groups are killed. Children marked
`required=False` (helpers such as a parameter server) are stopped once every required child has
ended (or, with `ProcessGroup`, when the caller is done with them). Exits are noticed through
pidfds, so `train` returns as soon as the user process ends. A `watch` callable lets the caller
stop the group for an outside reason (e.g. the master host failed): it is treated like SIGTERM.
"""

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sagemaker_tensorflow_runtime.container.output import OutputTail, StreamRelay
from sagemaker_tensorflow_runtime.container.signals import SignalRecorder

DRAIN_SECONDS = 1.0
HELPER_STOP_SECONDS = 5.0
POLL_SECONDS = 0.02
WATCH_SECONDS = 0.5


class LaunchError(OSError):
    """A child process could not be started at all (missing or non-executable program)."""


@dataclass(frozen=True)
class ProcessSpec:
    """One process to start: what, where, with which environment, and its role in the job."""

    argv: tuple[str, ...]
    env: Mapping[str, str]
    cwd: Path
    name: str = "user"
    required: bool = True
    # Rewrites each complete output line (bytes, without the newline), e.g. mpirun's rank tags.
    line_rewriter: Callable[[bytes], bytes] | None = None


@dataclass
class ProcessOutcome:
    """How one child ended."""

    spec: ProcessSpec
    pid: int
    returncode: int | None = None
    started_at: float = field(default_factory=time.time)
    ended_at: float | None = None
    tail: OutputTail = field(default_factory=OutputTail)

    @property
    def signal(self) -> int | None:
        rc = self.returncode
        return -rc if rc is not None and rc < 0 else None


@dataclass
class GroupResult:
    """The outcome of a whole process group run."""

    outcomes: list[ProcessOutcome]
    stop_signal: int | None = None
    killed_after_grace: bool = False
    stopped_by_watch: bool = False

    @property
    def required(self) -> list[ProcessOutcome]:
        return [o for o in self.outcomes if o.spec.required]

    @property
    def failures(self) -> list[ProcessOutcome]:
        """Required children that ended non-zero, earliest first (the root cause leads)."""
        failed = [o for o in self.required if o.returncode != 0]
        return sorted(failed, key=lambda o: o.ended_at or float("inf"))

    @property
    def succeeded(self) -> bool:
        return not self.failures


class _Child:
    def __init__(self, spec: ProcessSpec) -> None:
        try:
            self.popen = subprocess.Popen(
                list(spec.argv),
                env=dict(spec.env),
                cwd=spec.cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                process_group=0,
            )
        except OSError as exc:
            raise LaunchError(exc.errno, f"cannot start {spec.argv[0]!r}: {exc.strerror}") from exc
        self.outcome = ProcessOutcome(spec=spec, pid=self.popen.pid)
        assert self.popen.stdout is not None and self.popen.stderr is not None
        self.relays = [
            StreamRelay(
                os.dup(self.popen.stdout.fileno()), 1, self.outcome.tail, False, spec.line_rewriter
            ),
            StreamRelay(
                os.dup(self.popen.stderr.fileno()), 2, self.outcome.tail, True, spec.line_rewriter
            ),
        ]
        self.popen.stdout.close()
        self.popen.stderr.close()
        for relay in self.relays:
            relay.start()
        try:
            self.pidfd: int | None = os.pidfd_open(self.popen.pid)
        except (AttributeError, OSError):
            self.pidfd = None

    @property
    def running(self) -> bool:
        return self.outcome.returncode is None

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signum)

    def reap(self) -> bool:
        rc = self.popen.poll()
        if rc is None:
            return False
        self.outcome.returncode = rc
        self.outcome.ended_at = time.time()
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None
        # Leftovers of the child's own group (background helpers) end with it.
        self.signal_group(signal.SIGTERM)
        return True

    def drain(self, deadline: float) -> None:
        for relay in self.relays:
            relay.join(max(0.0, deadline - time.monotonic()))


class ProcessGroup:
    """Started children; `wait` for the required ones, then leave the block to stop the rest."""

    def __init__(self, specs: Sequence[ProcessSpec]) -> None:
        self.children: list[_Child] = []
        try:
            for spec in specs:
                self.children.append(_Child(spec))
        except LaunchError:
            for child in self.children:
                child.signal_group(signal.SIGKILL)
                child.popen.wait()
            raise
        self.result = GroupResult(outcomes=[c.outcome for c in self.children])

    def __enter__(self) -> "ProcessGroup":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def wait(
        self,
        signals: SignalRecorder,
        grace_seconds: float,
        watch: Callable[[], bool] | None = None,
    ) -> GroupResult:
        """Until every required child has ended (signals forwarded, `watch` polled)."""
        _wait_for_required(self.children, signals, grace_seconds, self.result, watch)
        return self.result

    def running(self, name: str) -> bool:
        return any(c.running for c in self.children if c.outcome.spec.name == name)

    def stop(self) -> None:
        """Stop whatever still runs (helpers) and collect the rest of the output."""
        _stop_helpers(self.children)
        deadline = time.monotonic() + DRAIN_SECONDS
        for child in self.children:
            child.drain(deadline)


def run_processes(
    specs: Sequence[ProcessSpec], signals: SignalRecorder, grace_seconds: float
) -> GroupResult:
    """Start every spec, wait for the required ones, stop the rest; never leave a child behind."""
    with ProcessGroup(specs) as group:
        return group.wait(signals, grace_seconds)


def _wait_for_required(
    children: list[_Child],
    signals: SignalRecorder,
    grace_seconds: float,
    result: GroupResult,
    watch: Callable[[], bool] | None = None,
) -> None:
    selector = selectors.DefaultSelector()
    selector.register(signals.fileno(), selectors.EVENT_READ, None)
    polling = False
    for child in children:
        if child.pidfd is None:
            polling = True
        else:
            selector.register(child.pidfd, selectors.EVENT_READ, child)
    forwarded = 0
    kill_at: float | None = None
    try:
        while any(c.running for c in children if c.outcome.spec.required):
            timeout = POLL_SECONDS if polling else None
            if watch is not None:
                timeout = WATCH_SECONDS if timeout is None else min(timeout, WATCH_SECONDS)
            if kill_at is not None:
                remaining = max(0.0, kill_at - time.monotonic())
                timeout = remaining if timeout is None else min(timeout, remaining)
            for key, _ in selector.select(timeout):
                if key.data is None:
                    signals.drain()
                elif key.data.reap():
                    selector.unregister(key.fd)
            if polling:
                for child in children:
                    if child.running and child.pidfd is None:
                        child.reap()
            if watch is not None and not result.stopped_by_watch and watch():
                result.stopped_by_watch = True
                for child in children:
                    if child.running:
                        child.signal_group(signal.SIGTERM)
                if kill_at is None:
                    kill_at = time.monotonic() + grace_seconds
            while forwarded < len(signals.received):
                signum = signals.received[forwarded]
                forwarded += 1
                result.stop_signal = result.stop_signal or signum
                for child in children:
                    if child.running:
                        child.signal_group(signum)
                if kill_at is None:
                    kill_at = time.monotonic() + grace_seconds
            if kill_at is not None and time.monotonic() >= kill_at:
                result.killed_after_grace = True
                kill_at = None
                for child in children:
                    if child.running:
                        child.signal_group(signal.SIGKILL)
    finally:
        selector.close()


def _stop_helpers(children: list[_Child]) -> None:
    helpers = [c for c in children if c.running]
    for child in helpers:
        child.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + HELPER_STOP_SECONDS
    for child in helpers:
        try:
            child.popen.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.signal_group(signal.SIGKILL)
            child.popen.wait()
        child.reap()
