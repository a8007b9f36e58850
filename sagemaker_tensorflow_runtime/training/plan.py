"""A launch plan: the processes a training mode starts on this host."""

from dataclasses import dataclass

from sagemaker_tensorflow_runtime.container.process import ProcessSpec


@dataclass(frozen=True)
class LaunchPlan:
    """What to run on this host and how to label a failure of it."""

    mode: str
    processes: tuple[ProcessSpec, ...]
    failure_label: str = "ExecuteUserScriptError"
