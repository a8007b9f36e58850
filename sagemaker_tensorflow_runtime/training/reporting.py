"""The success and failure files SageMaker reads at the end of a job (training.md §12)."""

import logging
import os

from sagemaker_tensorflow_runtime.container.paths import Paths

logger = logging.getLogger(__name__)


def clear_stale_reports(paths: Paths) -> None:
    """Remove success/failure files left by an earlier run on the same tree."""
    for path in (paths.success_file, paths.failure_file):
        if path.exists():
            logger.info("Removing %s left by an earlier run", path)
            path.unlink()


def report_success(paths: Paths) -> None:
    paths.output_dir.mkdir(parents=True, exist_ok=True)
    paths.success_file.touch()
    logger.info("Reporting training SUCCESS")


def report_failure(paths: Paths, message: str, exit_code: int) -> None:
    """Write `output/failure` unless the user's code already wrote its own reason."""
    paths.output_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(paths.failure_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        logger.info("Keeping the failure file %s written by the training code", paths.failure_file)
    else:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(message)
    logger.error("Reporting training FAILURE")
    logger.error("Encountered exit_code %d", exit_code)
