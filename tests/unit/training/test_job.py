"""Where each setting comes from (training.md §4.2) and `TrainSettings.from_environ`."""

import json
from pathlib import Path

import pytest

from sagemaker_tensorflow_runtime.container.config import load_job_config
from sagemaker_tensorflow_runtime.container.paths import Paths
from sagemaker_tensorflow_runtime.container.resources import HostResources
from sagemaker_tensorflow_runtime.training.errors import ConfigurationError
from sagemaker_tensorflow_runtime.training.job import (
    build_job_env,
    resolve_code_location,
    resolve_job_name,
    resolve_log_level,
    resolve_region,
)
from sagemaker_tensorflow_runtime.training.settings import TrainSettings

RESOURCES = HostResources(num_cpus=2, num_gpus=0, num_neurons=0)


def settings(**environ):
    return TrainSettings.from_environ(environ)


def job_env(tmp_path, hyperparameters, environ):
    """build_job_env over a temp tree holding `hyperparameters` (raw strings)."""
    paths = Paths(tmp_path)
    paths.input_config_dir.mkdir(parents=True)
    paths.hyperparameters_file.write_text(json.dumps(hyperparameters))
    paths.resource_config_file.write_text('{"current_host": "algo-1", "hosts": ["algo-1"]}')
    return build_job_env(
        paths, load_job_config(paths), TrainSettings.from_environ(environ), RESOURCES
    )


def test_settings_defaults():
    s = settings()

    assert s == TrainSettings(
        base_dir=Path("/opt/ml"),
        program=None,
        submit_directory=None,
        log_level=None,
        job_name=None,
        aws_region=None,
        aws_default_region=None,
        framework_module=None,
        codeartifact_arn=None,
        studio_local_mode=False,
        num_gpus=None,
        grace_seconds=25.0,
        dns_wait_seconds=900.0,
        master_probe_seconds=10.0,
        ssh_wait_seconds=3600.0,
        orted_wait_seconds=1200.0,
        sshd="/usr/sbin/sshd",
        gethostname_library=None,
    )


def test_settings_from_environ():
    s = settings(
        SAGEMAKER_BASE_DIR="/tmp/ml",
        SAGEMAKER_PROGRAM="train.py",
        SAGEMAKER_SUBMIT_DIRECTORY="s3://b/src.tar.gz",
        SAGEMAKER_CONTAINER_LOG_LEVEL="10",
        TRAINING_JOB_NAME="job-1",
        AWS_REGION="eu-west-1",
        AWS_DEFAULT_REGION="us-west-2",
        SAGEMAKER_TRAINING_MODULE="sagemaker_tensorflow_container.training:main",
        CA_REPOSITORY_ARN="arn:aws:codeartifact:us-east-1:123456789012:repository/d/r",
        SM_STUDIO_LOCAL_MODE="True",
        SAGEMAKER_NUM_GPUS="8",
        SAGEMAKER_TERMINATION_GRACE_SECONDS="5",
        SAGEMAKER_DNS_WAIT_SECONDS="1.5",
        UNRELATED="x",
    )

    assert s == TrainSettings(
        base_dir=Path("/tmp/ml"),
        program="train.py",
        submit_directory="s3://b/src.tar.gz",
        log_level="10",
        job_name="job-1",
        aws_region="eu-west-1",
        aws_default_region="us-west-2",
        framework_module="sagemaker_tensorflow_container.training:main",
        codeartifact_arn="arn:aws:codeartifact:us-east-1:123456789012:repository/d/r",
        studio_local_mode=True,
        num_gpus=8,
        grace_seconds=5.0,
        dns_wait_seconds=1.5,
        master_probe_seconds=10.0,
        ssh_wait_seconds=3600.0,
        orted_wait_seconds=1200.0,
        sshd="/usr/sbin/sshd",
        gethostname_library=None,
    )


def test_empty_variables_count_as_unset():
    s = settings(SAGEMAKER_BASE_DIR="", SAGEMAKER_PROGRAM="", TRAINING_JOB_NAME="")

    assert (s.base_dir, s.program, s.job_name) == (Path("/opt/ml"), None, None)


# (hyperparameters, environ, expected entry point)
ENTRY_POINTS = [
    ({"sagemaker_program": '"hp.py"'}, {"SAGEMAKER_PROGRAM": "env.py"}, "env.py"),
    ({"sagemaker_program": '"hp.py"'}, {}, "hp.py"),
    ({}, {"SAGEMAKER_PROGRAM": "env.py"}, "env.py"),
    ({}, {}, None),
]


@pytest.mark.parametrize(("hps", "environ", "expected"), ENTRY_POINTS)
def test_entry_point_env_beats_hyperparameter(tmp_path, hps, environ, expected):
    assert job_env(tmp_path, hps, environ).user_entry_point == expected


def test_module_name_strips_py(tmp_path):
    env = job_env(tmp_path, {"sagemaker_program": '"train.py"'}, {})

    assert env.module_name == "train"


