"""What the master and the worker hosts of an MPI/Horovod job do (training.md §13.4).

Master: start sshd, wait (bounded) until every worker's sshd answers, run mpirun, then write
the job's exit status into `/tmp/done.<master>` on every worker over ssh. Worker: write the
environment into /etc/environment, start sshd, wait for the master's sshd, then until the done
file appears (exit with the status it holds), failing with a clear error when mpirun never
starts its ranks here (`orted`) within the bound or the master goes away without an outcome.
"""

import logging
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sagemaker_tensorflow_runtime.container.signals import SignalRecorder, signal_name
from sagemaker_tensorflow_runtime.training.distributed.hostname import (
    LibraryBuildError,
    ensure_library,
)
from sagemaker_tensorflow_runtime.training.distributed.probe import (
    WaitInterrupted,
    WaitTimeout,
    pause,
    port_open,
    wait_until,
)
from sagemaker_tensorflow_runtime.training.distributed.sshd import SSH_PORT, SshDaemon, SshdError
from sagemaker_tensorflow_runtime.training.errors import PlatformError, UserError
from sagemaker_tensorflow_runtime.training.plan import LaunchPlan
from sagemaker_tensorflow_runtime.training.supervise import raise_for_failures, started

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
FIRST_POLL_SECONDS = 0.05  # SSH waits poll this often during their first 30 s
NOTIFY_ATTEMPTS = 6  # the first try and up to 5 retries, 1 s apart
NOTIFY_TIMEOUT_SECONDS = 30.0
ENVIRONMENT_FILE = Path("/etc/environment")
ENVIRONMENT_BEGIN = "# sagemaker-tensorflow-runtime: begin"
ENVIRONMENT_END = "# sagemaker-tensorflow-runtime: end"
DAEMON_NAMES = ("orted", "prted")


class MpiJobFailed(UserError):
    """The MPI job failed elsewhere (on the master, or the master went away)."""


class StoppedWhileWaiting(UserError):
    """SIGTERM/SIGINT arrived while this host waited for the others."""


def done_file(master: str) -> Path:
    return Path(f"/tmp/done.{master}")


@dataclass(frozen=True)
class MpiHostSettings:
    """What both roles need besides the plan."""

    master: str
    workers: tuple[str, ...]
    sshd: str
    ssh_wait_seconds: float
    orted_wait_seconds: float
    library: Path
    env: Mapping[str, str] = field(repr=False)

    def build_library(self) -> None:
        try:
            ensure_library(self.library, self.env.get("PATH"))
        except LibraryBuildError as exc:
            raise PlatformError(str(exc)) from None


def _stopped(signals: SignalRecorder, waiting_for: str) -> StoppedWhileWaiting:
    name = signal_name(signals.first) if signals.first else "a signal"
    return StoppedWhileWaiting(f"Training stopped by {name} while waiting for {waiting_for}.")


@dataclass(frozen=True)
class MpiMaster:
    """The master host: sshd, wait for the workers, mpirun, tell the workers the outcome."""

    settings: MpiHostSettings

    def __call__(self, plan: LaunchPlan, signals: SignalRecorder, grace_seconds: float) -> None:
        s = self.settings
        s.build_library()
        try:
            with SshDaemon(s.sshd, s.env) as sshd:
                self._wait_for_workers(signals)
                sshd.check()
                with started(plan) as group:
                    result = group.wait(signals, grace_seconds)
                exit_code = next((o.returncode for o in result.required if o.returncode), 0)
                self._notify_workers(exit_code or 0)
        except SshdError as exc:
            raise PlatformError(str(exc)) from None
        raise_for_failures(plan, result, grace_seconds)

    def _wait_for_workers(self, signals: SignalRecorder) -> None:
        s = self.settings
        pending = list(s.workers)

        def all_answer() -> bool:
            pending[:] = [h for h in pending if not port_open(h, SSH_PORT)]
            return not pending

        try:
            wait_until(
                all_answer,
                timeout=s.ssh_wait_seconds,
                interval=POLL_SECONDS,
                first_interval=FIRST_POLL_SECONDS,
                signals=signals,
                failure="",
            )
        except WaitTimeout:
            raise PlatformError(
                f"Worker hosts {', '.join(pending)} did not accept SSH connections on port "
                f"{SSH_PORT} within {s.ssh_wait_seconds:g} s (SAGEMAKER_SSH_WAIT_SECONDS), so "
                "mpirun cannot start the job. Check that every host started and runs sshd."
            ) from None
        except WaitInterrupted:
            raise _stopped(signals, "the worker hosts' sshd") from None
        logger.info("Worker hosts %s accept SSH connections", ", ".join(s.workers) or "(none)")

    def _notify_workers(self, exit_code: int) -> None:
        path = str(done_file(self.settings.master))
        for host in self.settings.workers:
            for attempt in range(NOTIFY_ATTEMPTS):
                if _ssh_write(host, path, f"{exit_code}\n", self.settings.env):
                    break
                if attempt + 1 < NOTIFY_ATTEMPTS:
                    pause(None, POLL_SECONDS)
            else:
                logger.warning("Could not tell %s that the job ended (ssh failed)", host)


