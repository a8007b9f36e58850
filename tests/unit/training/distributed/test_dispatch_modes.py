"""Which plan each host gets (training.md §11), built from real config trees."""

import json
from pathlib import Path

import pytest

from sagemaker_tensorflow_runtime.container.config import load_job_config
from sagemaker_tensorflow_runtime.container.paths import Paths
from sagemaker_tensorflow_runtime.container.resources import HostResources
from sagemaker_tensorflow_runtime.training.dispatch import Job, plan_job
from sagemaker_tensorflow_runtime.training.distributed.mpi_hosts import MpiMaster, MpiWorker
from sagemaker_tensorflow_runtime.training.distributed.options import DistributedOptions
from sagemaker_tensorflow_runtime.training.distributed.parameter_server import (
    ParameterServerHost,
)
from sagemaker_tensorflow_runtime.training.entrypoint import EntryPoint
from sagemaker_tensorflow_runtime.training.errors import UnsupportedModeError
from sagemaker_tensorflow_runtime.training.job import build_job_env
from sagemaker_tensorflow_runtime.training.process_env import runtime_variables
from sagemaker_tensorflow_runtime.training.settings import TrainSettings

LIB = Path("/cache/libsmgethostname.so")


def make_job(tmp_path, flags, current="algo-1", hosts=("algo-1", "algo-2"), gpus=0, **rc):
    paths = Paths(tmp_path)
    paths.input_config_dir.mkdir(parents=True)
    hps = {"sagemaker_program": '"train.py"', "epochs": "10"}
    hps.update({k: json.dumps(v) for k, v in flags.items()})
    paths.hyperparameters_file.write_text(json.dumps(hps))
    resource = {"current_host": current, "hosts": list(hosts), **rc}
    paths.resource_config_file.write_text(json.dumps(resource))
    paths.code_dir.mkdir()
    (paths.code_dir / "train.py").write_text("")
    env = build_job_env(
        paths,
        load_job_config(paths),
        TrainSettings.from_environ({}),
        HostResources(num_cpus=2, num_gpus=gpus, num_neurons=0),
    )
    added = runtime_variables(env, "", {})
    process_env = {"PATH": "/usr/bin", **added, "PYTHONUNBUFFERED": "1"}
    return Job(
        env=env,
        entry=EntryPoint("train.py", paths.code_dir),
        process_env=process_env,
        python="/py",
        exported=(*added, "PYTHONUNBUFFERED"),
        options=DistributedOptions(gethostname_library=LIB),
    )


def test_no_flags_runs_one_process(tmp_path):
    plan = plan_job(make_job(tmp_path, {}))
    assert plan.mode == "single"
    assert plan.processes[0].argv == ("/py", "train.py", "--epochs", "10")
    assert "TF_CONFIG" not in plan.processes[0].env


def test_parameter_server_on_two_hosts(tmp_path):
    plan = plan_job(make_job(tmp_path, {"sagemaker_parameter_server_enabled": True}, "algo-2"))

    ps, worker = plan.processes
    assert plan.mode == "parameter_server"
    assert isinstance(plan.driver, ParameterServerHost)
    assert (ps.required, worker.required) == (False, True)
    assert ps.argv == ("/py", "-m", "sagemaker_tensorflow_runtime.training.distributed.ps_server")
    assert ps.env["CUDA_VISIBLE_DEVICES"] == ""
    assert json.loads(ps.env["TF_CONFIG"])["task"] == {"index": 1, "type": "ps"}
    assert "CUDA_VISIBLE_DEVICES" not in worker.env
    assert worker.env["TF_CONFIG"] == (
        '{"cluster": {"master": ["algo-1:2222"], "ps": ["algo-1:2223", "algo-2:2223"], '
        '"worker": ["algo-2:2222"]}, "environment": "cloud", '
        '"task": {"index": 0, "type": "worker"}}'
    )
    assert worker.argv == ("/py", "train.py", "--epochs", "10")


def test_parameter_server_on_one_host_falls_through(tmp_path):
    job = make_job(tmp_path, {"sagemaker_parameter_server_enabled": True}, hosts=("algo-1",))
    assert plan_job(job).mode == "single"


def test_parameter_server_on_a_host_outside_distribution_runs_single(tmp_path):
    groups = [
        {"instance_group_name": "train", "instance_type": "ml.c5.xlarge", "hosts": ["algo-1"]},
        {"instance_group_name": "other", "instance_type": "ml.c5.xlarge", "hosts": ["algo-2"]},
    ]
    job = make_job(
        tmp_path,
        {
            "sagemaker_parameter_server_enabled": True,
            "sagemaker_distribution_instance_groups": ["train"],
        },
        current="algo-2",
        current_group_name="other",
        instance_groups=groups,
    )
    assert plan_job(job).mode == "single"


