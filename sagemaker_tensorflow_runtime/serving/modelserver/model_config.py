"""Which models and versions to serve: ModelServerConfig (text format) or --model_name/base_path."""

import enum
from dataclasses import dataclass, field
from pathlib import Path

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2


class PolicyKind(enum.Enum):
    """TF Serving's model_version_policy choices."""

    LATEST = "latest"
    ALL = "all"
    SPECIFIC = "specific"


@dataclass(frozen=True)
class VersionPolicy:
    """Which of the versions found on disk to serve."""

    kind: PolicyKind = PolicyKind.LATEST
    num_latest: int = 1
    versions: tuple[int, ...] = ()

    def select(self, available: list[int]) -> list[int]:
        if self.kind is PolicyKind.ALL:
            return sorted(available)
        if self.kind is PolicyKind.SPECIFIC:
            return sorted(v for v in available if v in self.versions)
        return sorted(available)[-max(1, self.num_latest) :]


@dataclass(frozen=True)
class ModelConfig:
    """One `config` block of the model config list."""

    name: str
    base_path: Path
    policy: VersionPolicy = VersionPolicy()
    labels: dict[str, int] = field(default_factory=dict)


class ConfigFileError(ValueError):
    """The model config file cannot be read or parsed."""


def versions_on_disk(base_path: Path) -> dict[int, Path]:
    """Numeric version directories under `base_path` (hidden and non-numeric ones skipped)."""
    if not base_path.is_dir():
        return {}
    found = {}
    for child in base_path.iterdir():
        if child.is_dir() and child.name.isdigit() and not child.name.startswith("."):
            found[int(child.name)] = child
    return found


def from_proto(config: model_server_config_pb2.ModelServerConfig) -> list[ModelConfig]:
    if config.WhichOneof("config") == "custom_model_config":
        raise ConfigFileError("custom_model_config is not supported; use model_config_list")
    models = []
    for entry in config.model_config_list.config:
        if entry.model_platform not in ("", "tensorflow"):
            raise ConfigFileError(
                f"model {entry.name}: model_platform {entry.model_platform!r} is not supported"
            )
        which = entry.model_version_policy.WhichOneof("policy_choice")
        if which == "all":
            policy = VersionPolicy(PolicyKind.ALL)
        elif which == "specific":
            specific = entry.model_version_policy.specific.versions
            policy = VersionPolicy(PolicyKind.SPECIFIC, versions=tuple(specific))
        else:
            latest = entry.model_version_policy.latest.num_versions
            policy = VersionPolicy(PolicyKind.LATEST, num_latest=latest or 1)
        models.append(
            ModelConfig(
                name=entry.name,
                base_path=Path(entry.base_path),
                policy=policy,
                labels=dict(entry.version_labels),
            )
        )
    return models


def parse_config_text(text: str) -> list[ModelConfig]:
    config = model_server_config_pb2.ModelServerConfig()
    try:
        text_format.Parse(text, config)
    except text_format.ParseError as exc:
        raise ConfigFileError(f"invalid ModelServerConfig text: {exc}") from None
    return from_proto(config)


def load_config_file(path: Path) -> list[ModelConfig]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigFileError(f"cannot read model config file {path}: {exc}") from None
    return parse_config_text(text)
