"""Reading and validating the three files under input/config (training.md §2, §3).

Missing files are what a run outside SageMaker looks like: each gets its documented default and
one log line says what was assumed. A file that exists but is malformed is a `ConfigError` naming
the file, what is wrong and the expected shape.
"""

import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sagemaker_tensorflow_runtime.container.hyperparameters import decode_hyperparameters
from sagemaker_tensorflow_runtime.container.paths import Paths

logger = logging.getLogger(__name__)

CHANNEL_NAME = re.compile(r"[A-Za-z0-9.\-_]{1,64}")
DEFAULT_INTERFACE = "eth0"
DEFAULT_INSTANCE_TYPE = "local"
DEFAULT_GROUP = "homogeneousCluster"


class ConfigError(Exception):
    """A config file under input/config is missing a required value or is malformed."""


@dataclass(frozen=True)
class InstanceGroup:
    """One entry of resourceconfig `instance_groups`."""

    name: str
    instance_type: str
    hosts: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "hosts": list(self.hosts),
            "instance_group_name": self.name,
            "instance_type": self.instance_type,
        }


@dataclass(frozen=True)
class ResourceConfig:
    """resourceconfig.json with every documented default applied; `raw` is kept verbatim."""

    raw: dict[str, Any]
    current_host: str
    hosts: tuple[str, ...]
    network_interface_name: str = DEFAULT_INTERFACE
    current_instance_type: str = DEFAULT_INSTANCE_TYPE
    current_group_name: str = DEFAULT_GROUP
    instance_groups: tuple[InstanceGroup, ...] = ()
    topology: list[Any] | None = None


@dataclass(frozen=True)
class ChannelSpec:
    """One input channel of inputdataconfig.json."""

    name: str
    input_mode: str = "File"
    content_type: str | None = None
    s3_distribution_type: str | None = None
    record_wrapper_type: str | None = None


@dataclass(frozen=True)
class JobConfig:
    """Everything read from input/config, decoded once."""

    raw_hyperparameters: dict[str, Any]
    hyperparameters: dict[str, Any]
    input_data_config: dict[str, Any]
    channels: tuple[ChannelSpec, ...]
    resource_config: ResourceConfig
    assumptions: tuple[str, ...] = field(default=())


