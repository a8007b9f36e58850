"""The `tensorflow_model_server` flags the embedded server accepts (serving.md §5.3).

Unknown flags are warned about and ignored, so a command line written for the real binary
always starts the embedded one.
"""

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

logger = logging.getLogger(__name__)


class FlagError(ValueError):
    """A known flag has a value of the wrong form."""


@dataclass
class Flags:
    """Parsed flags; names and defaults as in TF Serving 2.15 (plus `bind_address`)."""

    port: int = 8500
    rest_api_port: int = 0
    model_config_file: str = ""
    model_name: str = "default"
    model_base_path: str = ""
    max_num_load_retries: int = 5
    load_retry_interval_micros: int = 60_000_000
    enable_batching: bool = False
    batching_parameters_file: str = ""
    tensorflow_intra_op_parallelism: int = 0
    tensorflow_inter_op_parallelism: int = 0
    per_process_gpu_memory_fraction: float = 0.0
    rest_api_timeout_in_ms: int = 30_000
    rest_api_num_threads: int = 0
    grpc_max_threads: int = 0
    num_load_threads: int = 0
    file_system_poll_wait_seconds: int = 1
    monitoring_config_file: str = ""
    version: bool = False
    bind_address: str = "127.0.0.1"
    grpc_max_message_bytes: int = 2**31 - 1

    @property
    def threads(self) -> int:
        return max(4, 4 * (os.cpu_count() or 1))

    @property
    def grpc_handler_threads(self) -> int:
        """`--grpc_max_threads`, else max(4, cores): the threads that run the calls too
        costly for the event loop (`grpc_loop`) and model reloads. At least 4, as a reload holds
        one for its whole load; one per core beyond that, since every call needs the GIL
        between TensorFlow's own work (TF Serving's 4 per core thrash it). Batched calls wait
        for their batch on the loop, not on these threads.
        """
        return self.grpc_max_threads or max(4, os.cpu_count() or 1)


def _convert(name: str, kind: Any, raw: str | None) -> Any:
    if kind is bool:
        if raw is None or raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise FlagError(f"--{name} must be true or false, got {raw!r}")
    if raw is None:
        raise FlagError(f"--{name} needs a value")
    try:
        return kind(raw)
    except ValueError:
        raise FlagError(f"--{name}: {raw!r} is not a valid {kind.__name__}") from None


def parse_flags(argv: Sequence[str]) -> Flags:
    kinds = {f.name: f.type for f in fields(Flags)}
    types = {"int": int, "str": str, "bool": bool, "float": float}
    flags = Flags()
    args = list(argv)
    while args:
        arg = args.pop(0)
        if not arg.startswith("-"):
            logger.warning("Ignoring unexpected argument %r", arg)
            continue
        name, sep, value = arg.lstrip("-").partition("=")
        raw: str | None = value if sep else None
        if name not in kinds:
            logger.warning(
                "Ignoring unknown flag --%s (not supported by the embedded server)", name
            )
            continue
        kind = types[str(kinds[name])] if isinstance(kinds[name], str) else kinds[name]
        if raw is None and kind is not bool:
            raw = args.pop(0) if args else None
        setattr(flags, name, _convert(name, kind, raw))
    return flags
