"""Hyperparameter decoding and the reserved-key / `sagemaker_` split (training.md §4)."""

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

RESERVED_KEYS = frozenset(
    {
        "sagemaker_program",
        "sagemaker_submit_directory",
        "sagemaker_enable_cloudwatch_metrics",
        "sagemaker_region",
        "sagemaker_container_log_level",
        "sagemaker_job_name",
        "default_user_module_name",
        "_tuning_objective_metric",
        "sagemaker_s3_output",
    }
)


def decode_value(key: str, raw: Any) -> Any:
    """JSON-decode one value; a value that is not JSON is kept as the raw string."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        logger.info(
            "Failed to parse hyperparameter %s value %s to Json.\nReturning the value itself",
            key,
            raw,
        )
        return raw


def decode_hyperparameters(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {key: decode_value(key, value) for key, value in raw.items()}


def is_framework_key(key: str) -> bool:
    return key in RESERVED_KEYS or key.startswith("sagemaker_")


@dataclass(frozen=True)
class HyperparameterSplit:
    """Decoded hyperparameters split into user, reserved and additional framework keys."""

    user: dict[str, Any]
    reserved: dict[str, Any]
    additional_framework: dict[str, Any]

    @classmethod
    def of(cls, decoded: Mapping[str, Any]) -> "HyperparameterSplit":
        user, reserved, additional = {}, {}, {}
        for key, value in decoded.items():
            if key in RESERVED_KEYS:
                reserved[key] = value
            elif key.startswith("sagemaker_"):
                additional[key] = value
            else:
                user[key] = value
        return cls(user=user, reserved=reserved, additional_framework=additional)
