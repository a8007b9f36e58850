"""Wiring of the embedded model server: flags → models → batching → REST + gRPC → event loop."""

import logging
import os
import select
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sagemaker_tensorflow_runtime.container.signals import SignalRecorder, signal_name
from sagemaker_tensorflow_runtime.serving.modelserver.batching import (
    BatchingParameters,
    BatchScheduler,
)
from sagemaker_tensorflow_runtime.serving.modelserver.dataplane import DataPlane
from sagemaker_tensorflow_runtime.serving.modelserver.flags import FlagError, Flags, parse_flags
from sagemaker_tensorflow_runtime.serving.modelserver.manager import ModelManager, wait_for
from sagemaker_tensorflow_runtime.serving.modelserver.model_config import (
    ConfigFileError,
    ModelConfig,
    load_config_file,
)
from sagemaker_tensorflow_runtime.serving.modelserver.rest import RestApi, RestServer
from sagemaker_tensorflow_runtime.serving.modelserver.servable import Servable
from sagemaker_tensorflow_runtime.serving.modelserver.warmup import replay_warmup

logger = logging.getLogger("sagemaker_tensorflow_runtime.modelserver")

VERSION = "2.15.1-embedded"
EXIT_USAGE = 2
EXIT_STOP_TIMEOUT = 3
STOP_SECONDS = 10.0


def model_configs(flags: Flags) -> list[ModelConfig]:
    if flags.model_config_file:
        return load_config_file(Path(flags.model_config_file))
    if flags.model_base_path:
        return [ModelConfig(name=flags.model_name, base_path=Path(flags.model_base_path))]
    return []


def configure_tensorflow(flags: Flags) -> None:
    import tensorflow as tf

    if flags.tensorflow_intra_op_parallelism:
        tf.config.threading.set_intra_op_parallelism_threads(flags.tensorflow_intra_op_parallelism)
    if flags.tensorflow_inter_op_parallelism:
        tf.config.threading.set_inter_op_parallelism_threads(flags.tensorflow_inter_op_parallelism)
    if flags.per_process_gpu_memory_fraction:
        gpus = tf.config.list_physical_devices("GPU")
        if not gpus:
            logger.info("--per_process_gpu_memory_fraction ignored: no GPU visible")
        for gpu in gpus:
            total = tf.config.experimental.get_device_details(gpu).get("memory_limit_mb") or 0
            if total:
                limit = int(total * flags.per_process_gpu_memory_fraction)
                tf.config.set_logical_device_configuration(
                    gpu, [tf.config.LogicalDeviceConfiguration(memory_limit=limit)]
                )
            else:
                tf.config.experimental.set_memory_growth(gpu, True)


def load_servable(name: str, version: int, path: Path) -> Servable:
    servable = Servable(name, version, path)
    replay_warmup(servable)
    return servable


class ModelServer:
    """The running server: manager, data plane and both listeners."""

    def __init__(self, flags: Flags) -> None:
        self.flags = flags
        self.manager = ModelManager(
            load_servable,
            load_threads=flags.num_load_threads or 2,
            max_load_retries=max(0, flags.max_num_load_retries),
            retry_interval_seconds=flags.load_retry_interval_micros / 1e6,
        )
        self.batcher = None
        if flags.enable_batching:
            params = (
                BatchingParameters.from_file(Path(flags.batching_parameters_file))
                if flags.batching_parameters_file
                else BatchingParameters()
            )
            logger.info("Batching enabled: %s", params)
            self.batcher = BatchScheduler(params)
        self.dataplane = DataPlane(self.manager, self.batcher)
        self.grpc_server: Any = None
        self.rest_server: RestServer | None = None

    def reload(self, configs: list[ModelConfig]) -> list[str]:
        return wait_for(self.manager.apply(configs))

    def start(self, configs: list[ModelConfig]) -> None:
        from sagemaker_tensorflow_runtime.serving.modelserver.grpc_service import start_grpc_server

        for config in configs:
            logger.info("Adding/updating models: %s at %s", config.name, config.base_path)
        self.manager.apply(configs)
        workers = self.flags.grpc_handler_threads
        self.grpc_server = start_grpc_server(
            f"{self.flags.bind_address}:{self.flags.port}",
            self.dataplane,
            self.reload,
            workers,
            self.flags.grpc_max_message_bytes,
        )
        logger.info(
            "Running gRPC ModelServer at %s:%d ...", self.flags.bind_address, self.flags.port
        )
        if self.flags.rest_api_port:
            api = RestApi(
                self.dataplane,
                self.flags.rest_api_timeout_in_ms / 1000,
                self.flags.rest_api_num_threads or self.flags.threads,
            )
            self.rest_server = RestServer((self.flags.bind_address, self.flags.rest_api_port), api)
            self.rest_server.start()
            logger.info("Exporting HTTP/REST API at:localhost:%d ...", self.flags.rest_api_port)

    def wait(self, signals: SignalRecorder) -> None:
        """The event loop: poll the file system for new versions until SIGTERM/SIGINT.

        The signal handlers only record (setting an Event from a handler can deadlock on the
        lock the interrupted thread holds); the loop wakes on the recorder's pipe.
        """
        logger.info("Entering the event loop ...")
        poll = self.flags.file_system_poll_wait_seconds
        while signals.first is None:
            select.select([signals.fileno()], [], [], poll if poll > 0 else 3600)
            signals.drain()
            if poll > 0 and signals.first is None:
                self.manager.refresh()
        logger.info("Received %s, stopping", signal_name(signals.first))

    def stop(self) -> None:
        if self.rest_server is not None:
            self.rest_server.shutdown()
            self.rest_server.api.close()
        if self.grpc_server is not None:
            self.grpc_server.stop(grace=2)
        if self.batcher is not None:
            self.batcher.stop()
        self.manager.shutdown()


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s modelserver: %(message)s"
    )
    try:
        flags = parse_flags(sys.argv[1:] if argv is None else argv)
    except FlagError as exc:
        logger.error("%s", exc)
        return EXIT_USAGE
    if flags.version:
        import tensorflow as tf

        print(f"TensorFlow ModelServer: {VERSION}\nTensorFlow Library: {tf.__version__}")
        return 0
    try:
        configs = model_configs(flags)
    except ConfigFileError as exc:
        logger.error("%s", exc)
        return EXIT_USAGE
    configure_tensorflow(flags)
    server = ModelServer(flags)
    with SignalRecorder() as signals:
        try:
            server.start(configs)
        except (OSError, RuntimeError) as exc:
            logger.error("Failed to start server: %s", exc)
            server.stop()
            return 1
        server.wait(signals)
        stop_within(server, STOP_SECONDS)
    return 0


def stop_within(server: ModelServer, seconds: float) -> None:
    """Stop the listeners; if that hangs (a stuck request, a library thread), leave anyway."""
    watchdog = threading.Timer(seconds, os._exit, args=(EXIT_STOP_TIMEOUT,))
    watchdog.daemon = True
    watchdog.start()
    server.stop()
    watchdog.cancel()