def read_json_object(path: Path, example: str) -> dict[str, Any] | None:
    """The JSON object in `path`, None when the file is missing; ConfigError when malformed."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read {path}: {exc}. It must be a UTF-8 JSON file.") from None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ConfigError(
            f"{path} is not valid JSON ({exc}). It must hold a JSON object such as {example}."
        ) from None
    if not isinstance(value, dict):
        raise ConfigError(
            f"{path} holds a JSON {type(value).__name__}, not an object. "
            f"It must hold a JSON object such as {example}."
        )
    return value


def _string(path: Path, obj: dict[str, Any], key: str, default: str | None) -> str | None:
    value = obj.get(key, default)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{path}: '{key}' must be a string, got {json.dumps(value)}.")
    return value


def _host_list(path: Path, value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(h, str) and h for h in value):
        raise ConfigError(
            f'{path}: \'{what}\' must be a list of host names such as ["algo-1", "algo-2"], '
            f"got {json.dumps(value)}."
        )
    return tuple(sorted(value))


def parse_instance_groups(path: Path, value: Any) -> tuple[InstanceGroup, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(f"{path}: 'instance_groups' must be a list, got {json.dumps(value)}.")
    groups = []
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("instance_group_name"), str):
            raise ConfigError(
                f"{path}: each 'instance_groups' entry must be an object with "
                f"'instance_group_name', 'instance_type' and 'hosts', got {json.dumps(entry)}."
            )
        groups.append(
            InstanceGroup(
                name=entry["instance_group_name"],
                instance_type=str(entry.get("instance_type", "")),
                hosts=_host_list(path, entry.get("hosts", []), "instance_groups[].hosts"),
            )
        )
    return tuple(groups)


def parse_resource_config(path: Path, raw: dict[str, Any]) -> ResourceConfig:
    current_host = _string(path, raw, "current_host", None)
    if not current_host:
        raise ConfigError(
            f"{path}: 'current_host' is missing. It names this host, e.g. "
            '{"current_host": "algo-1", "hosts": ["algo-1"]}.'
        )
    hosts = _host_list(path, raw.get("hosts", [current_host]), "hosts")
    if current_host not in hosts:
        raise ConfigError(
            f"{path}: current_host {current_host!r} is not one of hosts {list(hosts)}; "
            "add it to 'hosts'."
        )
    topology = raw.get("topology")
    return ResourceConfig(
        raw=raw,
        current_host=current_host,
        hosts=hosts,
        network_interface_name=_string(path, raw, "network_interface_name", DEFAULT_INTERFACE)
        or DEFAULT_INTERFACE,
        current_instance_type=_string(path, raw, "current_instance_type", DEFAULT_INSTANCE_TYPE)
        or DEFAULT_INSTANCE_TYPE,
        current_group_name=_string(path, raw, "current_group_name", DEFAULT_GROUP) or DEFAULT_GROUP,
        instance_groups=parse_instance_groups(path, raw.get("instance_groups")),
        topology=topology if isinstance(topology, list) and topology else None,
    )


def parse_channels(path: Path, raw: dict[str, Any]) -> tuple[ChannelSpec, ...]:
    channels = []
    for name, spec in sorted(raw.items()):
        if not CHANNEL_NAME.fullmatch(name):
            raise ConfigError(
                f"{path}: channel name {name!r} is invalid; channel names are 1 to 64 "
                "characters from A-Z, a-z, 0-9, '.', '-' and '_'."
            )
        if not isinstance(spec, dict):
            raise ConfigError(
                f"{path}: channel {name!r} must map to an object such as "
                f'{{"TrainingInputMode": "File"}}, got {json.dumps(spec)}.'
            )
        channels.append(
            ChannelSpec(
                name=name,
                input_mode=str(spec.get("TrainingInputMode", "File")),
                content_type=spec.get("ContentType"),
                s3_distribution_type=spec.get("S3DistributionType"),
                record_wrapper_type=spec.get("RecordWrapperType"),
            )
        )
    return tuple(channels)


def local_hostname() -> str:
    """gethostname(), without importing socket on the launcher's start path."""
    return os.uname().nodename


def load_job_config(paths: Paths) -> JobConfig:
    """Read hyperparameters.json, inputdataconfig.json and resourceconfig.json under `paths`."""
    assumptions = []
    hp_file = paths.hyperparameters_file
    raw_hps = read_json_object(hp_file, '{"epochs": "10", "sagemaker_program": "\\"train.py\\""}')
    if raw_hps is None:
        assumptions.append(f"{hp_file} not found: assuming no hyperparameters")
        raw_hps = {}
    idc_file = paths.input_data_config_file
    input_data_config = read_json_object(idc_file, '{"training": {"TrainingInputMode": "File"}}')
    if input_data_config is None:
        assumptions.append(f"{idc_file} not found: assuming no input channels")
        input_data_config = {}
    rc_file = paths.resource_config_file
    raw_rc = read_json_object(rc_file, '{"current_host": "algo-1", "hosts": ["algo-1"]}')
    if raw_rc is None:
        host = local_hostname()
        raw_rc = {"current_host": host, "hosts": [host]}
        assumptions.append(f"{rc_file} not found: assuming a single host named {host!r}")
    return JobConfig(
        raw_hyperparameters=raw_hps,
        hyperparameters=decode_hyperparameters(raw_hps),
        input_data_config=input_data_config,
        channels=parse_channels(idc_file, input_data_config),
        resource_config=parse_resource_config(rc_file, raw_rc),
        assumptions=tuple(assumptions),
    )
