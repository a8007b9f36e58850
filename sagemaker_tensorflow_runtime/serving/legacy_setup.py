"""Deciding on and preparing the legacy Python endpoint (serving.md §10.1, §10.7).

Rule: SAGEMAKER_PROGRAM is set, `model/code/inference.py` does not exist, and the module (in
the code fetched from SAGEMAKER_SUBMIT_DIRECTORY, else `model/code`) defines `input_fn`,
`output_fn` or `transform_fn` at top level (read without executing it). The model is then
served as `generic_model`.
"""

import logging
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from sagemaker_tensorflow_runtime.container.paths import Paths
from sagemaker_tensorflow_runtime.serving.dependencies import INSTALL_FAILED, DependencyError
from sagemaker_tensorflow_runtime.serving.legacy import defines_legacy_functions
from sagemaker_tensorflow_runtime.serving.settings import ServingSettings

logger = logging.getLogger(__name__)

LEGACY_MODEL_NAME = "generic_model"


def legacy_module(settings: ServingSettings, environ: Mapping[str, str]) -> Path | None:
    """The legacy user module, fetched and its requirements installed; None when not legacy."""
    if not settings.program or (settings.model_dir / "code" / "inference.py").is_file():
        return None
    code_dir = _fetch_code(settings, environ)
    name = settings.program if settings.program.endswith(".py") else settings.program + ".py"
    module = code_dir / name
    if not module.is_file() or not defines_legacy_functions(module):
        return None
    if settings.requirements:
        _install(code_dir / settings.requirements, environ)
    logger.info("legacy Python endpoint: %s", module)
    return module


def _fetch_code(settings: ServingSettings, environ: Mapping[str, str]) -> Path:
    if not settings.submit_directory:
        return settings.model_dir / "code"
    from sagemaker_tensorflow_runtime.training.errors import SourceError
    from sagemaker_tensorflow_runtime.training.source import acquire_source

    paths = Paths(settings.base_dir)
    try:
        acquire_source(
            paths.relocate(settings.submit_directory), paths, environ, environ.get("AWS_REGION")
        )
    except SourceError as exc:
        raise DependencyError(str(exc)) from None
    return paths.code_dir


def _install(requirements: Path, environ: Mapping[str, str]) -> None:
    if not requirements.is_file():
        logger.warning("Requirements file:%s was not found", requirements)
        return
    argv = [sys.executable, "-m", "pip", "install", "-r", str(requirements)]
    if subprocess.run(argv, env=dict(environ), check=False).returncode != 0:
        raise DependencyError(INSTALL_FAILED)
