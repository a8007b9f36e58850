"""A launch plan: the processes a training mode starts on this host, and who runs them."""

from collections.abc import Callable
from dataclasses import dataclass

from sagemaker_tensorflow_runtime.container.process import ProcessSpec
from sagemaker_tensorflow_runtime.container.signals import SignalRecorder

# Runs a plan whose mode needs more than starting its processes (sshd, waits between hosts);
# called with the plan, the signal recorder and the termination grace period.
Driver = Callable[["LaunchPlan", SignalRecorder, float], None]


@dataclass(frozen=True)
class LaunchPlan:
    """What to run on this host and how to label a failure of it."""

    mode: str
    processes: tuple[ProcessSpec, ...]
    failure_label: str = "ExecuteUserScriptError"
    driver: Driver | None = None
