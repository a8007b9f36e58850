"""The mpirun command line of an MPI/Horovod job (training.md §13.4), built as one argv list."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sagemaker_tensorflow_runtime.training.entrypoint import EntryPoint, EntryPointType

DEFAULT_NCCL_DEBUG = "INFO"

# Instance types with EFA (sagemaker-training 5.x list), and those that also get device RDMA.
EFA_INSTANCE_TYPES = frozenset(
    {
        "ml.g4dn.8xlarge",
        "ml.g4dn.12xlarge",
        "ml.g5.48xlarge",
        "ml.p3dn.24xlarge",
        "ml.p4d.24xlarge",
        "ml.p4de.24xlarge",
        "ml.p5.48xlarge",
        "ml.p5e.48xlarge",
        "ml.trn1.32xlarge",
        "ml.p6e-gb200.36xlarge",
    }
)
EFA_RDMA_INSTANCE_TYPES = frozenset(
    {
        "ml.p4d.24xlarge",
        "ml.p4de.24xlarge",
        "ml.p5.48xlarge",
        "ml.p5e.48xlarge",
        "ml.trn1.32xlarge",
        "ml.p6e-gb200.36xlarge",
    }
)
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


@dataclass(frozen=True)
class MpiLayout:
    """Where the ranks go: hosts, processes per host and in total."""

    hosts: tuple[str, ...]
    processes_per_host: int
    num_processes: int


def processes_per_host(params: Mapping[str, Any], num_gpus: int, num_neurons: int) -> int:
    """HP sagemaker_mpi_num_of_processes_per_host, else GPUs, else Neuron cores, else 1."""
    given = params.get("sagemaker_mpi_num_of_processes_per_host")
    if given is not None and given != "":
        return int(given)
    if num_gpus > 0:
        return num_gpus
    if num_neurons > 0:
        return num_neurons
    return 1


def mpi_layout(
    hosts: tuple[str, ...], params: Mapping[str, Any], num_gpus: int, num_neurons: int
) -> MpiLayout:
    per_host = processes_per_host(params, num_gpus, num_neurons)
    total = params.get("sagemaker_mpi_num_processes")
    num = int(total) if total is not None and total != "" else per_host * len(hosts)
    return MpiLayout(hosts, per_host, num)


def split_custom_options(custom: str) -> tuple[str, list[str]]:
    """(NCCL_DEBUG value, the other options): `--NCCL_DEBUG X` is taken out, as argparse did."""
    nccl_debug = DEFAULT_NCCL_DEBUG
    rest: list[str] = []
    words = custom.split()
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--NCCL_DEBUG" and i + 1 < len(words):
            nccl_debug = words[i + 1]
            i += 2
            continue
        if word.startswith("--NCCL_DEBUG="):
            nccl_debug = word.split("=", 1)[1]
        else:
            rest.append(word)
        i += 1
    return nccl_debug, rest


def rank_command(entry: EntryPoint, args: Sequence[str], python: str) -> list[str]:
    """Python entries run under `python -m mpi4py` so one rank's exception aborts them all."""
    kind = entry.kind
    if kind is EntryPointType.PROGRAM:
        return [python, "-m", "mpi4py", entry.name, *args]
    if kind is EntryPointType.PACKAGE:
        return [python, "-m", "mpi4py", "-m", entry.module_name, *args]
    return entry.command(list(args), python)


def mpirun_command(
    layout: MpiLayout,
    *,
    interface: str,
    custom_options: str,
    instance_type: str,
    gethostname_library: str,
    exported: Sequence[str],
    environ: Mapping[str, str],
    rank_argv: Sequence[str],
) -> list[str]:
    """The exact reference command; `exported` names the variables the runtime added."""
    per_host = layout.processes_per_host
    hosts = layout.hosts if per_host == 1 else tuple(f"{h}:{per_host}" for h in layout.hosts)
    nccl_debug, extra = split_custom_options(custom_options)
    command = ["mpirun", "--host", ",".join(hosts), "-np", str(layout.num_processes)]
    command += ["--allow-run-as-root", "--display-map", "--tag-output"]
    command += ["-mca", "btl_tcp_if_include", interface, "-mca", "oob_tcp_if_include", interface]
    command += ["-mca", "plm_rsh_no_tree_spawn", "1", "-bind-to", "none", "-map-by", "slot"]
    command += ["-mca", "pml", "ob1", "-mca", "btl", "^openib"]
    command += ["-mca", "orte_abort_on_non_zero_status", "1"]
    command += ["-mca", "btl_vader_single_copy_mechanism", "none"]
    command += ["-x", "NCCL_MIN_NRINGS=4", "-x", f"NCCL_SOCKET_IFNAME={interface}"]
    command += ["-x", f"NCCL_DEBUG={nccl_debug}"]
    command += ["-x", "LD_LIBRARY_PATH", "-x", "PATH", "-x", f"LD_PRELOAD={gethostname_library}"]
    command += extra
    if instance_type in EFA_INSTANCE_TYPES:
        command += ["-x", "FI_PROVIDER=efa", "-x", "NCCL_PROTO=simple"]
    if instance_type in EFA_RDMA_INSTANCE_TYPES:
        command += ["-x", "FI_EFA_USE_DEVICE_RDMA=1"]
    for name in CREDENTIAL_VARIABLES:
        if name in environ:
            command += ["-x", name]
    for name in exported:
        command += ["-x", name]
    return command + list(rank_argv)


_TAG = re.compile(rb"^\[(\d+),(\d+)\]<(stdout|stderr|stddiag)>:")


def rank_tag_rewriter(hosts: tuple[str, ...], processes_per_host: int) -> "TagRewriter":
    return TagRewriter(hosts, max(processes_per_host, 1))


@dataclass(frozen=True)
class TagRewriter:
    """`[J,R]<stdout>:` → `[J,mpirank:R,<host of rank R>]<stdout>:` (ranks are mapped by slot).

    mpirun tags every chunk a rank writes, so a line written in pieces (Python's traceback on
    an unbuffered stderr) arrives as `[1,2]<stderr>:ZeroDivisionError[1,2]<stderr>:: ...`;
    the repeated tags inside the line are dropped so the line reads as the rank wrote it.
    """

    hosts: tuple[str, ...]
    processes_per_host: int

    def __call__(self, line: bytes) -> bytes:
        match = _TAG.match(line)
        if match is None:
            return line
        job, rank, stream = match.group(1), int(match.group(2)), match.group(3)
        slot = rank // self.processes_per_host
        host = self.hosts[slot] if slot < len(self.hosts) else f"algo-{slot + 1}"
        tag = b"[%s,mpirank:%d,%s]<%s>:" % (job, rank, host.encode(), stream)
        return tag + line[match.end() :].replace(match.group(0), b"")
