"""Backend ports and command lines (serving.md §1, §3, §5.3), GPU hosts faked."""

import sys
from pathlib import Path

import pytest

from sagemaker_tensorflow_runtime.container.settings import SettingError
from sagemaker_tensorflow_runtime.serving.backend import (
    EMBEDDED_MODULE,
    PortRangeError,
    backend_instances,
    instance_ports,
)
from sagemaker_tensorflow_runtime.serving.settings import ServingSettings

CONFIG = Path("/sagemaker/model-config.cfg")
BATCHING = Path("/sagemaker/batching-config.cfg")


def settings(**env: str) -> ServingSettings:
    return ServingSettings.from_environ(env)


@pytest.mark.parametrize(
    ("env", "ports"),
    [
        ({}, [(9000, 8501)]),
        ({"SAGEMAKER_TFS_INSTANCE_COUNT": "3"}, [(9000, 8501), (9002, 8503), (9004, 8505)]),
        ({"SAGEMAKER_SAFE_PORT_RANGE": "20000-20010"}, [(20000, 20001)]),
        (
            {"SAGEMAKER_SAFE_PORT_RANGE": "20000-20010", "SAGEMAKER_TFS_INSTANCE_COUNT": "2"},
            [(20000, 20001), (20002, 20003)],
        ),
    ],
)
def test_ports(env: dict[str, str], ports: list[tuple[int, int]]) -> None:
    assert instance_ports(settings(**env)) == ports


def test_port_range_too_small() -> None:
    with pytest.raises(
        PortRangeError,
        match=r"not enough ports available in SAGEMAKER_SAFE_PORT_RANGE \(20000-20003\)",
    ):
        instance_ports(
            settings(SAGEMAKER_SAFE_PORT_RANGE="20000-20003", SAGEMAKER_TFS_INSTANCE_COUNT="2")
        )


def test_embedded_command_line_when_no_binary(tmp_path: Path) -> None:
    (instance,) = backend_instances(settings(), CONFIG, None, 0, {"PATH": str(tmp_path)})
    assert instance.argv == (
        sys.executable,
        "-m",
        EMBEDDED_MODULE,
        "--port=9000",
        "--rest_api_port=8501",
        "--model_config_file=/sagemaker/model-config.cfg",
        "--max_num_load_retries=0",
        "--rest_api_timeout_in_ms=60000",
    )
    assert instance.env == {}


def test_real_binary_on_path_with_every_flag(tmp_path: Path) -> None:
    binary = tmp_path / "tensorflow_model_server"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    env = settings(
        SAGEMAKER_TFS_INSTANCE_COUNT="2",
        SAGEMAKER_TFS_INTRA_OP_PARALLELISM="1",
        SAGEMAKER_TFS_INTER_OP_PARALLELISM="2",
        SAGEMAKER_GUNICORN_TIMEOUT_SECONDS="120",
    )
    instances = backend_instances(env, CONFIG, BATCHING, 4, {"PATH": str(tmp_path)})
    assert instances[1].argv == (
        str(binary),
        "--port=9002",
        "--rest_api_port=8503",
        "--model_config_file=/sagemaker/model-config.cfg",
        "--max_num_load_retries=0",
        "--rest_api_timeout_in_ms=120000",
        "--enable_batching=true",
        "--batching_parameters_file=/sagemaker/batching-config.cfg",
        "--tensorflow_intra_op_parallelism=1",
        "--tensorflow_inter_op_parallelism=2",
        "--per_process_gpu_memory_fraction=0.4",
    )
    assert [i.env for i in instances] == [
        {"CUDA_VISIBLE_DEVICES": "0"},
        {"CUDA_VISIBLE_DEVICES": "1"},
    ]


def test_gpu_sharing_by_instances_wraps_around_gpus(tmp_path: Path) -> None:
    env = settings(SAGEMAKER_TFS_INSTANCE_COUNT="3", SAGEMAKER_TFS_FRACTIONAL_GPU_MEM_MARGIN="0.1")
    instances = backend_instances(env, CONFIG, None, 2, {"PATH": str(tmp_path)})
    assert [i.env["CUDA_VISIBLE_DEVICES"] for i in instances] == ["0", "1", "0"]
    assert instances[0].argv[-1] == "--per_process_gpu_memory_fraction=0.3"


def test_one_gpu_one_instance_has_no_fraction_or_device_pinning(tmp_path: Path) -> None:
    (instance,) = backend_instances(settings(), CONFIG, None, 1, {"PATH": str(tmp_path)})
    assert not any("gpu_memory" in a for a in instance.argv)
    assert instance.env == {}


def test_configured_binary_path_wins() -> None:
    env = settings(SAGEMAKER_TFS_MODEL_SERVER="/usr/local/bin/tfs")
    (instance,) = backend_instances(env, CONFIG, None, 0, {"PATH": ""})
    assert instance.argv[0] == "/usr/local/bin/tfs"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"SAGEMAKER_TFS_ENABLE_BATCHING": "yes"},
            "SAGEMAKER_TFS_ENABLE_BATCHING must be 'true' or 'false'",
        ),
        ({"SAGEMAKER_MULTI_MODEL": "1"}, "SAGEMAKER_MULTI_MODEL must be 'true' or 'false'"),
        ({"SAGEMAKER_SAFE_PORT_RANGE": "9000"}, "SAGEMAKER_SAFE_PORT_RANGE must be 'low-high'"),
        ({"SAGEMAKER_TFS_INSTANCE_COUNT": "0"}, "SAGEMAKER_TFS_INSTANCE_COUNT must be at least 1"),
    ],
)
def test_bad_settings(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingError, match=message):
        settings(**env)


def test_batching_flag_case_insensitive_and_default_model_none() -> None:
    env = settings(SAGEMAKER_TFS_ENABLE_BATCHING="TRUE", SAGEMAKER_TFS_DEFAULT_MODEL_NAME="None")
    assert env.enable_batching is True
    assert env.default_model_name is None
