"""TensorFlow specifics of the training contract (training.md §7.2, §10.1, §14).

The tuning-job `model_dir` suffix, the S3 variables TensorFlow's filesystem reads, and the
warnings about models that SageMaker TensorFlow Serving could not serve.
"""

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sagemaker_tensorflow_runtime.training import s3

logger = logging.getLogger(__name__)

NO_MODEL_WARNING = (
    "No model artifact is saved under path {model_dir}. Your training job will not save any "
    "model files to S3.\nFor details of how to construct your training script see:\n"
    "https://sagemaker.readthedocs.io/en/stable/using_tf.html#adapting-your-local-tensorflow-script"
)
NOT_SAVED_MODEL_WARNING = (
    "Your model will NOT be servable with SageMaker TensorFlow Serving container. The model "
    "artifact was not saved in the TensorFlow SavedModel directory structure:\n"
    "https://www.tensorflow.org/guide/saved_model#structure_of_a_savedmodel_directory"
)
NOT_NUMERIC_WARNING = (
    "Your model will NOT be servable with SageMaker TensorFlow Serving containers. The "
    'SavedModel bundle is under directory "{parent}", not a numeric name.'
)


def tuning_model_dir(user_hps: dict[str, Any], job_name: str | None) -> dict[str, Any]:
    """In tuning jobs, give each child job its own `<model_dir>/<job>/model`."""
    model_dir = user_hps.get("model_dir")
    if model_dir is None:
        return user_hps
    model_dir = str(model_dir)
    if model_dir.startswith("/opt/ml") or not job_name:
        return user_hps
    new_value = f"{model_dir.rstrip('/')}/{job_name}/model"
    logger.info("Appending the training job name to model_dir: %s", new_value)
    return {**user_hps, "model_dir": new_value}


def s3_environment(model_dir: Any, job_region: str, environ: Mapping[str, str]) -> dict[str, str]:
    """S3_REGION, S3_USE_HTTPS and TF_CPP_MIN_LOG_LEVEL for the user process."""
    region = job_region
    if isinstance(model_dir, str) and model_dir.startswith("s3://"):
        try:
            region = s3.bucket_region(model_dir, environ, job_region or None)
        except Exception as exc:  # denied, offline, no credentials: never fatal
            logger.warning(
                "Could not look up the region of the bucket of model_dir %s (%s); "
                "using the job region %r for S3_REGION",
                model_dir,
                exc,
                job_region,
            )
    return {"S3_REGION": region, "S3_USE_HTTPS": "1", "TF_CPP_MIN_LOG_LEVEL": "1"}


def model_warnings(model_dir: Path) -> list[str]:
    """The reasons, if any, why SageMaker TensorFlow Serving could not serve `model_dir`."""
    files = [Path(root) / name for root, _, names in os.walk(model_dir) for name in names]
    if not files:
        return [NO_MODEL_WARNING.format(model_dir=model_dir)]
    bundles = [f for f in files if "saved_model.pb" in f.name]
    if not bundles:
        return [NOT_SAVED_MODEL_WARNING]
    return [
        NOT_NUMERIC_WARNING.format(parent=f.parent.name)
        for f in sorted(bundles)
        if not f.parent.name.isdigit()
    ]
