"""Log set-up shared by both commands: one format, level from the job."""

import logging
import sys

LOG_FORMAT = "%(asctime)s %(name)-12s %(levelname)-8s %(message)s"
ROOT_LOGGER = "sagemaker_tensorflow_runtime"


def configure_logging(level: int) -> None:
    logger = logging.getLogger(ROOT_LOGGER)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level)
