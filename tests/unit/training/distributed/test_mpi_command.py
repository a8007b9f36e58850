"""The mpirun command line (training.md §13.4), rank commands and log-tag rewriting."""

import pytest

from sagemaker_tensorflow_runtime.training.distributed.mpi_command import (
    MpiLayout,
    mpi_layout,
    mpirun_command,
    processes_per_host,
    rank_command,
    rank_tag_rewriter,
    split_custom_options,
)
from sagemaker_tensorflow_runtime.training.entrypoint import EntryPoint

LIB = "/root/.cache/sagemaker-tensorflow-runtime/libsmgethostname.so"
SPEC_EXAMPLE = (
    "mpirun --host algo-1:2,algo-2:2 -np 4 "
    "--allow-run-as-root --display-map --tag-output "
    "-mca btl_tcp_if_include eth0 -mca oob_tcp_if_include eth0 -mca plm_rsh_no_tree_spawn 1 "
    "-bind-to none -map-by slot -mca pml ob1 -mca btl ^openib "
    "-mca orte_abort_on_non_zero_status 1 -mca btl_vader_single_copy_mechanism none "
    "-x NCCL_MIN_NRINGS=4 -x NCCL_SOCKET_IFNAME=eth0 -x NCCL_DEBUG=INFO "
    f"-x LD_LIBRARY_PATH -x PATH -x LD_PRELOAD={LIB} "
    "-x SM_HOSTS -x SM_CURRENT_HOST -x PYTHONPATH "
    "/usr/bin/python3 -m mpi4py train.py --epochs 10"
).split(" ")


def command(
    hosts=("algo-1", "algo-2"),
    per_host=2,
    total=None,
    custom="",
    instance_type="ml.c5.xlarge",
    environ=None,
    interface="eth0",
):
    layout = MpiLayout(hosts, per_host, total or per_host * len(hosts))
    return mpirun_command(
        layout,
        interface=interface,
        custom_options=custom,
        instance_type=instance_type,
        gethostname_library=LIB,
        exported=["SM_HOSTS", "SM_CURRENT_HOST", "PYTHONPATH"],
        environ=environ or {},
        rank_argv=["/usr/bin/python3", "-m", "mpi4py", "train.py", "--epochs", "10"],
    )


def test_the_spec_example_exactly():
    assert command() == SPEC_EXAMPLE


def test_one_process_per_host_lists_bare_hosts():
    argv = command(per_host=1)
    assert argv[:5] == ["mpirun", "--host", "algo-1,algo-2", "-np", "2"]


def test_single_host_with_eight_gpus():
    argv = command(hosts=("algo-1",), per_host=8)
    assert argv[:5] == ["mpirun", "--host", "algo-1:8", "-np", "8"]


def test_interface_name_is_used_everywhere():
    argv = " ".join(command(interface="ethwe"))
    assert "-mca btl_tcp_if_include ethwe -mca oob_tcp_if_include ethwe" in argv
    assert "-x NCCL_SOCKET_IFNAME=ethwe" in argv


def test_custom_options_verbatim_and_nccl_debug_taken_out():
    argv = command(custom="--NCCL_DEBUG WARN -x MY_VAR=1  --verbose")
    lib_index = argv.index(f"LD_PRELOAD={LIB}")
    assert "NCCL_DEBUG=WARN" in argv
    assert argv[lib_index + 1 : lib_index + 5] == ["-x", "MY_VAR=1", "--verbose", "-x"]
    assert "--NCCL_DEBUG" not in argv


@pytest.mark.parametrize(
    ("custom", "nccl_debug", "rest"),
    [
        ("", "INFO", []),
        ("--NCCL_DEBUG=TRACE", "TRACE", []),
        ("-mca a b --NCCL_DEBUG VERSION", "VERSION", ["-mca", "a", "b"]),
    ],
)
def test_split_custom_options(custom, nccl_debug, rest):
    assert split_custom_options(custom) == (nccl_debug, rest)


