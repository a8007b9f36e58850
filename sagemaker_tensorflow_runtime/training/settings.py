"""Every environment variable `train` reads, declared once (name, type, default, help).

Read once in the CLI layer into `TrainSettings`; nothing below the CLI touches os.environ.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sagemaker_tensorflow_runtime.container.paths import DEFAULT_BASE_DIR
from sagemaker_tensorflow_runtime.container.settings import (
    Setting,
    parse_bool,
    parse_optional_count,
    parse_optional_str,
    parse_positive_float,
    read_settings,
)

DEFAULT_GRACE_SECONDS = 25.0
DEFAULT_DNS_WAIT_SECONDS = 900.0
DEFAULT_MASTER_PROBE_SECONDS = 10.0
DEFAULT_SSH_WAIT_SECONDS = 3600.0
DEFAULT_ORTED_WAIT_SECONDS = 1200.0
DEFAULT_SSHD = "/usr/sbin/sshd"

TABLE = (
    Setting("SAGEMAKER_BASE_DIR", str, DEFAULT_BASE_DIR, "root of the /opt/ml tree", "base_dir"),
    Setting(
        "SAGEMAKER_PROGRAM",
        parse_optional_str,
        None,
        "entry point; wins over hyperparameter sagemaker_program",
        "program",
    ),
    Setting(
        "SAGEMAKER_SUBMIT_DIRECTORY",
        parse_optional_str,
        None,
        "code location used when hyperparameter sagemaker_submit_directory is absent",
        "submit_directory",
    ),
    Setting(
        "SAGEMAKER_CONTAINER_LOG_LEVEL",
        parse_optional_str,
        None,
        "log level when hyperparameter sagemaker_container_log_level is absent (20 = INFO)",
        "log_level",
    ),
    Setting(
        "TRAINING_JOB_NAME",
        parse_optional_str,
        None,
        "job name (set by SageMaker); hyperparameter sagemaker_job_name is the fallback",
        "job_name",
    ),
    Setting(
        "AWS_REGION",
        parse_optional_str,
        None,
        "job region when hyperparameter sagemaker_region is absent",
        "aws_region",
    ),
    Setting(
        "AWS_DEFAULT_REGION",
        parse_optional_str,
        None,
        "region of last resort (boto3's default)",
        "aws_default_region",
    ),
    Setting(
        "SAGEMAKER_TRAINING_MODULE",
        parse_optional_str,
        None,
        "reported as SM_FRAMEWORK_MODULE; not imported",
        "framework_module",
    ),
    Setting(
        "CA_REPOSITORY_ARN",
        parse_optional_str,
        None,
        "CodeArtifact repository used as pip index for requirements.txt",
        "codeartifact_arn",
    ),
    Setting(
        "SM_STUDIO_LOCAL_MODE",
        parse_bool,
        False,
        "Studio local mode: skip the DNS wait",
        "studio_local_mode",
    ),
    Setting(
        "SAGEMAKER_NUM_GPUS",
        parse_optional_count,
        None,
        "GPU count to report instead of asking nvidia-smi (faked GPU hosts, pinned images)",
        "num_gpus",
    ),
    Setting(
        "SAGEMAKER_TERMINATION_GRACE_SECONDS",
        parse_positive_float,
        DEFAULT_GRACE_SECONDS,
        "seconds between forwarding SIGTERM/SIGINT and killing the user's process group",
        "grace_seconds",
    ),
    Setting(
        "SAGEMAKER_DNS_WAIT_SECONDS",
        parse_positive_float,
        DEFAULT_DNS_WAIT_SECONDS,
        "how long to wait for every host name to resolve",
        "dns_wait_seconds",
    ),
    Setting(
        "SAGEMAKER_MASTER_PROBE_SECONDS",
        parse_positive_float,
        DEFAULT_MASTER_PROBE_SECONDS,
        "parameter-server jobs: seconds between a worker host's checks of the master",
        "master_probe_seconds",
    ),
    Setting(
        "SAGEMAKER_SSH_WAIT_SECONDS",
        parse_positive_float,
        DEFAULT_SSH_WAIT_SECONDS,
        "MPI jobs: how long the master waits for every worker's sshd, and a worker for the master",
        "ssh_wait_seconds",
    ),
    Setting(
        "SAGEMAKER_ORTED_WAIT_SECONDS",
        parse_positive_float,
        DEFAULT_ORTED_WAIT_SECONDS,
        "MPI jobs: how long a worker host waits for mpirun to start its ranks (orted)",
        "orted_wait_seconds",
    ),
    Setting(
        "SAGEMAKER_SSHD",
        str,
        DEFAULT_SSHD,
        "MPI jobs: the sshd program started on every host",
        "sshd",
    ),
    Setting(
        "SAGEMAKER_GETHOSTNAME_LIBRARY",
        parse_optional_str,
        None,
        "MPI jobs: the LD_PRELOAD gethostname library (built there with cc if missing; default: "
        "~/.cache/sagemaker-tensorflow-runtime/)",
        "gethostname_library",
    ),
)


@dataclass(frozen=True)
class TrainSettings:
    """The environment settings of one `train` run."""

    base_dir: Path
    program: str | None
    submit_directory: str | None
    log_level: str | None
    job_name: str | None
    aws_region: str | None
    aws_default_region: str | None
    framework_module: str | None
    codeartifact_arn: str | None
    studio_local_mode: bool
    num_gpus: int | None
    grace_seconds: float
    dns_wait_seconds: float
    master_probe_seconds: float
    ssh_wait_seconds: float
    orted_wait_seconds: float
    sshd: str
    gethostname_library: str | None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> "TrainSettings":
        values = read_settings(TABLE, environ)
        values["base_dir"] = Path(values["base_dir"] or DEFAULT_BASE_DIR)
        return cls(**values)


if __name__ == "__main__":
    from sagemaker_tensorflow_runtime.container.settings import settings_markdown

    print(settings_markdown(TABLE), end="")
