"""The training environment: every SM_* property, built once from config + settings.

`TrainingEnv.properties()` is the object exported as SM_TRAINING_ENV (training.md §7.1);
`sm_env_vars()` renders the complete SM_* variable set from it. Nothing here reads os.environ.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sagemaker_tensorflow_runtime.container.config import JobConfig, ResourceConfig
from sagemaker_tensorflow_runtime.container.hyperparameters import HyperparameterSplit
from sagemaker_tensorflow_runtime.container.paths import Paths
from sagemaker_tensorflow_runtime.container.rendering import (
    env_name,
    env_value,
    hyperparameters_to_argv,
)
from sagemaker_tensorflow_runtime.container.resources import HostResources

# Any of these truthy puts the current instance group into distribution (§4.3).
DISTRIBUTION_FLAGS = (
    "sagemaker_mpi_enabled",
    "sagemaker_parameter_server_enabled",
    "sagemaker_distributed_dataparallel_enabled",
    "sagemaker_multi_worker_mirrored_strategy_enabled",
    "sagemaker_pytorch_ddp_enabled",
    "sagemaker_pytorch_xla_multi_worker_enabled",
    "sagemaker_torch_distributed_enabled",
)


def is_truthy(value: Any) -> bool:
    """A framework flag as the SDK sends it: JSON `true`, or the strings "true"/"True"."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


@dataclass(frozen=True)
class Distribution:
    """Which hosts take part in a distributed launch and which of them is the master."""

    instance_groups: tuple[str, ...]
    hosts: tuple[str, ...]
    master_hostname: str
    is_master: bool
    in_distribution: bool


def resolve_distribution(
    resource: ResourceConfig, framework_params: Mapping[str, Any]
) -> Distribution:
    groups_hp = framework_params.get("sagemaker_distribution_instance_groups")
    if isinstance(groups_hp, list):
        groups = tuple(str(g) for g in groups_hp)
    elif any(is_truthy(framework_params.get(flag)) for flag in DISTRIBUTION_FLAGS):
        groups = (resource.current_group_name,)
    else:
        groups = ()
    if resource.instance_groups:
        hosts = tuple(h for g in resource.instance_groups if g.name in groups for h in g.hosts)
    else:
        hosts = resource.hosts
    master = hosts[0] if hosts else resource.hosts[0]
    return Distribution(
        instance_groups=groups,
        hosts=hosts,
        master_hostname=master,
        is_master=resource.current_host == master,
        in_distribution=resource.current_group_name in groups,
    )