def test_multi_worker_mirrored_sets_tf_config_on_one_process(tmp_path):
    flags = {"sagemaker_multi_worker_mirrored_strategy_enabled": True}
    plan = plan_job(make_job(tmp_path, flags, "algo-2"))

    (process,) = plan.processes
    assert plan.mode == "single"
    assert process.env["TF_CONFIG"] == (
        '{"cluster": {"worker": ["algo-1:8890", "algo-2:8890"]}, "environment": "cloud", '
        '"task": {"index": 1, "type": "worker"}}'
    )


def mpirun_argv(tmp_path, gpus=0, flags=(), **rc):
    job = make_job(tmp_path, {"sagemaker_mpi_enabled": True, **dict(flags)}, gpus=gpus, **rc)
    plan = plan_job(job)
    assert plan.mode == "mpi"
    assert isinstance(plan.driver, MpiMaster)
    (mpirun,) = plan.processes
    return list(mpirun.argv)


def test_mpi_master_exports_every_added_variable_and_pythonpath_last(tmp_path):
    argv = mpirun_argv(tmp_path)

    assert argv[:5] == ["mpirun", "--host", "algo-1,algo-2", "-np", "2"]
    assert f"LD_PRELOAD={LIB}" in argv
    exported = [argv[i + 1] for i, a in enumerate(argv) if a == "-x"]
    assert exported[-2:] == ["PYTHONUNBUFFERED", "PYTHONPATH"]
    for name in (
        "SM_HOSTS",
        "SM_CURRENT_HOST",
        "SM_TRAINING_ENV",
        "CURRENT_HOST",
        "SAGEMAKER_REGION",
    ):
        assert name in exported
    assert argv[-6:] == ["/py", "-m", "mpi4py", "train.py", "--epochs", "10"]


def test_mpi_faked_gpu_hosts_get_one_process_per_gpu(tmp_path):
    argv = mpirun_argv(tmp_path, gpus=8, current_instance_type="ml.p4d.24xlarge")

    assert argv[:5] == ["mpirun", "--host", "algo-1:8,algo-2:8", "-np", "16"]
    start = argv.index(f"LD_PRELOAD={LIB}") + 1
    assert argv[start : start + 6] == [
        "-x",
        "FI_PROVIDER=efa",
        "-x",
        "NCCL_PROTO=simple",
        "-x",
        "FI_EFA_USE_DEVICE_RDMA=1",
    ]


def test_mpi_processes_per_host_hyperparameter_and_custom_options(tmp_path):
    flags = {
        "sagemaker_mpi_num_of_processes_per_host": 2,
        "sagemaker_mpi_custom_mpi_options": "--NCCL_DEBUG WARN -verbose",
    }
    argv = mpirun_argv(tmp_path, gpus=8, flags=flags, current_instance_type="ml.g4dn.12xlarge")

    assert argv[:5] == ["mpirun", "--host", "algo-1:2,algo-2:2", "-np", "4"]
    start = argv.index(f"LD_PRELOAD={LIB}") + 1
    assert argv[start : start + 5] == [
        "-verbose",
        "-x",
        "FI_PROVIDER=efa",
        "-x",
        "NCCL_PROTO=simple",
    ]
    assert "NCCL_DEBUG=WARN" in argv


def test_mpi_with_mwms_exports_tf_config(tmp_path):
    flags = {"sagemaker_multi_worker_mirrored_strategy_enabled": True}
    argv = mpirun_argv(tmp_path, flags=flags)
    exported = [argv[i + 1] for i, a in enumerate(argv) if a == "-x"]
    assert exported[-3:] == ["PYTHONUNBUFFERED", "TF_CONFIG", "PYTHONPATH"]


def test_mpi_worker_runs_no_process_itself(tmp_path):
    plan = plan_job(make_job(tmp_path, {"sagemaker_mpi_enabled": True}, current="algo-2"))
    assert plan.mode == "mpi_worker"
    assert plan.processes == ()
    assert isinstance(plan.driver, MpiWorker)


def test_smdataparallel_is_rejected_with_a_clear_message(tmp_path):
    with pytest.raises(UnsupportedModeError, match="Use Horovod instead"):
        plan_job(make_job(tmp_path, {"sagemaker_distributed_dataparallel_enabled": True}))
