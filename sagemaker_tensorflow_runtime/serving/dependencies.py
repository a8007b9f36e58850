"""The handler code's dependencies (serving.md §9.7): `code/lib` wins over requirements.txt."""

import logging
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

logger = logging.getLogger(__name__)

INSTALL_FAILED = "failed to install required packages."


class DependencyError(RuntimeError):
    """requirements.txt could not be installed."""


def prepare_code_dir(code_dir: Path, environ: Mapping[str, str], pip_index: str | None) -> None:
    lib = code_dir / "lib"
    requirements = code_dir / "requirements.txt"
    if lib.is_dir():
        if requirements.is_file():
            logger.warning("loading modules in '%s', ignoring requirements.txt", lib)
        return
    if not requirements.is_file():
        return
    argv = [sys.executable, "-m", "pip", "install", "-r", str(requirements)]
    if pip_index:
        argv += ["-i", pip_index]
    logger.info("installing packages from requirements.txt...")
    result = subprocess.run(argv, env=dict(environ), cwd=code_dir, check=False)
    if result.returncode != 0:
        raise DependencyError(f"{INSTALL_FAILED} (pip exited with {result.returncode})")
