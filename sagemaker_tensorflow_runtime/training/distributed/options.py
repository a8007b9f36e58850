"""The settings distributed modes use, resolved once by the CLI."""

from dataclasses import dataclass
from pathlib import Path

from sagemaker_tensorflow_runtime.training import settings


@dataclass(frozen=True)
class DistributedOptions:
    """Bounds, intervals and programs of the distributed launchers."""

    master_probe_seconds: float = settings.DEFAULT_MASTER_PROBE_SECONDS
    ssh_wait_seconds: float = settings.DEFAULT_SSH_WAIT_SECONDS
    orted_wait_seconds: float = settings.DEFAULT_ORTED_WAIT_SECONDS
    sshd: str = settings.DEFAULT_SSHD
    gethostname_library: Path | None = None
    grace_seconds: float = settings.DEFAULT_GRACE_SECONDS
    cache_dir: Path | None = None

    def library(self) -> Path:
        """The configured gethostname library, else the cached build of our source (resolved
        only by MPI jobs, so other jobs never hash or build it)."""
        if self.gethostname_library is not None:
            return self.gethostname_library
        from sagemaker_tensorflow_runtime.training.distributed.hostname import default_library

        return default_library(self.cache_dir or Path("."))

    @classmethod
    def from_settings(cls, train: settings.TrainSettings, cache_dir: Path) -> "DistributedOptions":
        library = Path(train.gethostname_library) if train.gethostname_library else None
        return cls(
            master_probe_seconds=train.master_probe_seconds,
            ssh_wait_seconds=train.ssh_wait_seconds,
            orted_wait_seconds=train.orted_wait_seconds,
            sshd=train.sshd,
            gethostname_library=library,
            grace_seconds=train.grace_seconds,
            cache_dir=cache_dir,
        )
