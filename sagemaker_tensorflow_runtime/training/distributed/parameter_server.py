"""Parameter-server jobs (training.md §13.1, §13.2).

Every distribution host runs a CPU-only TensorFlow server for the `ps` job (a helper process)
and the user's script once, with the worker's TF_CONFIG. The master's `train` also serves the
job's outcome (see `outcome.py`). A worker host, once its script has exited 0, keeps its
parameter server up until the master is down (its PS may still hold the master's variables),
checking `<master>:2222` every `SAGEMAKER_MASTER_PROBE_SECONDS`. If the master fails, or goes
away without an outcome, the worker host stops its processes and fails too. The parameter
server is always terminated when the host is done; it never keeps the container alive.
"""

import logging
import sys
from dataclasses import dataclass, replace

from sagemaker_tensorflow_runtime.container.process import GroupResult, ProcessGroup, ProcessSpec
from sagemaker_tensorflow_runtime.container.signals import SignalRecorder
from sagemaker_tensorflow_runtime.training.distributed.outcome import MasterMonitor, OutcomeServer
from sagemaker_tensorflow_runtime.training.distributed.probe import (
    WaitInterrupted,
    pause,
    port_open,
)
from sagemaker_tensorflow_runtime.training.distributed.tf_config import WORKER_PORT, ps_tf_config
from sagemaker_tensorflow_runtime.training.errors import UserError
from sagemaker_tensorflow_runtime.training.plan import LaunchPlan
from sagemaker_tensorflow_runtime.training.supervise import raise_for_failures, started

logger = logging.getLogger(__name__)

PS_NAME = "parameter-server"
PS_MODULE = "sagemaker_tensorflow_runtime.training.distributed.ps_server"
MIN_LINGER_SECONDS = 60.0


class MasterFailedError(UserError):
    """The master host of a parameter-server job failed, so this worker host fails too."""


def ps_process(
    hosts: tuple[str, ...], current_host: str, base: ProcessSpec, python: str
) -> ProcessSpec:
    env = {
        **base.env,
        "TF_CONFIG": ps_tf_config(hosts, current_host, ps_task=True),
        "CUDA_VISIBLE_DEVICES": "",
    }
    return ProcessSpec(
        argv=(python, "-m", PS_MODULE),
        env=env,
        cwd=base.cwd,
        name=PS_NAME,
        required=False,
    )


def ps_plan(
    hosts: tuple[str, ...],
    current_host: str,
    user: ProcessSpec,
    probe_seconds: float,
    python: str = sys.executable,
) -> LaunchPlan:
    worker = replace(user, env={**user.env, "TF_CONFIG": ps_tf_config(hosts, current_host)})
    driver = ParameterServerHost(hosts, current_host, probe_seconds)
    return LaunchPlan(
        mode="parameter_server",
        processes=(ps_process(hosts, current_host, user, python), worker),
        driver=driver,
    )


@dataclass(frozen=True)
class ParameterServerHost:
    """Runs one host's share of a parameter-server job."""

    hosts: tuple[str, ...]
    current_host: str
    probe_seconds: float

    @property
    def master(self) -> str:
        return self.hosts[0]

    def __call__(self, plan: LaunchPlan, signals: SignalRecorder, grace_seconds: float) -> None:
        logger.info("Running distributed training job with parameter servers")
        if self.current_host == self.master:
            self._run_master(plan, signals, grace_seconds)
        else:
            self._run_worker(plan, signals, grace_seconds)

    def _run_master(self, plan: LaunchPlan, signals: SignalRecorder, grace: float) -> None:
        with OutcomeServer(self.hosts[1:]) as outcome:
            result = self._run_processes(plan, signals, grace)
            outcome.publish(_worker_exit_code(result))
            outcome.linger(max(MIN_LINGER_SECONDS, 3 * self.probe_seconds + 10), signals)
        raise_for_failures(plan, result, grace)

    def _run_worker(self, plan: LaunchPlan, signals: SignalRecorder, grace: float) -> None:
        with MasterMonitor(self.master, self.current_host, self.probe_seconds) as monitor:
            result = self._run_processes(plan, signals, grace, monitor)
        if result.stopped_by_watch:
            raise MasterFailedError(monitor.describe_failure())
        raise_for_failures(plan, result, grace)
        if monitor.exit_code != 0 and not result.stop_signal:
            raise MasterFailedError(monitor.describe_failure())

    def _run_processes(
        self,
        plan: LaunchPlan,
        signals: SignalRecorder,
        grace: float,
        monitor: MasterMonitor | None = None,
    ) -> GroupResult:
        logger.info("Launching parameter server process")
        logger.info("Launching worker process")
        with started(plan) as group:
            ps_watch = _PsWatch(group)
            if monitor is None:
                return group.wait(signals, grace, ps_watch)
            result = group.wait(signals, grace, lambda: ps_watch() or monitor.failed)
            if result.succeeded and not result.stopped_by_watch and not result.stop_signal:
                self._wait_for_master(monitor, signals)
            return result

    def _wait_for_master(self, monitor: MasterMonitor, signals: SignalRecorder) -> None:
        """Keep this host's parameter server up while the master still trains."""

        def master_up() -> bool:
            answering = monitor.exit_code is None and monitor.seen and monitor.missed == 0
            return port_open(self.master, WORKER_PORT) or answering

        try:
            while master_up() and not monitor.failed:
                logger.info("master %s is still up, waiting for it to exit", self.master)
                pause(signals, self.probe_seconds)
        except WaitInterrupted:
            return
        logger.info("master %s is down, stopping parameter server", self.master)
        if monitor.exit_code is None:
            monitor.refresh()  # the master lingers to tell us how it ended


class _PsWatch:
    """Logs (once) a parameter server that dies while the worker still runs; never stops."""

    def __init__(self, group: ProcessGroup) -> None:
        self.group = group
        self.reported = False

    def __call__(self) -> bool:
        if not self.reported and not self.group.running(PS_NAME):
            self.reported = True
            logger.error("The parameter server process exited before the worker finished")
        return False


def _worker_exit_code(result: GroupResult) -> int:
    codes = [o.returncode for o in result.required]
    return next((c for c in codes if c), 0) or 0
