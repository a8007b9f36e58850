"""Every /opt/ml path, derived from one base directory (`SAGEMAKER_BASE_DIR`, default /opt/ml)."""

from dataclasses import dataclass
from pathlib import Path

DEFAULT_BASE_DIR = "/opt/ml"


@dataclass(frozen=True)
class Paths:
    """The SageMaker directory layout rooted at `base` (training.md §2)."""

    base: Path

    @property
    def code_dir(self) -> Path:
        return self.base / "code"

    @property
    def model_dir(self) -> Path:
        return self.base / "model"

    @property
    def input_dir(self) -> Path:
        return self.base / "input"

    @property
    def input_config_dir(self) -> Path:
        return self.input_dir / "config"

    @property
    def input_data_dir(self) -> Path:
        return self.input_dir / "data"

    @property
    def output_dir(self) -> Path:
        return self.base / "output"

    @property
    def output_data_dir(self) -> Path:
        return self.output_dir / "data"

    @property
    def output_intermediate_dir(self) -> Path:
        return self.output_dir / "intermediate"

    @property
    def success_file(self) -> Path:
        return self.output_dir / "success"

    @property
    def failure_file(self) -> Path:
        return self.output_dir / "failure"

    @property
    def hyperparameters_file(self) -> Path:
        return self.input_config_dir / "hyperparameters.json"

    @property
    def input_data_config_file(self) -> Path:
        return self.input_config_dir / "inputdataconfig.json"

    @property
    def resource_config_file(self) -> Path:
        return self.input_config_dir / "resourceconfig.json"

    @property
    def network_isolation_code_dir(self) -> Path:
        return self.input_data_dir / "code"

    def channel_dir(self, channel: str) -> Path:
        return self.input_data_dir / channel

    def create_job_dirs(self) -> None:
        """Directories SageMaker provides that a local tree may lack (not output/intermediate,
        whose presence means the platform syncs it)."""
        for directory in (self.code_dir, self.model_dir, self.output_data_dir):
            directory.mkdir(parents=True, exist_ok=True)

    def relocate(self, path: str) -> str:
        """Map a literal /opt/ml path (as the SDK writes it) under this base directory."""
        if str(self.base) == DEFAULT_BASE_DIR:
            return path
        if path == DEFAULT_BASE_DIR or path.startswith(DEFAULT_BASE_DIR + "/"):
            return str(self.base) + path[len(DEFAULT_BASE_DIR) :]
        return path