def _ssh_write(host: str, path: str, text: str, env: Mapping[str, str]) -> bool:
    try:
        done = subprocess.run(
            ["ssh", host, "tee", path],
            input=text.encode(),
            stdout=subprocess.DEVNULL,
            env=dict(env),
            timeout=NOTIFY_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@dataclass(frozen=True)
class MpiWorker:
    """A worker host: ranks arrive through sshd; this host reports the job's outcome."""

    settings: MpiHostSettings
    environment_file: Path = ENVIRONMENT_FILE

    def __call__(self, plan: LaunchPlan, signals: SignalRecorder, grace_seconds: float) -> None:
        s = self.settings
        s.build_library()
        marker = done_file(s.master)
        marker.unlink(missing_ok=True)
        try:
            write_environment_file(self.environment_file, s.env)
            # sshd first, then the wait for the master: the master can launch as soon as both
            # daemons answer, instead of after a chain of waits.
            with SshDaemon(s.sshd, s.env) as sshd:
                wait_until(
                    lambda: port_open(s.master, SSH_PORT),
                    timeout=s.ssh_wait_seconds,
                    interval=POLL_SECONDS,
                    first_interval=FIRST_POLL_SECONDS,
                    signals=signals,
                    failure=(
                        f"The master host {s.master} did not accept SSH connections on port "
                        f"{SSH_PORT} within {s.ssh_wait_seconds:g} s (SAGEMAKER_SSH_WAIT_SECONDS)."
                    ),
                )
                exit_code = self._wait_for_outcome(sshd, marker, signals)
        except WaitTimeout as exc:
            raise PlatformError(str(exc)) from None
        except WaitInterrupted:
            raise _stopped(signals, "the MPI job to finish") from None
        except SshdError as exc:
            raise PlatformError(str(exc)) from None
        logger.info("MPI process finished.")
        if exit_code != 0:
            raise MpiJobFailed(
                f"The MPI job failed: mpirun on the master host {s.master} exited with code "
                f"{exit_code}. The master's output/failure file names the failing rank's error."
            )

    def _wait_for_outcome(self, sshd: SshDaemon, marker: Path, signals: SignalRecorder) -> int:
        s = self.settings
        deadline = time.monotonic() + s.orted_wait_seconds
        seen_ranks = False
        while True:
            exit_code = read_done_file(marker)
            if exit_code is not None:
                return exit_code
            sshd.check()
            if mpi_daemon_running():
                if not seen_ranks:
                    logger.info("mpirun started this host's ranks")
                seen_ranks = True
            if not port_open(s.master, SSH_PORT):
                exit_code = read_done_file(marker)
                if exit_code is not None:
                    return exit_code
                raise MpiJobFailed(
                    f"The master host {s.master} became unreachable before it reported how "
                    "the MPI job ended; this host fails too. Check the master's log."
                )
            if not seen_ranks and time.monotonic() > deadline:
                raise WaitTimeout(
                    f"mpirun did not start any rank on this host (no orted process) within "
                    f"{s.orted_wait_seconds:g} s (SAGEMAKER_ORTED_WAIT_SECONDS); the master "
                    f"{s.master} may have failed before launching the job."
                )
            pause(signals, POLL_SECONDS)


def read_done_file(path: Path) -> int | None:
    """The job's exit status from the done file; an empty file (the reference's) means 0."""
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    try:
        return int(text) if text else 0
    except ValueError:
        return 1


def mpi_daemon_running(proc: Path = Path("/proc")) -> bool:
    """Whether a live (not zombie) orted/prted process exists on this host."""
    for stat in proc.glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.find("(") + 1 : text.rfind(")")]
        state = text[text.rfind(")") + 2 : text.rfind(")") + 3]
        if name in DAEMON_NAMES and state != "Z":
            return True
    return False


def write_environment_file(path: Path, env: Mapping[str, str]) -> None:
    """Put `NAME=value` lines in /etc/environment, so sessions sshd starts see the job's env.

    Our block replaces the one an earlier run wrote; values with newlines cannot be expressed
    there and are left out.
    """
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        lines = []
    if ENVIRONMENT_BEGIN in lines and ENVIRONMENT_END in lines:
        start, end = lines.index(ENVIRONMENT_BEGIN), lines.index(ENVIRONMENT_END)
        lines = lines[:start] + lines[end + 1 :]
    block = [f"{k}={v}" for k, v in env.items() if "\n" not in v and "=" not in k]
    text = "\n".join([*lines, ENVIRONMENT_BEGIN, *block, ENVIRONMENT_END]) + "\n"
    path.write_text(text)  # in place: /etc/environment may be a bind mount
