"""`serve`'s supervisor: backends, readiness, handler dependencies, gunicorn, and their lives.

Order (serving.md §2): discover models and write the TFS config files, start every backend,
wait until the default model is AVAILABLE, prepare `code/`, start gunicorn (only now does the
public port open). A dead backend or gunicorn is restarted; one that keeps dying at start-up
ends the service with a clear message. SIGTERM: gunicorn drains in-flight requests, then the
backends stop; everything is gone within 30 s.
"""

import logging
import selectors
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import replace

from sagemaker_tensorflow_runtime.container.resources import count_gpus
from sagemaker_tensorflow_runtime.container.signals import SignalRecorder, signal_name
from sagemaker_tensorflow_runtime.serving.backend import BackendInstance, backend_instances
from sagemaker_tensorflow_runtime.serving.children import Child
from sagemaker_tensorflow_runtime.serving.dependencies import prepare_code_dir
from sagemaker_tensorflow_runtime.serving.discovery import default_model, discover_models
from sagemaker_tensorflow_runtime.serving.front_config import FrontConfig
from sagemaker_tensorflow_runtime.serving.handlers import check_handler_source
from sagemaker_tensorflow_runtime.serving.legacy_setup import LEGACY_MODEL_NAME, legacy_module
from sagemaker_tensorflow_runtime.serving.readiness import wait_until_available
from sagemaker_tensorflow_runtime.serving.settings import ServingSettings
from sagemaker_tensorflow_runtime.serving.tfs_config import (
    batching_config,
    write_batching_config,
    write_model_config,
)

logger = logging.getLogger("sagemaker_tensorflow_runtime.serve")

STOP_SECONDS = 30.0
GRACEFUL_SECONDS = 20
RESTART_DELAY_SECONDS = 1.0
GUNICORN_TIMEOUT_MARGIN = 5
GUNICORN_BOOT_ERRORS = (3, 4)  # gunicorn's WORKER_BOOT_ERROR and APP_LOAD_ERROR


class ServiceFailed(RuntimeError):
    """The service cannot run; the message says why."""


# glibc otherwise mmaps (and page-faults in) a fresh block for every large buffer; keeping
# buffers up to 32 MiB in the heap halves the backend's cost of a 1 MB gRPC request and takes
# 10-20% off the front's CPU for multi-MB bodies (bench/results).
MALLOC_TUNABLES = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=134217728"


def backend_environment(environ: Mapping[str, str], instance: BackendInstance) -> dict[str, str]:
    env = {**environ, **instance.env}
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("GLIBC_TUNABLES", MALLOC_TUNABLES)
    return env


def front_environment(environ: Mapping[str, str], additions: Mapping[str, str]) -> dict[str, str]:
    env = {**environ, **additions}
    env.setdefault("GLIBC_TUNABLES", MALLOC_TUNABLES)
    return env


def gunicorn_argv(settings: ServingSettings) -> tuple[str, ...]:
    return (
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:sagemaker_tensorflow_runtime.serving.gunicorn_conf",
        "--bind",
        f"0.0.0.0:{settings.bind_port}",
        "--workers",
        str(settings.gunicorn_workers),
        "--threads",
        str(settings.gunicorn_threads),
        "--worker-class",
        settings.gunicorn_worker_class,
        "--timeout",
        # The stall guard answers 502 after the configured timeout; gunicorn's own kill is
        # the backstop.
        str(settings.gunicorn_timeout + GUNICORN_TIMEOUT_MARGIN),
        "--graceful-timeout",
        str(GRACEFUL_SECONDS),
        "--keep-alive",
        "75",
        "--log-level",
        settings.gunicorn_log_level,
        "sagemaker_tensorflow_runtime.serving.app:create_app()",
    )


