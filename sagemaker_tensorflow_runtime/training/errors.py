"""Errors of the `train` command, split into the user's and the platform's, with exit codes.

A `UserError` is something the job's author can fix (their script, archive, requirements or
config); it exits `EXIT_USER_ERROR`. A `PlatformError` is ours or the platform's; it is reported
as `Framework Error:` with its `errno` as exit code when it has one (training.md §12).
"""

EXIT_SUCCESS = 0
EXIT_USER_ERROR = 1


class TrainingError(Exception):
    """Root of every error `train` reports through the failure file."""

    exit_code = EXIT_USER_ERROR

    def failure_message(self) -> str:
        return str(self)


class UserError(TrainingError):
    """A problem in what the user supplied; the message says what to fix."""


class ConfigurationError(UserError):
    """A config file, hyperparameter or setting is missing or malformed."""


class SourceError(UserError):
    """The user's code could not be downloaded, copied or extracted."""


class EntryPointError(UserError):
    """No entry point was named, or it does not exist in the code directory."""


class UnsupportedModeError(UserError):
    """The job asks for a training mode this runtime does not run."""


class PlatformError(TrainingError):
    """A failure of the runtime or the platform, not of the user's code."""

    def __init__(self, message: str, errno: int | None = None, trace: str = "") -> None:
        super().__init__(message)
        self.errno = errno
        self.trace = trace

    def failure_message(self) -> str:
        return f"Framework Error: \n{self.trace}\n{self}"

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        return self.errno if isinstance(self.errno, int) and self.errno > 0 else EXIT_USER_ERROR


class ProcessFailure(UserError):
    """A child process of the job (install step or user code) ended unsuccessfully."""

    def __init__(self, report: str, child_exit_code: int) -> None:
        super().__init__(report)
        self.child_exit_code = child_exit_code
