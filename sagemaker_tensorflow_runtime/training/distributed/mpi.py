"""MPI/Horovod jobs (training.md §13.4): the plan of the master and of a worker host."""

from dataclasses import dataclass

from sagemaker_tensorflow_runtime.container.environment import TrainingEnv
from sagemaker_tensorflow_runtime.container.process import ProcessSpec
from sagemaker_tensorflow_runtime.training.distributed.mpi_command import (
    mpi_layout,
    mpirun_command,
    rank_command,
    rank_tag_rewriter,
)
from sagemaker_tensorflow_runtime.training.distributed.mpi_hosts import (
    MpiHostSettings,
    MpiMaster,
    MpiWorker,
)
from sagemaker_tensorflow_runtime.training.distributed.options import DistributedOptions
from sagemaker_tensorflow_runtime.training.entrypoint import EntryPoint
from sagemaker_tensorflow_runtime.training.plan import LaunchPlan


@dataclass(frozen=True)
class MpiJob:
    """The inputs of an MPI plan."""

    env: TrainingEnv
    entry: EntryPoint
    process_env: dict[str, str]
    exported: tuple[str, ...]
    options: DistributedOptions
    python: str


def exported_variables(names: tuple[str, ...], process_env: dict[str, str]) -> list[str]:
    """The runtime's variables for `-x`: TF_CONFIG when set, PYTHONPATH last (as the reference)."""
    ordered = [n for n in names if n != "PYTHONPATH"]
    if "TF_CONFIG" in process_env and "TF_CONFIG" not in ordered:
        ordered.append("TF_CONFIG")
    return [*ordered, "PYTHONPATH"] if "PYTHONPATH" in names else ordered


def mpi_plan(job: MpiJob) -> LaunchPlan:
    env = job.env
    hosts = env.distribution.hosts
    library = job.options.library()
    settings = MpiHostSettings(
        master=env.distribution.master_hostname,
        workers=tuple(h for h in hosts if h != env.distribution.master_hostname),
        sshd=job.options.sshd,
        ssh_wait_seconds=job.options.ssh_wait_seconds,
        orted_wait_seconds=job.options.orted_wait_seconds,
        library=library,
        env=job.process_env,
    )
    if not env.distribution.is_master:
        return LaunchPlan(mode="mpi_worker", processes=(), driver=MpiWorker(settings))
    params = env.additional_framework_parameters
    layout = mpi_layout(hosts, params, env.resources.num_gpus, env.resources.num_neurons)
    custom = params.get("sagemaker_mpi_custom_mpi_options") or ""
    argv = mpirun_command(
        layout,
        interface=env.resource_config.network_interface_name,
        custom_options=str(custom),
        instance_type=env.resource_config.current_instance_type,
        gethostname_library=str(library),
        exported=exported_variables(job.exported, job.process_env),
        environ=job.process_env,
        rank_argv=rank_command(job.entry, env.user_args, job.python),
    )
    mpirun = ProcessSpec(
        argv=tuple(argv),
        env=job.process_env,
        cwd=job.entry.code_dir,
        name="mpirun",
        line_rewriter=rank_tag_rewriter(hosts, layout.processes_per_host),
    )
    return LaunchPlan(mode="mpi", processes=(mpirun,), driver=MpiMaster(settings))
