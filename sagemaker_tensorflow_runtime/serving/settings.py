"""Every environment variable `serve` reads (serving.md §3), declared once.

Read once at the edge into `ServingSettings`; the supervisor, the backend launcher and the
front end receive the object. Booleans must be `true`/`false` (any case), as in the reference.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sagemaker_tensorflow_runtime.container.paths import DEFAULT_BASE_DIR
from sagemaker_tensorflow_runtime.container.settings import (
    Setting,
    SettingError,
    parse_count,
    parse_optional_str,
    parse_positive_float,
    read_settings,
)


def parse_strict_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in ("true", "false"):
        raise SettingError("must be 'true' or 'false'")
    return value == "true"


def parse_port_range(raw: str) -> tuple[int, int] | None:
    if not raw.strip():
        return None
    lo, sep, hi = raw.strip().partition("-")
    if not sep or not lo.isdigit() or not hi.isdigit() or int(lo) > int(hi):
        raise SettingError(f"must be 'low-high' such as '9000-9999', got {raw!r}")
    return int(lo), int(hi)


def parse_fraction(raw: str) -> float:
    value = parse_positive_float(raw)
    if value >= 1:
        raise SettingError(f"must be a fraction below 1, got {raw!r}")
    return value


def parse_default_model(raw: str) -> str | None:
    """The reference writes the string `None` for "not set"."""
    return None if raw in ("", "None") else raw


TABLE = (
    Setting("SAGEMAKER_BASE_DIR", str, DEFAULT_BASE_DIR, "root of the /opt/ml tree", "base_dir"),
    Setting("SAGEMAKER_BIND_TO_PORT", parse_count, 8080, "public HTTP port", "bind_port"),
    Setting(
        "SAGEMAKER_SAFE_PORT_RANGE",
        parse_port_range,
        None,
        "low-high range every internal port must come from",
        "safe_port_range",
    ),
    Setting(
        "SAGEMAKER_TFS_DEFAULT_MODEL_NAME",
        parse_default_model,
        None,
        "model used without tfs-model-name (default: the first model found)",
        "default_model_name",
    ),
    Setting("SAGEMAKER_TFS_INSTANCE_COUNT", parse_count, 1, "backend processes", "instance_count"),
    Setting(
        "SAGEMAKER_TFS_ENABLE_BATCHING",
        parse_strict_bool,
        False,
        "dynamic batching in the backend",
        "enable_batching",
    ),
    Setting(
        "SAGEMAKER_TFS_MAX_BATCH_SIZE",
        parse_count,
        None,
        "max_batch_size (default: 8)",
        "max_batch_size",
    ),
    Setting(
        "SAGEMAKER_TFS_BATCH_TIMEOUT_MICROS",
        parse_count,
        None,
        "batch_timeout_micros (default: 1000)",
        "batch_timeout_micros",
    ),
    Setting(
        "SAGEMAKER_TFS_NUM_BATCH_THREADS",
        parse_count,
        None,
        "num_batch_threads (default: number of CPUs)",
        "num_batch_threads",
    ),
    Setting(
        "SAGEMAKER_TFS_MAX_ENQUEUED_BATCHES",
        parse_count,
        None,
        "max_enqueued_batches (default: CPUs; 100000000 with SAGEMAKER_BATCH)",
        "max_enqueued_batches",
    ),
    Setting("SAGEMAKER_BATCH", str, None, "set by Batch Transform (presence only)", "batch"),
    Setting(
        "SAGEMAKER_TFS_INTRA_OP_PARALLELISM",
        parse_count,
        0,
        "--tensorflow_intra_op_parallelism (0: flag omitted)",
        "intra_op_parallelism",
    ),
    Setting(
        "SAGEMAKER_TFS_INTER_OP_PARALLELISM",
        parse_count,
        0,
        "--tensorflow_inter_op_parallelism (0: flag omitted)",
        "inter_op_parallelism",
    ),
    Setting(
        "SAGEMAKER_TFS_FRACTIONAL_GPU_MEM_MARGIN",
        parse_fraction,
        0.2,
        "GPU memory kept free when several backends share a GPU",
        "gpu_memory_margin",
    ),
    Setting(
        "SAGEMAKER_TFS_WAIT_TIME_SECONDS",
        parse_positive_float,
        300.0,
        "startup wait for the default model",
        "wait_time_seconds",
    ),
    Setting(
        "SAGEMAKER_TFS_NGINX_LOGLEVEL", str, "error", "front-end error-log level", "front_log_level"
    ),
    Setting("SAGEMAKER_TFS_VERSION", str, "1.13", "accepted and ignored", "tfs_version"),
    Setting(
        "SAGEMAKER_MULTI_MODEL", parse_strict_bool, False, "multi-model endpoint", "multi_model"
    ),
    Setting("SAGEMAKER_GUNICORN_WORKERS", parse_count, 1, "handler workers", "gunicorn_workers"),
    Setting("SAGEMAKER_GUNICORN_THREADS", parse_count, 1, "threads per worker", "gunicorn_threads"),
    Setting(
        "SAGEMAKER_GUNICORN_WORKER_CLASS",
        str,
        "gevent",
        "gunicorn worker class",
        "gunicorn_worker_class",
    ),
    Setting("SAGEMAKER_GUNICORN_LOGLEVEL", str, "info", "gunicorn log level", "gunicorn_log_level"),
    Setting(
        "SAGEMAKER_GUNICORN_TIMEOUT_SECONDS",
        parse_count,
        30,
        "a handler silent this long is killed",
        "gunicorn_timeout",
    ),
    Setting(
        "SAGEMAKER_NGINX_PROXY_READ_TIMEOUT_SECONDS",
        parse_count,
        60,
        "front read timeout (raised to the gunicorn timeout)",
        "proxy_read_timeout",
    ),
    Setting(
        "SAGEMAKER_TFS_MODEL_SERVER",
        parse_optional_str,
        None,
        "path of a tensorflow_model_server binary (default: PATH, else the embedded server)",
        "model_server_binary",
    ),
    Setting(
        "SAGEMAKER_SERVING_CONFIG_DIR",
        parse_optional_str,
        None,
        "where generated TFS config files go (default: /sagemaker, or <base>/sagemaker)",
        "config_dir",
    ),
    Setting(
        "SAGEMAKER_PROGRAM",
        parse_optional_str,
        None,
        "legacy endpoint: the module defining input_fn / output_fn / transform_fn",
        "program",
    ),
    Setting(
        "SAGEMAKER_SUBMIT_DIRECTORY",
        parse_optional_str,
        None,
        "legacy endpoint: where that module comes from (s3://, tar.gz or directory)",
        "submit_directory",
    ),
    Setting(
        "SAGEMAKER_REQUIREMENTS",
        parse_optional_str,
        None,
        "legacy endpoint: requirements file in the code directory",
        "requirements",
    ),
    Setting(
        "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT",
        str,
        "application/json",
        "legacy endpoint: Accept used when a request has none",
        "default_accept",
    ),
    Setting(
        "SAGEMAKER_TFS_GRPC_REQUEST_TIMEOUT",
        parse_positive_float,
        None,
        "legacy endpoint: gRPC deadline in seconds (default 10; 30 with an accelerator)",
        "grpc_request_timeout",
    ),
    Setting(
        "SAGEMAKER_INFERENCE_ACCELERATOR_PRESENT",
        parse_strict_bool,
        False,
        "legacy endpoint: an Elastic Inference accelerator is attached",
        "accelerator_present",
    ),
    Setting(
        "CA_REPOSITORY_ARN",
        parse_optional_str,
        None,
        "CodeArtifact repository used as pip index for code/requirements.txt",
        "codeartifact_arn",
    ),
    Setting(
        "SAGEMAKER_NUM_GPUS",
        parse_count,
        None,
        "GPU count instead of asking nvidia-smi (faked GPU hosts)",
        "num_gpus",
    ),
)


@dataclass(frozen=True)
class ServingSettings:
    """The environment settings of one `serve` run."""

    base_dir: Path
    bind_port: int
    safe_port_range: tuple[int, int] | None
    default_model_name: str | None
    instance_count: int
    enable_batching: bool
    max_batch_size: int | None
    batch_timeout_micros: int | None
    num_batch_threads: int | None
    max_enqueued_batches: int | None
    batch: str | None
    intra_op_parallelism: int
    inter_op_parallelism: int
    gpu_memory_margin: float
    wait_time_seconds: float
    front_log_level: str
    tfs_version: str
    multi_model: bool
    gunicorn_workers: int
    gunicorn_threads: int
    gunicorn_worker_class: str
    gunicorn_log_level: str
    gunicorn_timeout: int
    proxy_read_timeout: int
    model_server_binary: str | None
    config_dir: str | None
    program: str | None
    submit_directory: str | None
    requirements: str | None
    default_accept: str
    grpc_request_timeout: float | None
    accelerator_present: bool
    codeartifact_arn: str | None
    num_gpus: int | None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> "ServingSettings":
        values = read_settings(TABLE, environ)
        values["base_dir"] = Path(values["base_dir"] or DEFAULT_BASE_DIR)
        if values["instance_count"] < 1:
            raise SettingError("SAGEMAKER_TFS_INSTANCE_COUNT must be at least 1")
        return cls(**values)

    @property
    def model_dir(self) -> Path:
        return self.base_dir / "model"

    @property
    def serving_config_dir(self) -> Path:
        if self.config_dir:
            return Path(self.config_dir)
        if str(self.base_dir) == DEFAULT_BASE_DIR:
            return Path("/sagemaker")
        return self.base_dir / "sagemaker"

    @property
    def read_timeout(self) -> int:
        """How long the front waits for the backend: the proxy read timeout, raised to the
        gunicorn timeout (serving.md §1)."""
        return max(self.proxy_read_timeout, self.gunicorn_timeout)

    @property
    def legacy_grpc_timeout(self) -> float:
        if self.grpc_request_timeout is not None:
            return self.grpc_request_timeout
        return 30.0 if self.accelerator_present else 10.0

    @property
    def cpu_count(self) -> int:
        return os.cpu_count() or 1


if __name__ == "__main__":
    from sagemaker_tensorflow_runtime.container.settings import settings_markdown

    print(settings_markdown(TABLE), end="")
