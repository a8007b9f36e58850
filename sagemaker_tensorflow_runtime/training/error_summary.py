"""The failure message of a failed child process (training.md §12).

Layout, byte for byte as the reference containers write it:

    ExecuteUserScriptError:
    ExitCode 42
    ErrorMessage "ZeroDivisionError: division by zero"
    ExtraInfo "..."            (optional)
    Command "/usr/bin/python3 train.py --epochs 10"

The summary is kept within SageMaker's 1024-character FailureReason; the last stderr lines
follow it in the file for whoever reads the whole thing.
"""

import builtins
import re
from collections.abc import Sequence

from sagemaker_tensorflow_runtime.container.signals import signal_name

FAILURE_REASON_LIMIT = 1024
STDERR_LINES_AFTER_SUMMARY = 50

# TensorFlow's errors_impl classes, in the order the reference checks them, then XLA's.
WATCHED_FRAMEWORK_CLASSES = (
    "AbortedError",
    "AlreadyExistsError",
    "CancelledError",
    "DataLossError",
    "DeadlineExceededError",
    "FailedPreconditionError",
    "InternalError",
    "InvalidArgumentError",
    "NotFoundError",
    "OpError",
    "OutOfRangeError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "UnknownError",
    "XlaRuntimeError",
)
OTHER_KNOWN_NAMES = (
    "Invalid requirement",
    "ResourceExhaustedError",
    "OutOfRangeError",
    "InvalidArgumentError",
    "mpirun.real",
    "ORTE",
)
EXCEPTION_LINE = re.compile(r"\b[A-Z]\w*(?:Error|Exception)\b:")
URL_CREDENTIALS = re.compile(r"//([^:/@\s]+):[^@\s]+@")
OOM_HINT = "OutOfMemory: Process killed by SIGKILL (signal 9)"


def redact_credentials(text: str) -> str:
    """Hide passwords and tokens in URLs (a CodeArtifact index carries one)."""
    return URL_CREDENTIALS.sub(r"//\1:***@", text)


def _python_exception_names() -> tuple[str, ...]:
    return tuple(
        name
        for name, obj in vars(builtins).items()
        if isinstance(obj, type) and issubclass(obj, BaseException)
    )


def _smdebug_exception_names() -> tuple[str, ...]:
    """SageMaker Debugger's exception classes, watched only when smdebug is installed."""
    import importlib.util

    if importlib.util.find_spec("smdebug") is None:
        return ()
    try:
        import smdebug.exceptions as exceptions
    except Exception:
        return ()
    return tuple(
        name
        for name, obj in vars(exceptions).items()
        if isinstance(obj, type) and issubclass(obj, Exception)
    )


def watched_classes() -> tuple[str, ...]:
    return WATCHED_FRAMEWORK_CLASSES + _smdebug_exception_names()


def known_names() -> tuple[str, ...]:
    return _python_exception_names() + OTHER_KNOWN_NAMES + watched_classes()


def error_message_lines(lines: Sequence[str], names: Sequence[str]) -> list[str]:
    """Output lines from the first one naming a known error on, stripped and deduplicated."""
    start = next((i for i, line in enumerate(lines) if any(n in line for n in names)), None)
    if start is None:
        return []
    seen: set[str] = set()
    result = []
    for line in lines[start:]:
        text = line.strip(" :\t")
        if text and text not in seen:
            seen.add(text)
            result.append(text)
    return result


def framework_label(lines: Sequence[str], classes: Sequence[str]) -> str | None:
    """The first watched framework class (in watch order) named anywhere in the output."""
    text = "\n".join(lines)
    return next((name for name in classes if name in text), None)


def signal_extra_info(
    returncode: int, stop_signal: int | None, killed_after_grace: bool, grace_seconds: float
) -> str | None:
    if stop_signal is not None:
        info = f"Stopped by {signal_name(stop_signal)}: train forwarded it to the process group"
        if killed_after_grace:
            info += f" and killed the group with SIGKILL after the {grace_seconds:g} s grace period"
        return info
    if returncode in (137, -9):
        return OOM_HINT
    if returncode < 0:
        return f"Process killed by {signal_name(-returncode)} (signal {-returncode})"
    return None


def format_summary(
    label: str, exit_code: int, message_lines: Sequence[str], extra: str | None, command: str
) -> str:
    def render(lines: Sequence[str], cmd: str) -> str:
        parts = [f"{label}:", f"ExitCode {exit_code}", f'ErrorMessage "{chr(10).join(lines)}"']
        if extra:
            parts.append(f'ExtraInfo "{extra}"')
        parts.append(f'Command "{cmd}"')
        return "\n".join(parts)

    indented = [line if i == 0 else " " + line for i, line in enumerate(message_lines)]
    summary = render(indented, command)
    if len(summary) > FAILURE_REASON_LIMIT and len(command) > 200:
        command = command[:200] + " ..."
        summary = render(indented, command)
    # Too long: keep the first line, the last lines that name an exception (`ZeroDivisionError:`;
    # the first line may only be a warning, e.g. from mpirun), then as many last lines as fit.
    exceptions = [line for line in indented[1:] if EXCEPTION_LINE.search(line)][-3:]
    rest = [line for line in indented[1:] if line not in exceptions]
    kept_tail = len(rest)
    while len(summary) > FAILURE_REASON_LIMIT and kept_tail > 0:
        kept_tail -= 1
        tail = rest[-kept_tail:] if kept_tail else []
        lines = [*indented[:1], " ...", *exceptions, *([" ..."] if tail else []), *tail]
        summary = render(lines, command)
    return summary[:FAILURE_REASON_LIMIT]


def failure_report(
    step_label: str,
    exit_code: int,
    output_lines: Sequence[str],
    stderr_lines: Sequence[str],
    command: Sequence[str],
    extra: str | None = None,
) -> str:
    """The whole failure file: the ≤1024-character summary, then the last stderr lines."""
    label = framework_label(output_lines, watched_classes()) or step_label
    names = known_names()
    # stdout and stderr arrive through two pipes whose interleaving is arbitrary: an error
    # named on stderr is reported from stderr alone, else the combined output is scanned.
    message = error_message_lines(stderr_lines, names) or error_message_lines(output_lines, names)
    summary = format_summary(
        label, exit_code, message, extra, redact_credentials(" ".join(command))
    )
    tail = [line for line in stderr_lines if line.strip()][-STDERR_LINES_AFTER_SUMMARY:]
    if not tail:
        return summary + "\n"
    return summary + "\n\nLast lines of stderr:\n" + "\n".join(tail) + "\n"
