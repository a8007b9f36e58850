"""`serve`: host the SavedModels under $SAGEMAKER_BASE_DIR/model behind HTTP on port 8080.

Reads   $SAGEMAKER_BASE_DIR/model (SavedModels, code/inference.py) and the variables listed by
        `serve --help`.
Exits   0 after SIGTERM/SIGINT; 1 when the service cannot start or keep running (no models,
        model not AVAILABLE in time, requirements failing, a child that keeps crashing);
        2 for a malformed environment variable.
"""

import logging
import os
import sys
from collections.abc import Sequence

from sagemaker_tensorflow_runtime.container.logs import configure_logging
from sagemaker_tensorflow_runtime.container.settings import SettingError, describe_settings
from sagemaker_tensorflow_runtime.serving.backend import PortRangeError
from sagemaker_tensorflow_runtime.serving.dependencies import DependencyError
from sagemaker_tensorflow_runtime.serving.discovery import NoModelsError
from sagemaker_tensorflow_runtime.serving.readiness import NotReadyError
from sagemaker_tensorflow_runtime.serving.settings import TABLE, ServingSettings
from sagemaker_tensorflow_runtime.serving.supervisor import ServiceFailed, serve

logger = logging.getLogger("sagemaker_tensorflow_runtime.serve")

EXIT_FAILED = 1
EXIT_BAD_SETTING = 2


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        print("Environment variables:\n" + describe_settings(TABLE))
        sys.exit(0)
    configure_logging(logging.INFO)
    try:
        settings = ServingSettings.from_environ(os.environ)
    except SettingError as exc:
        logger.error("%s", exc)
        sys.exit(EXIT_BAD_SETTING)
    if settings.multi_model:
        logger.error("SAGEMAKER_MULTI_MODEL=true: multi-model endpoints are not available yet")
        sys.exit(EXIT_FAILED)
    try:
        sys.exit(serve(settings, os.environ))
    except (NoModelsError, NotReadyError, DependencyError, ServiceFailed, PortRangeError) as exc:
        logger.error("%s", exc)
        sys.exit(EXIT_FAILED)
