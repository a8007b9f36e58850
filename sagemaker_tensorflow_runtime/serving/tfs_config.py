"""The files TensorFlow Serving reads: model config and batching parameters (serving.md §5)."""

import logging
from dataclasses import dataclass
from pathlib import Path

from sagemaker_tensorflow_runtime.serving.discovery import DiscoveredModel

logger = logging.getLogger(__name__)

TUNING_ADVICE = "Tuning this parameter may yield better performance."
UNLIMITED_ENQUEUED_BATCHES = 100_000_000


def model_config_text(models: list[DiscoveredModel]) -> str:
    """ModelServerConfig text: one block per model, versions pinned (`specific` policy)."""
    blocks = []
    for model in models:
        versions = "".join(f"        versions: {v}\n" for v in model.versions)
        blocks.append(
            "  config: {\n"
            f"    name: '{model.name}'\n"
            f"    base_path: '{model.base_path}'\n"
            "    model_platform: 'tensorflow'\n"
            "    model_version_policy: {\n"
            "      specific: {\n"
            f"{versions}"
            "      }\n"
            "    }\n"
            "  }\n"
        )
    return "model_config_list: {\n" + "".join(blocks) + "}\n"


@dataclass(frozen=True)
class BatchingConfig:
    """The four batching parameters and which of them were left at their defaults."""

    max_batch_size: int
    batch_timeout_micros: int
    num_batch_threads: int
    max_enqueued_batches: int
    defaulted: tuple[str, ...] = ()

    def text(self) -> str:
        return (
            f"max_batch_size {{ value: {self.max_batch_size} }}\n"
            f"batch_timeout_micros {{ value: {self.batch_timeout_micros} }}\n"
            f"num_batch_threads {{ value: {self.num_batch_threads} }}\n"
            f"max_enqueued_batches {{ value: {self.max_enqueued_batches} }}\n"
        )


def batching_config(
    max_batch_size: int | None,
    batch_timeout_micros: int | None,
    num_batch_threads: int | None,
    max_enqueued_batches: int | None,
    cpu_count: int,
    batch_transform: bool,
) -> BatchingConfig:
    """Values from the SAGEMAKER_TFS_* variables; None means the variable was not set."""
    defaults = {
        "max_batch_size": 8,
        "batch_timeout_micros": 1000,
        "num_batch_threads": cpu_count,
        "max_enqueued_batches": UNLIMITED_ENQUEUED_BATCHES if batch_transform else cpu_count,
    }
    given = {
        "max_batch_size": max_batch_size,
        "batch_timeout_micros": batch_timeout_micros,
        "num_batch_threads": num_batch_threads,
        "max_enqueued_batches": max_enqueued_batches,
    }
    values = {k: defaults[k] if v is None else v for k, v in given.items()}
    defaulted = tuple(k for k, v in given.items() if v is None)
    return BatchingConfig(**values, defaulted=defaulted)


def write_model_config(path: Path, models: list[DiscoveredModel]) -> str:
    text = model_config_text(models)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    logger.info("tensorflow serving model config: \n%s", text)
    return text


def write_batching_config(path: Path, config: BatchingConfig) -> str:
    text = config.text()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    logger.info("batching config: \n%s", text)
    if config.defaulted:
        logger.warning(
            "Batching parameters left at their defaults: %s. %s",
            ", ".join(config.defaulted),
            TUNING_ADVICE,
        )
    return text
