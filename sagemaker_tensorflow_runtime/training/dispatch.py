"""Choosing the training mode and building its launch plan (training.md §11).

Modes are strategies tried top to bottom, as in the contract's dispatch table. A strategy may
only adjust the environment (MultiWorkerMirrored adds TF_CONFIG and lets the next row decide);
the first one that returns a plan wins. Distributed strategies plug in here.
"""

import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace

from sagemaker_tensorflow_runtime.container.environment import TrainingEnv, is_truthy
from sagemaker_tensorflow_runtime.container.process import ProcessSpec
from sagemaker_tensorflow_runtime.training.entrypoint import EntryPoint
from sagemaker_tensorflow_runtime.training.errors import UnsupportedModeError
from sagemaker_tensorflow_runtime.training.plan import LaunchPlan

logger = logging.getLogger(__name__)

MWMS_PORT = 8890


@dataclass(frozen=True)
class Job:
    """Everything a strategy needs to plan this host's processes."""

    env: TrainingEnv
    entry: EntryPoint
    process_env: dict[str, str]
    python: str = sys.executable

    def flag(self, name: str) -> bool:
        return is_truthy(self.env.additional_framework_parameters.get(name))

    @property
    def in_distribution(self) -> bool:
        return self.env.distribution.in_distribution

    def user_process(self) -> ProcessSpec:
        argv = self.entry.command(self.env.user_args, self.python)
        return ProcessSpec(argv=tuple(argv), env=self.process_env, cwd=self.entry.code_dir)


Strategy = Callable[[Job], "Job | LaunchPlan"]


def unsupported(mode: str, flag: str) -> UnsupportedModeError:
    return UnsupportedModeError(
        f"{mode} training ({flag}) is not available in this runtime version yet; "
        f"remove {flag} from the hyperparameters (or the estimator's distribution) "
        "to train on one process."
    )


def parameter_server(job: Job) -> "Job | LaunchPlan":
    if (
        job.flag("sagemaker_parameter_server_enabled")
        and job.in_distribution
        and len(job.env.distribution.hosts) > 1
    ):
        raise unsupported("Parameter-server", "sagemaker_parameter_server_enabled")
    return job


def mwms_tf_config(hosts: tuple[str, ...], current_host: str) -> str:
    return json.dumps(
        {
            "cluster": {"worker": [f"{h}:{MWMS_PORT}" for h in hosts]},
            "environment": "cloud",
            "task": {"index": hosts.index(current_host), "type": "worker"},
        }
    )


def multi_worker_mirrored(job: Job) -> "Job | LaunchPlan":
    if not (job.flag("sagemaker_multi_worker_mirrored_strategy_enabled") and job.in_distribution):
        return job
    logger.info("Running distributed training job with multi_worker_mirrored_strategy setup")
    tf_config = mwms_tf_config(job.env.distribution.hosts, job.env.current_host)
    return replace(job, process_env={**job.process_env, "TF_CONFIG": tf_config})


def mpi(job: Job) -> "Job | LaunchPlan":
    if job.flag("sagemaker_mpi_enabled") and job.in_distribution:
        raise unsupported("MPI/Horovod", "sagemaker_mpi_enabled")
    return job


def smdataparallel(job: Job) -> "Job | LaunchPlan":
    if job.flag("sagemaker_distributed_dataparallel_enabled") and job.in_distribution:
        raise unsupported("SMDataParallel", "sagemaker_distributed_dataparallel_enabled")
    return job


def single_process(job: Job) -> "Job | LaunchPlan":
    return LaunchPlan(mode="single", processes=(job.user_process(),))


STRATEGIES: tuple[Strategy, ...] = (
    parameter_server,
    multi_worker_mirrored,
    mpi,
    smdataparallel,
    single_process,
)


def plan_job(job: Job) -> LaunchPlan:
    current: Job | LaunchPlan = job
    for strategy in STRATEGIES:
        assert isinstance(current, Job)
        current = strategy(current)
        if isinstance(current, LaunchPlan):
            return current
    raise AssertionError("single_process always returns a plan")
