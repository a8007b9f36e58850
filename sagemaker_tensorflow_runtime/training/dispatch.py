"""Choosing the training mode and building its launch plan (training.md §11).

Modes are strategies tried top to bottom, as in the contract's dispatch table. A strategy may
only adjust the environment (MultiWorkerMirrored adds TF_CONFIG and lets the next row decide);
the first one that returns a plan wins. The distributed modes live in `training/distributed/`.
"""

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sagemaker_tensorflow_runtime.container.environment import TrainingEnv, is_truthy
from sagemaker_tensorflow_runtime.container.process import ProcessSpec
from sagemaker_tensorflow_runtime.training.distributed.options import DistributedOptions
from sagemaker_tensorflow_runtime.training.distributed.tf_config import mwms_tf_config
from sagemaker_tensorflow_runtime.training.entrypoint import EntryPoint
from sagemaker_tensorflow_runtime.training.errors import UnsupportedModeError
from sagemaker_tensorflow_runtime.training.plan import LaunchPlan

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """Everything a strategy needs to plan this host's processes."""

    env: TrainingEnv
    entry: EntryPoint
    process_env: dict[str, str]
    python: str = sys.executable
    # Names of the variables the runtime added (exported to MPI ranks with `-x`).
    exported: tuple[str, ...] = ()
    options: DistributedOptions = field(default_factory=DistributedOptions)

    def flag(self, name: str) -> bool:
        return is_truthy(self.env.additional_framework_parameters.get(name))

    @property
    def in_distribution(self) -> bool:
        return self.env.distribution.in_distribution

    def user_process(self) -> ProcessSpec:
        argv = self.entry.command(self.env.user_args, self.python)
        return ProcessSpec(argv=tuple(argv), env=self.process_env, cwd=self.entry.code_dir)


Strategy = Callable[[Job], "Job | LaunchPlan"]


def parameter_server(job: Job) -> "Job | LaunchPlan":
    hosts = job.env.distribution.hosts
    if not (job.flag("sagemaker_parameter_server_enabled") and job.in_distribution):
        return job
    if len(hosts) < 2:
        return job
    from sagemaker_tensorflow_runtime.training.distributed.parameter_server import ps_plan

    user = job.user_process()
    return ps_plan(hosts, job.env.current_host, user, job.options.master_probe_seconds, job.python)


def multi_worker_mirrored(job: Job) -> "Job | LaunchPlan":
    if not (job.flag("sagemaker_multi_worker_mirrored_strategy_enabled") and job.in_distribution):
        return job
    logger.info("Running distributed training job with multi_worker_mirrored_strategy setup")
    tf_config = mwms_tf_config(job.env.distribution.hosts, job.env.current_host)
    return replace(job, process_env={**job.process_env, "TF_CONFIG": tf_config})


def mpi(job: Job) -> "Job | LaunchPlan":
    if not (job.flag("sagemaker_mpi_enabled") and job.in_distribution):
        return job
    from sagemaker_tensorflow_runtime.training.distributed.mpi import MpiJob, mpi_plan

    return mpi_plan(
        MpiJob(job.env, job.entry, job.process_env, job.exported, job.options, job.python)
    )


def smdataparallel(job: Job) -> "Job | LaunchPlan":
    if job.flag("sagemaker_distributed_dataparallel_enabled") and job.in_distribution:
        raise UnsupportedModeError(
            "SMDataParallel training (sagemaker_distributed_dataparallel_enabled) is not "
            "supported by this runtime: the library is deprecated for TensorFlow. Use Horovod "
            "instead (distribution={'mpi': {'enabled': True}}), or remove the flag to train on "
            "one process."
        )
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
