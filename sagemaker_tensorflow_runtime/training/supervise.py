"""Running a launch plan and turning a failed run into a root-cause failure report."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sagemaker_tensorflow_runtime.container.process import (
    GroupResult,
    LaunchError,
    ProcessGroup,
    ProcessOutcome,
)
from sagemaker_tensorflow_runtime.container.signals import SignalRecorder, signal_name
from sagemaker_tensorflow_runtime.training.error_summary import failure_report, signal_extra_info
from sagemaker_tensorflow_runtime.training.errors import EntryPointError, ProcessFailure
from sagemaker_tensorflow_runtime.training.plan import LaunchPlan

logger = logging.getLogger(__name__)


def run_plan(plan: LaunchPlan, signals: SignalRecorder, grace_seconds: float) -> None:
    """Run `plan` with its mode's driver, or simply start its processes and wait for them."""
    if plan.driver is not None:
        plan.driver(plan, signals, grace_seconds)
    else:
        execute(plan, signals, grace_seconds)


def execute(plan: LaunchPlan, signals: SignalRecorder, grace_seconds: float) -> GroupResult:
    """Run every process of `plan`; raise `ProcessFailure` naming the earliest failure."""
    with started(plan) as group:
        result = group.wait(signals, grace_seconds)
    raise_for_failures(plan, result, grace_seconds)
    return result


@contextmanager
def started(plan: LaunchPlan) -> Iterator[ProcessGroup]:
    """The plan's processes, running; leaving the block stops whatever still runs."""
    try:
        group = ProcessGroup(plan.processes)
    except LaunchError as exc:
        raise EntryPointError(
            f"{exc.strerror}. Check that the entry point exists and is executable "
            "(a .sh script needs a shebang line or must be valid /bin/sh)."
        ) from None
    with group:
        yield group


def raise_for_failures(plan: LaunchPlan, result: GroupResult, grace_seconds: float) -> None:
    """Raise `ProcessFailure` with the root-cause report when a required process failed."""
    failures = result.failures
    if not failures:
        return
    root = failures[0]
    report = _report(plan, root, result, grace_seconds)
    if len(failures) > 1:
        others = "\n".join(f"- {_describe(o)}" for o in failures[1:])
        report += f"\nOther processes that failed after it:\n{others}\n"
    assert root.returncode is not None
    raise ProcessFailure(report, root.returncode)


def _report(
    plan: LaunchPlan, root: ProcessOutcome, result: GroupResult, grace_seconds: float
) -> str:
    assert root.returncode is not None
    extra = signal_extra_info(
        root.returncode, result.stop_signal, result.killed_after_grace, grace_seconds
    )
    return failure_report(
        plan.failure_label,
        root.returncode,
        root.tail.lines(),
        root.tail.stderr_lines(),
        root.spec.argv,
        extra,
    )


def _describe(outcome: ProcessOutcome) -> str:
    how = (
        f"killed by {signal_name(outcome.signal)}"
        if outcome.signal
        else f"exit code {outcome.returncode}"
    )
    return f"{outcome.spec.name} (pid {outcome.pid}): {how}"
