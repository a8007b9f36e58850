"""Model lifecycle: which versions are wanted, loading them, their states, resolving requests.

States follow TF Serving: START → LOADING → AVAILABLE, and UNLOADING → END when a version
leaves the config; a failed load ends in END with its error kept for the status API. Loads run
on a small thread pool so a slow model never blocks requests to the others.
"""

import gc
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sagemaker_tensorflow_runtime.serving.modelserver.errors import (
    Code,
    invalid,
    not_found,
)
from sagemaker_tensorflow_runtime.serving.modelserver.model_config import (
    ModelConfig,
    versions_on_disk,
)
from sagemaker_tensorflow_runtime.serving.modelserver.servable import Servable

logger = logging.getLogger(__name__)

START, LOADING, AVAILABLE, UNLOADING, END = "START", "LOADING", "AVAILABLE", "UNLOADING", "END"


def settle_heap() -> None:
    """Collect, then put every object alive out of the cyclic collector's reach (~0.15 s).

    With TensorFlow and a model loaded the heap holds ~280k tracked objects, and a full
    collection walks all of them: a request that allocates many containers (a 300 KB JSON body
    of 25k rows) triggered one every few requests, ~45 ms each, more than the request itself.
    Done after every load and unload (unfreezing first, so an unloaded model's cycles go).
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


Loader = Callable[[str, int, Path], Servable]


@dataclass
class VersionStatus:
    """The state of one model version, as the status APIs report it."""

    version: int
    path: Path
    state: str = START
    error_code: Code = Code.OK
    error_message: str = ""
    servable: Servable | None = None


@dataclass
class ModelEntry:
    """A configured model and its versions."""

    config: ModelConfig
    versions: dict[int, VersionStatus] = field(default_factory=dict)


class ModelManager:
    """Holds every model version and answers which servable a request goes to."""

    def __init__(
        self,
        loader: Loader,
        load_threads: int = 2,
        max_load_retries: int = 0,
        retry_interval_seconds: float = 60.0,
    ) -> None:
        self._loader = loader
        self._models: dict[str, ModelEntry] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=load_threads, thread_name_prefix="load")
        self._max_retries = max_load_retries
        self._retry_interval = retry_interval_seconds

    def apply(self, configs: list[ModelConfig]) -> list[Future[VersionStatus]]:
        """Make the served set equal to `configs`; returns the loads it started."""
        loads: list[Future[VersionStatus]] = []
        wanted_names = {c.name for c in configs}
        with self._lock:
            for name, entry in self._models.items():
                if name not in wanted_names:
                    self._unload_all(entry)
            for config in configs:
                existing = self._models.get(config.name)
                if existing is not None and existing.config.base_path == config.base_path:
                    entry = existing
                else:
                    if existing is not None:
                        self._unload_all(existing)
                    entry = self._models[config.name] = ModelEntry(config)
                entry.config = config
                loads.extend(self._reconcile(entry))
        return loads

    def _reconcile(
        self, entry: ModelEntry, retry_failed: bool = True
    ) -> list[Future[VersionStatus]]:
        on_disk = versions_on_disk(entry.config.base_path)
        wanted = entry.config.policy.select(list(on_disk))
        if not wanted:
            logger.warning(
                "No versions of servable %s found under base path %s",
                entry.config.name,
                entry.config.base_path,
            )
        loads = []
        still_loading = any(
            entry.versions[v].state in (START, LOADING) for v in wanted if v in entry.versions
        )
        for version, status in entry.versions.items():
            # A version leaves only once its successors are up (availability-preserving).
            if version not in wanted and status.state != END and not still_loading:
                self._unload(status)
        for version in wanted:
            current = entry.versions.get(version)
            if current is not None and current.state in (START, LOADING, AVAILABLE):
                continue
            if current is not None and current.error_code != Code.OK and not retry_failed:
                continue  # a failed load is retried by a config reload, not by polling
            status = entry.versions[version] = VersionStatus(version, on_disk[version])
            loads.append(self._pool.submit(self._load, entry.config.name, status))
        return loads

    def _load(self, name: str, status: VersionStatus) -> VersionStatus:
        status.state = LOADING
        logger.info("Loading servable version {name: %s version: %d}", name, status.version)
        for attempt in range(self._max_retries + 1):
            try:
                servable = self._loader(name, status.version, status.path)
            except Exception as exc:  # any load failure is reported through the status API
                status.error_code = Code.UNKNOWN
                status.error_message = (
                    f"Failed to load servable {name} version {status.version}: {exc}"
                )
                logger.error("%s (attempt %d)", status.error_message, attempt + 1)
                if attempt < self._max_retries:
                    time.sleep(self._retry_interval)
                continue
            settle_heap()
            with self._lock:
                if status.state == LOADING:
                    status.servable = servable
                    status.state = AVAILABLE
                    status.error_code, status.error_message = Code.OK, ""
            logger.info(
                "Successfully loaded servable version {name: %s version: %d}", name, status.version
            )
            return status
        status.state = END
        return status

    def _unload(self, status: VersionStatus) -> None:
        status.state = UNLOADING
        status.servable = None
        settle_heap()
        status.state = END

    def _unload_all(self, entry: ModelEntry) -> None:
        for status in entry.versions.values():
            if status.state != END:
                self._unload(status)

    def refresh(self) -> list[Future[VersionStatus]]:
        """Re-scan every base path: load new versions the policy wants, retire old ones."""
        with self._lock:
            return [
                load
                for entry in self._models.values()
                for load in self._reconcile(entry, retry_failed=False)
            ]

    def model_names(self) -> list[str]:
        with self._lock:
            return list(self._models)

    def resolve(self, name: str, version: int | None = None, label: str | None = None) -> Servable:
        """The servable a request for (name, version | label | latest) goes to."""
        with self._lock:
            entry = self._models.get(name)
            if label is not None:
                if entry is None or label not in entry.config.labels:
                    raise invalid(f"Unrecognized servable version label: {label}")
                version = entry.config.labels[label]
            if version is not None:
                status = entry.versions.get(version) if entry else None
                if status is None or status.servable is None:
                    raise not_found(f"Servable not found for request: Specific({name}, {version})")
                return status.servable
            available = [s for s in entry.versions.values() if s.servable] if entry else []
            if not available:
                raise not_found(f"Servable not found for request: Latest({name})")
            servable = max(available, key=lambda s: s.version).servable
            assert servable is not None
            return servable

    def status(
        self, name: str, version: int | None = None, label: str | None = None
    ) -> list[VersionStatus]:
        with self._lock:
            entry = self._models.get(name)
            if entry is None or not entry.versions:
                raise not_found(f"Could not find any versions of model {name}")
            if label is not None:
                if label not in entry.config.labels:
                    raise invalid(f"Unrecognized servable version label: {label}")
                version = entry.config.labels[label]
            if version is not None:
                if version not in entry.versions:
                    raise not_found(f"Could not find version {version} of model {name}")
                return [entry.versions[version]]
            return sorted(entry.versions.values(), key=lambda s: -s.version)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def wait_for(loads: list[Future[VersionStatus]], timeout: float | None = None) -> list[str]:
    """Wait for loads to finish; the error messages of the ones that failed."""
    errors = []
    for load in loads:
        status = load.result(timeout=timeout)
        if status.state != AVAILABLE:
            errors.append(status.error_message)
    return errors
