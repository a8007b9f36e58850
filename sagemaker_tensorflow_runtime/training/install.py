"""Installing the user's code before it runs (training.md §9).

A package (code dir with setup.py) is `pip install .`-ed, a program's requirements.txt is
`pip install -r`-ed, a command is made executable. pip is the running interpreter's, its output
streams into the job log, and its failure is reported like a failed user process.
"""

import logging
import sys
from collections.abc import Callable, Mapping

from sagemaker_tensorflow_runtime.container.process import ProcessSpec
from sagemaker_tensorflow_runtime.container.signals import SignalRecorder
from sagemaker_tensorflow_runtime.training.entrypoint import EntryPoint, EntryPointType
from sagemaker_tensorflow_runtime.training.error_summary import redact_credentials
from sagemaker_tensorflow_runtime.training.plan import LaunchPlan
from sagemaker_tensorflow_runtime.training.supervise import execute

logger = logging.getLogger(__name__)

REQUIREMENTS_FILE = "requirements.txt"


def install_command(
    entry: EntryPoint, index_url: Callable[[], str | None], python: str = sys.executable
) -> tuple[list[str], str] | None:
    """(pip argv, failure label) for `entry`, or None when nothing needs installing."""
    has_requirements = (entry.code_dir / REQUIREMENTS_FILE).is_file()
    pip = [python, "-m", "pip", "install"]
    if entry.kind is EntryPointType.PACKAGE:
        argv, label = [*pip, "."], "InstallModuleError"
        if has_requirements:
            argv += ["-r", REQUIREMENTS_FILE]
    elif entry.kind is EntryPointType.PROGRAM and has_requirements:
        argv, label = [*pip, "-r", REQUIREMENTS_FILE], "InstallRequirementsError"
    else:
        return None
    if has_requirements and (url := index_url()):
        argv += ["-i", url]
    return argv, label


def install(
    entry: EntryPoint,
    env: Mapping[str, str],
    signals: SignalRecorder,
    grace_seconds: float,
    index_url: Callable[[], str | None],
) -> None:
    if entry.kind is EntryPointType.COMMAND:
        entry.make_executable()
        return
    command = install_command(entry, index_url)
    if command is None:
        return
    argv, label = command
    logger.info("Installing with the following command:\n%s", redact_credentials(" ".join(argv)))
    spec = ProcessSpec(argv=tuple(argv), env=env, cwd=entry.code_dir, name="pip")
    execute(
        LaunchPlan(mode="install", processes=(spec,), failure_label=label), signals, grace_seconds
    )
