"""Resolving the job's settings (training.md §4.2) and building its environment once.

Each value has one documented source order; the result is a `TrainingEnv` that every later step
receives instead of re-reading files or variables.
"""

import logging
from collections.abc import Mapping
from typing import Any

from sagemaker_tensorflow_runtime.container.config import JobConfig
from sagemaker_tensorflow_runtime.container.environment import TrainingEnv, build_training_env
from sagemaker_tensorflow_runtime.container.hyperparameters import HyperparameterSplit
from sagemaker_tensorflow_runtime.container.paths import Paths
from sagemaker_tensorflow_runtime.container.resources import HostResources
from sagemaker_tensorflow_runtime.training.errors import ConfigurationError
from sagemaker_tensorflow_runtime.training.settings import TrainSettings
from sagemaker_tensorflow_runtime.training.tensorflow import tuning_model_dir

logger = logging.getLogger(__name__)

DEFAULT_LOG_LEVEL = 20


def _optional_str(hps: Mapping[str, Any], key: str) -> str | None:
    value = hps.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigurationError(
            f"Hyperparameter {key} must be a string, got {value!r}; "
            f'write it JSON-encoded, e.g. "{key}": "\\"value\\"".'
        )
    return value


def resolve_log_level(hps: Mapping[str, Any], settings: TrainSettings) -> int:
    value = hps.get("sagemaker_container_log_level", settings.log_level)
    if value is None:
        return DEFAULT_LOG_LEVEL
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"sagemaker_container_log_level {value!r} is not an integer log level; "
            "use 10 (DEBUG), 20 (INFO), 30 (WARNING) or 40 (ERROR)."
        ) from None


def resolve_region(hps: Mapping[str, Any], settings: TrainSettings) -> str:
    return (
        _optional_str(hps, "sagemaker_region")
        or settings.aws_region
        or settings.aws_default_region
        or ""
    )


def resolve_job_name(hps: Mapping[str, Any], settings: TrainSettings) -> str | None:
    return settings.job_name or _optional_str(hps, "sagemaker_job_name")


def resolve_code_location(
    hps: Mapping[str, Any], settings: TrainSettings, paths: Paths
) -> str | None:
    location = _optional_str(hps, "sagemaker_submit_directory") or settings.submit_directory
    return paths.relocate(location) if location else None


def build_job_env(
    paths: Paths, config: JobConfig, settings: TrainSettings, resources: HostResources
) -> TrainingEnv:
    hps = config.hyperparameters
    job_name = resolve_job_name(hps, settings)
    user_hps = HyperparameterSplit.of(hps).user
    if "_tuning_objective_metric" in config.raw_hyperparameters:
        user_hps = tuning_model_dir(user_hps, job_name)
    location = _optional_str(hps, "sagemaker_submit_directory") or settings.submit_directory
    return build_training_env(
        paths,
        config,
        resources,
        user_hyperparameters=user_hps,
        entry_point=settings.program or _optional_str(hps, "sagemaker_program"),
        module_dir=location,
        log_level=resolve_log_level(hps, settings),
        job_name=job_name,
        framework_module=settings.framework_module,
    )
