"""Launching the TensorFlow Serving backend(s) (serving.md §1, §5.3).

One instance per `SAGEMAKER_TFS_INSTANCE_COUNT`, each with a gRPC and a REST port on localhost
and the reference command line. The real `tensorflow_model_server` runs when it is on PATH (or at
`SAGEMAKER_TFS_MODEL_SERVER`); otherwise the embedded server gets the same flags.
"""

import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sagemaker_tensorflow_runtime.serving.settings import ServingSettings

DEFAULT_GRPC_PORT = 9000
DEFAULT_REST_PORT = 8501
MODEL_SERVER_BINARY = "tensorflow_model_server"
EMBEDDED_MODULE = "sagemaker_tensorflow_runtime.serving.modelserver"


class PortRangeError(ValueError):
    """SAGEMAKER_SAFE_PORT_RANGE cannot hold every backend's ports."""


@dataclass(frozen=True)
class BackendInstance:
    """One backend process: its ports, command line and environment additions."""

    index: int
    grpc_port: int
    rest_port: int
    argv: tuple[str, ...]
    env: dict[str, str]

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"


def instance_ports(settings: ServingSettings) -> list[tuple[int, int]]:
    """(gRPC, REST) per instance: 9000/8501 + 2i, or lo + 2i / lo + 2i + 1 from the range."""
    count = settings.instance_count
    if settings.safe_port_range is None:
        return [(DEFAULT_GRPC_PORT + 2 * i, DEFAULT_REST_PORT + 2 * i) for i in range(count)]
    lo, hi = settings.safe_port_range
    if lo + 2 * count > hi:
        raise PortRangeError(f"not enough ports available in SAGEMAKER_SAFE_PORT_RANGE ({lo}-{hi})")
    return [(lo + 2 * i, lo + 2 * i + 1) for i in range(count)]


def model_server_command(settings: ServingSettings, environ: Mapping[str, str]) -> list[str]:
    """The binary to run, or the embedded server under this interpreter."""
    if settings.model_server_binary:
        return [settings.model_server_binary]
    binary = shutil.which(MODEL_SERVER_BINARY, path=environ.get("PATH"))
    if binary:
        return [binary]
    return [sys.executable, "-m", EMBEDDED_MODULE]


def gpu_memory_fraction(settings: ServingSettings, num_gpus: int) -> float | None:
    """Several backends on a GPU host share its memory: round((1 - margin) / count, 4)."""
    if num_gpus <= 0 or settings.instance_count <= 1:
        return None
    return round((1 - settings.gpu_memory_margin) / settings.instance_count, 4)


def backend_instances(
    settings: ServingSettings,
    model_config_file: Path,
    batching_file: Path | None,
    num_gpus: int,
    environ: Mapping[str, str],
) -> list[BackendInstance]:
    command = model_server_command(settings, environ)
    fraction = gpu_memory_fraction(settings, num_gpus)
    instances = []
    for index, (grpc_port, rest_port) in enumerate(instance_ports(settings)):
        argv = [
            *command,
            f"--port={grpc_port}",
            f"--rest_api_port={rest_port}",
            f"--model_config_file={model_config_file}",
            "--max_num_load_retries=0",
            # the front's read timeout, not TF Serving's 30 s: a body forwarded over REST has
            # the time a request over gRPC has (docs/compatibility.md)
            f"--rest_api_timeout_in_ms={settings.read_timeout * 1000}",
        ]
        if batching_file is not None:
            argv += ["--enable_batching=true", f"--batching_parameters_file={batching_file}"]
        if settings.intra_op_parallelism:
            argv.append(f"--tensorflow_intra_op_parallelism={settings.intra_op_parallelism}")
        if settings.inter_op_parallelism:
            argv.append(f"--tensorflow_inter_op_parallelism={settings.inter_op_parallelism}")
        if fraction is not None:
            argv.append(f"--per_process_gpu_memory_fraction={fraction}")
        env = {}
        if num_gpus > 1:
            env["CUDA_VISIBLE_DEVICES"] = str(index % num_gpus)
        instances.append(BackendInstance(index, grpc_port, rest_port, tuple(argv), env))
    return instances