# (instance type, EFA options expected right after the custom options)
EFA = [
    ("ml.c5.xlarge", []),
    ("local", []),
    ("ml.g4dn.12xlarge", ["-x", "FI_PROVIDER=efa", "-x", "NCCL_PROTO=simple"]),
    ("ml.p3dn.24xlarge", ["-x", "FI_PROVIDER=efa", "-x", "NCCL_PROTO=simple"]),
    (
        "ml.p4d.24xlarge",
        ["-x", "FI_PROVIDER=efa", "-x", "NCCL_PROTO=simple", "-x", "FI_EFA_USE_DEVICE_RDMA=1"],
    ),
    (
        "ml.p5e.48xlarge",
        ["-x", "FI_PROVIDER=efa", "-x", "NCCL_PROTO=simple", "-x", "FI_EFA_USE_DEVICE_RDMA=1"],
    ),
    (
        "ml.p6e-gb200.36xlarge",
        ["-x", "FI_PROVIDER=efa", "-x", "NCCL_PROTO=simple", "-x", "FI_EFA_USE_DEVICE_RDMA=1"],
    ),
    (
        "ml.trn1.32xlarge",
        ["-x", "FI_PROVIDER=efa", "-x", "NCCL_PROTO=simple", "-x", "FI_EFA_USE_DEVICE_RDMA=1"],
    ),
]


@pytest.mark.parametrize(("instance_type", "efa"), EFA)
def test_efa_options_by_instance_type(instance_type, efa):
    argv = command(instance_type=instance_type, custom="--custom")
    start = argv.index("--custom") + 1
    assert argv[start : start + len(efa) + 2] == [*efa, "-x", "SM_HOSTS"]


def test_credentials_exported_only_when_set():
    argv = command(environ={"AWS_ACCESS_KEY_ID": "a", "AWS_SESSION_TOKEN": "t"})
    start = argv.index(f"LD_PRELOAD={LIB}") + 1
    assert argv[start : start + 6] == [
        "-x",
        "AWS_ACCESS_KEY_ID",
        "-x",
        "AWS_SESSION_TOKEN",
        "-x",
        "SM_HOSTS",
    ]


@pytest.mark.parametrize(
    ("params", "gpus", "neurons", "expected"),
    [
        ({}, 0, 0, 1),
        ({}, 8, 0, 8),
        ({}, 0, 32, 32),
        ({"sagemaker_mpi_num_of_processes_per_host": 2}, 8, 0, 2),
        ({"sagemaker_mpi_num_of_processes_per_host": "3"}, 0, 0, 3),
    ],
)
def test_processes_per_host(params, gpus, neurons, expected):
    assert processes_per_host(params, gpus, neurons) == expected


def test_num_processes_hyperparameter_wins():
    layout = mpi_layout(("a", "b"), {"sagemaker_mpi_num_processes": 3}, 2, 0)
    assert layout == MpiLayout(("a", "b"), 2, 3)


def test_rank_commands(tmp_path):
    (tmp_path / "train.py").write_text("")
    assert rank_command(EntryPoint("train.py", tmp_path), ["--a", "1"], "/py") == [
        "/py",
        "-m",
        "mpi4py",
        "train.py",
        "--a",
        "1",
    ]
    (tmp_path / "setup.py").write_text("")
    assert rank_command(EntryPoint("trainer.py", tmp_path), [], "/py") == [
        "/py",
        "-m",
        "mpi4py",
        "-m",
        "trainer",
    ]
    (tmp_path / "run.sh").write_text("#!/bin/sh\n")
    assert rank_command(EntryPoint("run.sh", tmp_path), ["x y"], "/py") == ["./run.sh", "x y"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"[1,0]<stdout>:hello", b"[1,mpirank:0,algo-1]<stdout>:hello"),
        (b"[1,1]<stderr>:oops: [2,3]", b"[1,mpirank:1,algo-1]<stderr>:oops: [2,3]"),
        (b"[1,2]<stdout>:", b"[1,mpirank:2,algo-2]<stdout>:"),
        (b"[12,3]<stdout>:x", b"[12,mpirank:3,algo-2]<stdout>:x"),
        (b"[1,4]<stdout>:x", b"[1,mpirank:4,algo-3]<stdout>:x"),
        (b"Data for JOB [1234,1] offset 0", b"Data for JOB [1234,1] offset 0"),
        (b" [1,0]<stdout>:indented", b" [1,0]<stdout>:indented"),
    ],
)
def test_rank_tags_are_rewritten(line, expected):
    assert rank_tag_rewriter(("algo-1", "algo-2"), 2)(line) == expected


def test_chunk_tags_inside_a_line_are_dropped():
    line = b"[1,2]<stderr>:ZeroDivisionError[1,2]<stderr>:: [1,2]<stderr>:rank failed[1,2]<stderr>:"
    assert rank_tag_rewriter(("algo-1", "algo-2"), 2)(line) == (
        b"[1,mpirank:2,algo-2]<stderr>:ZeroDivisionError: rank failed"
    )