@dataclass(frozen=True)
class TrainingEnv:
    """The job as the user script sees it; one field per SM_TRAINING_ENV property."""

    paths: Paths
    config: JobConfig
    resources: HostResources
    user_hyperparameters: dict[str, Any]
    additional_framework_parameters: dict[str, Any]
    user_entry_point: str | None
    module_dir: str
    log_level: int
    job_name: str | None
    framework_module: str | None
    distribution: Distribution

    @property
    def resource_config(self) -> ResourceConfig:
        return self.config.resource_config

    @property
    def current_host(self) -> str:
        return self.resource_config.current_host

    @property
    def hosts(self) -> tuple[str, ...]:
        return self.resource_config.hosts

    @property
    def module_name(self) -> str | None:
        entry = self.user_entry_point
        return entry[: -len(".py")] if entry and entry.endswith(".py") else entry

    @property
    def user_args(self) -> list[str]:
        return hyperparameters_to_argv(self.user_hyperparameters)

    @property
    def channel_input_dirs(self) -> dict[str, str]:
        return {c.name: str(self.paths.channel_dir(c.name)) for c in self.config.channels}

    @property
    def current_instance_group_hosts(self) -> list[str]:
        for group in self.resource_config.instance_groups:
            if group.name == self.resource_config.current_group_name:
                return list(group.hosts)
        return []

    @property
    def is_modelparallel_enabled(self) -> bool:
        mp = self.user_hyperparameters.get("mp_parameters")
        return bool(mp) and mp != "{}"

    def properties(self) -> dict[str, Any]:
        """The SM_TRAINING_ENV object (37 keys)."""
        rc = self.resource_config
        groups = rc.instance_groups
        return {
            "additional_framework_parameters": self.additional_framework_parameters,
            "channel_input_dirs": self.channel_input_dirs,
            "current_host": rc.current_host,
            "current_instance_group": rc.current_group_name,
            "current_instance_group_hosts": self.current_instance_group_hosts,
            "current_instance_type": rc.current_instance_type,
            "distribution_hosts": list(self.distribution.hosts),
            "distribution_instance_groups": list(self.distribution.instance_groups),
            "framework_module": self.framework_module,
            "hosts": list(rc.hosts),
            "hyperparameters": self.user_hyperparameters,
            "input_config_dir": str(self.paths.input_config_dir),
            "input_data_config": self.config.input_data_config,
            "input_dir": str(self.paths.input_dir),
            "instance_groups": [g.name for g in groups],
            "instance_groups_dict": {g.name: g.as_dict() for g in groups},
            "is_hetero": len(groups) > 1,
            "is_master": self.distribution.is_master,
            "is_modelparallel_enabled": self.is_modelparallel_enabled,
            "is_smddpmprun_installed": self.resources.smddpmprun_installed,
            "is_smddprun_installed": self.resources.smddprun_installed,
            "job_name": self.job_name,
            "log_level": self.log_level,
            "master_hostname": self.distribution.master_hostname,
            "model_dir": str(self.paths.model_dir),
            "module_dir": self.module_dir,
            "module_name": self.module_name,
            "network_interface_name": rc.network_interface_name,
            "num_cpus": self.resources.num_cpus,
            "num_gpus": self.resources.num_gpus,
            "num_neurons": self.resources.num_neurons,
            "output_data_dir": str(self.paths.output_data_dir),
            "output_dir": str(self.paths.output_dir),
            "output_intermediate_dir": str(self.paths.output_intermediate_dir),
            "resource_config": rc.raw,
            "topology": rc.topology,
            "user_entry_point": self.user_entry_point,
        }

    def sm_env_vars(self) -> dict[str, str]:
        """The complete SM_* variable set, in the order of the contract's table."""
        props = self.properties()
        env: dict[str, str] = {}

        def put(name: str, value: Any) -> None:
            env[env_name(name)] = env_value(value)

        for key in ("hosts", "current_host", "network_interface_name"):
            put(key, props[key])
        put("hps", self.user_hyperparameters)
        for key, value in self.user_hyperparameters.items():
            if key:
                put("hp_" + key, value)
        put("user_args", self.user_args)
        put("user_entry_point", self.user_entry_point)
        put("module_name", self.module_name)
        put("module_dir", self.module_dir)
        put("framework_params", self.additional_framework_parameters)
        put("framework_module", self.framework_module)
        put("resource_config", props["resource_config"])
        put("input_data_config", props["input_data_config"])
        put("channels", sorted(self.channel_input_dirs))
        for name, path in self.channel_input_dirs.items():
            put("channel_" + name, path)
        for key in (
            "model_dir",
            "input_dir",
            "input_config_dir",
            "output_dir",
            "output_data_dir",
            "output_intermediate_dir",
            "num_cpus",
            "num_gpus",
            "num_neurons",
            "log_level",
            "current_instance_type",
        ):
            put(key, props[key])
        put("current_instance_group", props["current_instance_group"])
        put("current_instance_group_hosts", props["current_instance_group_hosts"])
        put("instance_groups", props["instance_groups"])
        put("instance_groups_dict", props["instance_groups_dict"])
        put("distribution_instance_groups", props["distribution_instance_groups"])
        put("is_hetero", props["is_hetero"])
        put("training_env", props)
        if props["topology"]:
            put("topology", props["topology"])
        return env

    def pretty_properties(self) -> str:
        return json.dumps(self.properties(), indent=4, sort_keys=True, default=str)


def build_training_env(
    paths: Paths,
    config: JobConfig,
    resources: HostResources,
    *,
    user_hyperparameters: dict[str, Any] | None = None,
    entry_point: str | None,
    module_dir: str | None,
    log_level: int,
    job_name: str | None,
    framework_module: str | None,
) -> TrainingEnv:
    split = HyperparameterSplit.of(config.hyperparameters)
    return TrainingEnv(
        paths=paths,
        config=config,
        resources=resources,
        user_hyperparameters=(split.user if user_hyperparameters is None else user_hyperparameters),
        additional_framework_parameters=split.additional_framework,
        user_entry_point=entry_point,
        module_dir=module_dir or str(paths.code_dir),
        log_level=log_level,
        job_name=job_name,
        framework_module=framework_module,
        distribution=resolve_distribution(config.resource_config, split.additional_framework),
    )