class Supervisor:
    """Owns every child of `serve`."""

    def __init__(self, settings: ServingSettings, environ: Mapping[str, str]) -> None:
        self.settings = settings
        self.environ = environ
        self.backends: list[Child] = []
        self.front: Child | None = None

    def prepare(self) -> FrontConfig:
        settings = self.settings
        config_dir = settings.serving_config_dir
        models = discover_models(settings.model_dir, config_dir)
        default = default_model(models, settings.default_model_name)
        legacy = legacy_module(settings, self.environ)
        if legacy is not None:
            default = replace(default, name=LEGACY_MODEL_NAME)
            models = [default]
        model_config = config_dir / "model-config.cfg"
        write_model_config(model_config, models)
        batching_file = None
        if settings.enable_batching:
            batching_file = config_dir / "batching-config.cfg"
            write_batching_config(
                batching_file,
                batching_config(
                    settings.max_batch_size,
                    settings.batch_timeout_micros,
                    settings.num_batch_threads,
                    settings.max_enqueued_batches,
                    settings.cpu_count,
                    settings.batch is not None,
                ),
            )
        gpus = settings.num_gpus if settings.num_gpus is not None else count_gpus(self.environ)
        instances = backend_instances(settings, model_config, batching_file, gpus, self.environ)
        self.backends = [
            Child(f"backend {i.index}", i.argv, backend_environment(self.environ, i))
            for i in instances
        ]
        read_timeout = settings.read_timeout
        if read_timeout > settings.proxy_read_timeout:
            logger.info("proxy read timeout raised to the gunicorn timeout: %d", read_timeout)
        logger.info("proxy_read_timeout %d;", read_timeout)
        code_dir = settings.model_dir / "code"
        inference = code_dir / "inference.py"
        if inference.is_file() and legacy is None:
            try:
                check_handler_source(inference)
            except NotImplementedError as exc:
                raise ServiceFailed(str(exc)) from None
        self._rest_ports = [i.rest_port for i in instances]
        self._default = default.name
        self._code_dir = code_dir
        return FrontConfig(
            backends=tuple((i.grpc_port, i.rest_port) for i in instances),
            default_model=default.name,
            inference_module=str(inference) if inference.is_file() else None,
            read_timeout_seconds=settings.legacy_grpc_timeout if legacy else float(read_timeout),
            handler_timeout_seconds=float(settings.gunicorn_timeout),
            legacy_module=str(legacy) if legacy else None,
            default_accept=settings.default_accept,
        )

    def _pip_index(self) -> str | None:
        arn = self.settings.codeartifact_arn
        if not arn or not (self._code_dir / "requirements.txt").is_file():
            return None
        from sagemaker_tensorflow_runtime.training.codeartifact import pip_index_url

        try:
            return pip_index_url(arn)
        except Exception as exc:  # the message names the ARN and the permissions needed
            raise ServiceFailed(str(exc)) from None

    def dead_backend(self) -> str | None:
        for child in self.backends:
            code = child.reap()
            if code is not None:
                return f"{child.name} (exit code {code})"
        return None

    def start(self, front_config: FrontConfig, signals: SignalRecorder) -> None:
        for child in self.backends:
            child.start()
        logger.info("waiting for model %s to become AVAILABLE", self._default)
        wait_until_available(
            self._rest_ports,
            self._default,
            self.settings.wait_time_seconds,
            self.dead_backend,
            stopping=lambda: signals.first is not None,
        )
        if signals.first is not None:
            return
        prepare_code_dir(self._code_dir, self.environ, self._pip_index())
        self.front = Child(
            "gunicorn",
            gunicorn_argv(self.settings),
            front_environment(self.environ, front_config.to_env()),
        )
        self.front.start()

    def run(self, signals: SignalRecorder) -> int:
        """Supervise until SIGTERM/SIGINT (exit 0) or a child that cannot be kept alive."""
        selector = selectors.DefaultSelector()
        selector.register(signals.fileno(), selectors.EVENT_READ, None)
        children = [*self.backends, *([self.front] if self.front else [])]
        for child in children:
            if child.pidfd is not None:
                selector.register(child.pidfd, selectors.EVENT_READ, child)
        try:
            while signals.first is None:
                for key, _ in selector.select():
                    if key.data is None:
                        signals.drain()
                        continue
                    child = key.data
                    selector.unregister(key.fd)
                    code = child.reap()
                    if child is self.front and code in GUNICORN_BOOT_ERRORS:
                        raise ServiceFailed(
                            f"the front failed to start (gunicorn exit code {code}): a worker "
                            "could not load the app or the handler module; see the log above"
                        )
                    if child.died_quickly():
                        raise ServiceFailed(
                            f"{child.name} keeps exiting right after starting (last exit code "
                            f"{code}); see its log above"
                        )
                    logger.error("%s exited with code %s; restarting it", child.name, code)
                    time.sleep(RESTART_DELAY_SECONDS)
                    child.start()
                    child.restarts += 1
                    assert child.pidfd is not None
                    selector.register(child.pidfd, selectors.EVENT_READ, child)
        finally:
            selector.close()
        logger.info("received %s: stopping", signal_name(signals.first))
        return 0

    def stop(self) -> None:
        deadline = time.monotonic() + STOP_SECONDS
        if self.front is not None:
            self.front.stop(deadline - 5)
        for child in self.backends:
            child.signal(signal.SIGTERM)
        for child in self.backends:
            child.stop(deadline)


def serve(settings: ServingSettings, environ: Mapping[str, str]) -> int:
    supervisor = Supervisor(settings, environ)
    with SignalRecorder() as signals:
        try:
            front_config = supervisor.prepare()
            supervisor.start(front_config, signals)
            return supervisor.run(signals) if signals.first is None else 0
        finally:
            supervisor.stop()