# (hyperparameter value, SAGEMAKER_SUBMIT_DIRECTORY, base dir, expected code location)
CODE_LOCATIONS = [
    ("s3://b/hp.tar.gz", "s3://b/env.tar.gz", "/opt/ml", "s3://b/hp.tar.gz"),
    (None, "s3://b/env.tar.gz", "/opt/ml", "s3://b/env.tar.gz"),
    (None, None, "/opt/ml", None),
    ("/opt/ml/input/data/code", None, "/tmp/base", "/tmp/base/input/data/code"),
    (None, "/opt/ml/code", "/tmp/base", "/tmp/base/code"),
    ("/opt/mlx/code", None, "/tmp/base", "/opt/mlx/code"),
    ("/opt/ml", None, "/tmp/base", "/tmp/base"),
    ("/srv/code", None, "/tmp/base", "/srv/code"),
]


@pytest.mark.parametrize(("hp", "env_value", "base", "expected"), CODE_LOCATIONS)
def test_code_location(hp, env_value, base, expected):
    hps = {} if hp is None else {"sagemaker_submit_directory": hp}
    environ = {"SAGEMAKER_BASE_DIR": base}
    if env_value is not None:
        environ["SAGEMAKER_SUBMIT_DIRECTORY"] = env_value
    s = TrainSettings.from_environ(environ)

    assert resolve_code_location(hps, s, Paths(s.base_dir)) == expected


def test_module_dir_is_the_code_location_as_given(tmp_path):
    env = job_env(
        tmp_path,
        {"sagemaker_submit_directory": '"/opt/ml/input/data/code/sourcedir.tar.gz"'},
        {"SAGEMAKER_BASE_DIR": str(tmp_path)},
    )

    assert env.module_dir == "/opt/ml/input/data/code/sourcedir.tar.gz"


def test_non_string_code_location_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="sagemaker_submit_directory must be a string"):
        resolve_code_location({"sagemaker_submit_directory": 42}, settings(), Paths(Path("/x")))


# (decoded hyperparameters, environ, expected log level)
LOG_LEVELS = [
    ({"sagemaker_container_log_level": 10}, {"SAGEMAKER_CONTAINER_LOG_LEVEL": "30"}, 10),
    ({}, {"SAGEMAKER_CONTAINER_LOG_LEVEL": "30"}, 30),
    ({}, {}, 20),
    ({"sagemaker_container_log_level": "40"}, {}, 40),
]


@pytest.mark.parametrize(("hps", "environ", "expected"), LOG_LEVELS)
def test_log_level(hps, environ, expected):
    assert resolve_log_level(hps, settings(**environ)) == expected


@pytest.mark.parametrize(
    ("hps", "environ"),
    [
        ({"sagemaker_container_log_level": "INFO"}, {}),
        ({"sagemaker_container_log_level": [20]}, {}),
        ({}, {"SAGEMAKER_CONTAINER_LOG_LEVEL": "debug"}),
    ],
)
def test_bad_log_level_is_a_configuration_error(hps, environ):
    with pytest.raises(ConfigurationError, match="is not an integer log level"):
        resolve_log_level(hps, settings(**environ))


def test_log_level_reaches_the_environment(tmp_path):
    env = job_env(tmp_path, {"sagemaker_container_log_level": "10"}, {})

    assert env.log_level == 10


# (decoded hyperparameters, environ, expected job name)
JOB_NAMES = [
    ({"sagemaker_job_name": "hp-job"}, {"TRAINING_JOB_NAME": "env-job"}, "env-job"),
    ({"sagemaker_job_name": "hp-job"}, {}, "hp-job"),
    ({}, {"TRAINING_JOB_NAME": "env-job"}, "env-job"),
    ({}, {}, None),
]


@pytest.mark.parametrize(("hps", "environ", "expected"), JOB_NAMES)
def test_job_name(hps, environ, expected):
    assert resolve_job_name(hps, settings(**environ)) == expected


# (decoded hyperparameters, environ, expected region)
REGIONS = [
    (
        {"sagemaker_region": "hp-region"},
        {"AWS_REGION": "env-region", "AWS_DEFAULT_REGION": "default-region"},
        "hp-region",
    ),
    ({}, {"AWS_REGION": "env-region", "AWS_DEFAULT_REGION": "default-region"}, "env-region"),
    ({}, {"AWS_DEFAULT_REGION": "default-region"}, "default-region"),
    ({}, {}, ""),
]


@pytest.mark.parametrize(("hps", "environ", "expected"), REGIONS)
def test_region(hps, environ, expected):
    assert resolve_region(hps, settings(**environ)) == expected


def test_tuning_job_gets_its_own_model_dir(tmp_path):
    env = job_env(
        tmp_path,
        {"model_dir": '"s3://b/tuning/model"', "_tuning_objective_metric": '"loss"'},
        {"TRAINING_JOB_NAME": "child-001"},
    )

    assert env.user_hyperparameters == {"model_dir": "s3://b/tuning/model/child-001/model"}
    assert env.user_args == ["--model_dir", "s3://b/tuning/model/child-001/model"]


def test_model_dir_is_unchanged_outside_tuning_jobs(tmp_path):
    env = job_env(tmp_path, {"model_dir": '"s3://b/job/model"'}, {"TRAINING_JOB_NAME": "job"})

    assert env.user_hyperparameters == {"model_dir": "s3://b/job/model"}
