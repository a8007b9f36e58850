"""The failure message of a failed child process (training.md §12)."""

import pytest

from sagemaker_tensorflow_runtime.training.error_summary import (
    FAILURE_REASON_LIMIT,
    OOM_HINT,
    failure_report,
    format_summary,
    redact_credentials,
    signal_extra_info,
)

COMMAND = ["/usr/bin/python3", "train.py", "--epochs", "10"]

ZERO_DIVISION = [
    "Traceback (most recent call last):",
    '  File "/opt/ml/code/train.py", line 3, in <module>',
    "    1 / 0",
    "    ~~^~~",
    "ZeroDivisionError: division by zero",
]

INVALID_ARGUMENT = [
    "Epoch 1/10",
    "Traceback (most recent call last):",
    "tensorflow.python.framework.errors_impl.InvalidArgumentError: Graph execution error:",
    "Incompatible shapes: [32,10] vs. [32]",
]


def summary_of(report):
    """The part of the failure file that SageMaker shows as FailureReason."""
    return report.split("\n\nLast lines of stderr:\n")[0].rstrip("\n")


# (label, exit code, message lines, extra, command, exact summary)
LAYOUTS = [
    pytest.param(
        "ExecuteUserScriptError",
        42,
        [],
        None,
        "/usr/bin/python3 train.py --epochs 10",
        'ExecuteUserScriptError:\nExitCode 42\nErrorMessage ""\n'
        'Command "/usr/bin/python3 train.py --epochs 10"',
        id="no-message",
    ),
    pytest.param(
        "ExecuteUserScriptError",
        1,
        ["ZeroDivisionError: division by zero"],
        None,
        "/usr/bin/python3 train.py",
        "ExecuteUserScriptError:\nExitCode 1\n"
        'ErrorMessage "ZeroDivisionError: division by zero"\n'
        'Command "/usr/bin/python3 train.py"',
        id="one-line",
    ),
    pytest.param(
        "InstallRequirementsError",
        1,
        ["ERROR: Invalid requirement: '==1'", "Hint: = is not a valid operator"],
        None,
        "/usr/bin/python3 -m pip install -r requirements.txt",
        "InstallRequirementsError:\nExitCode 1\n"
        "ErrorMessage \"ERROR: Invalid requirement: '==1'\n Hint: = is not a valid operator\"\n"
        'Command "/usr/bin/python3 -m pip install -r requirements.txt"',
        id="multi-line",
    ),
    pytest.param(
        "ExecuteUserScriptError",
        137,
        [],
        OOM_HINT,
        "/usr/bin/python3 train.py",
        'ExecuteUserScriptError:\nExitCode 137\nErrorMessage ""\n'
        'ExtraInfo "OutOfMemory: Process killed by SIGKILL (signal 9)"\n'
        'Command "/usr/bin/python3 train.py"',
        id="extra-info",
    ),
]


@pytest.mark.parametrize(("label", "code", "lines", "extra", "command", "expected"), LAYOUTS)
def test_format_summary_layout(label, code, lines, extra, command, expected):
    assert format_summary(label, code, lines, extra, command) == expected


def test_report_without_stderr_is_the_summary_and_a_newline():
    report = failure_report("ExecuteUserScriptError", 42, [], [], COMMAND)

    assert report == (
        'ExecuteUserScriptError:\nExitCode 42\nErrorMessage ""\n'
        'Command "/usr/bin/python3 train.py --epochs 10"\n'
    )


def test_zero_division_keeps_the_user_script_label():
    report = failure_report("ExecuteUserScriptError", 1, ZERO_DIVISION, ZERO_DIVISION, COMMAND)

    assert summary_of(report) == (
        "ExecuteUserScriptError:\nExitCode 1\n"
        'ErrorMessage "ZeroDivisionError: division by zero"\n'
        'Command "/usr/bin/python3 train.py --epochs 10"'
    )


def test_stderr_tail_follows_the_summary():
    report = failure_report("ExecuteUserScriptError", 1, ZERO_DIVISION, ZERO_DIVISION, COMMAND)

    assert report.endswith("\n\nLast lines of stderr:\n" + "\n".join(ZERO_DIVISION) + "\n")


def test_watched_framework_class_replaces_the_label():
    report = failure_report(
        "ExecuteUserScriptError", 1, INVALID_ARGUMENT, INVALID_ARGUMENT, COMMAND
    )

    assert summary_of(report) == (
        "InvalidArgumentError:\nExitCode 1\n"
        'ErrorMessage "tensorflow.python.framework.errors_impl.InvalidArgumentError: '
        "Graph execution error\n"
        ' Incompatible shapes: [32,10] vs. [32]"\n'
        'Command "/usr/bin/python3 train.py --epochs 10"'
    )


def test_first_watched_class_in_watch_order_wins():
    lines = ["UnknownError: x", "AbortedError: y"]

    report = failure_report("ExecuteUserScriptError", 1, lines, lines, COMMAND)

    assert report.startswith("AbortedError:\n")


def test_xla_runtime_error_is_watched():
    lines = ["jaxlib.xla_extension.XlaRuntimeError: RESOURCE_EXHAUSTED: Out of memory"]

    assert failure_report("ExecuteUserScriptError", 1, lines, [], COMMAND).startswith(
        "XlaRuntimeError:\n"
    )


@pytest.mark.parametrize("lines", [["MemoryError"], ["ORTE has lost communication"], ["no error"]])
def test_other_known_names_do_not_replace_the_label(lines):
    report = failure_report("ExecuteUserScriptError", 1, lines, lines, COMMAND)

    assert report.startswith("ExecuteUserScriptError:\n")


def test_message_lines_are_stripped_deduplicated_and_indented():
    lines = [
        "loading data",
        "  ValueError: bad shape :: ",
        "\tdetail one",
        "ValueError: bad shape",
        ":",
        "detail one",
        "detail two",
    ]

    report = failure_report("ExecuteUserScriptError", 1, lines, lines, COMMAND)

    assert 'ErrorMessage "ValueError: bad shape\n detail one\n detail two"\n' in report


def test_message_from_stdout_when_stderr_names_no_error():
    output = ["step 1", "KeyError: 'label'", "warning on stderr"]

    report = failure_report("ExecuteUserScriptError", 1, output, ["warning on stderr"], COMMAND)

    assert "ErrorMessage \"KeyError: 'label'\n warning on stderr\"" in report


def test_message_is_empty_without_a_known_name():
    lines = ["Segmentation fault (core dumped)"]

    report = failure_report("ExecuteUserScriptError", 139, lines, lines, COMMAND)

    assert 'ErrorMessage ""\n' in report


@pytest.mark.parametrize("returncode", [137, -9])
def test_sigkill_and_137_add_the_out_of_memory_hint(returncode):
    extra = signal_extra_info(returncode, None, False, 25.0)
    report = failure_report("ExecuteUserScriptError", returncode, [], [], COMMAND, extra)

    assert extra == OOM_HINT
    assert report == (
        f'ExecuteUserScriptError:\nExitCode {returncode}\nErrorMessage ""\n'
        'ExtraInfo "OutOfMemory: Process killed by SIGKILL (signal 9)"\n'
        'Command "/usr/bin/python3 train.py --epochs 10"\n'
    )


@pytest.mark.parametrize("returncode", [0, 1, 2, 42, 139])
def test_ordinary_exit_codes_have_no_extra_info(returncode):
    assert signal_extra_info(returncode, None, False, 25.0) is None


def test_huge_output_keeps_the_summary_within_the_failure_reason_limit():
    lines = ["RuntimeError: first"] + [f"detail line {i} " + "x" * 60 for i in range(1000)]
    command = ["/usr/bin/python3", "train.py", *(f"--arg{i}" for i in range(300))]

    report = failure_report("ExecuteUserScriptError", 1, lines, lines, command)
    summary = summary_of(report)

    assert len(summary) <= FAILURE_REASON_LIMIT
    assert summary.startswith('ExecuteUserScriptError:\nExitCode 1\nErrorMessage "RuntimeError')
    assert "detail line 999" in summary
    assert summary.splitlines()[-1].startswith('Command "/usr/bin/python3 train.py --arg0')
    assert report.startswith(summary + "\n")


def test_one_huge_line_is_still_within_the_limit():
    lines = ["OSError: " + "y" * 20000]

    summary = summary_of(failure_report("ExecuteUserScriptError", 1, lines, lines, COMMAND))

    assert len(summary) <= FAILURE_REASON_LIMIT
    assert summary.startswith('ExecuteUserScriptError:\nExitCode 1\nErrorMessage "OSError: yyy')


def test_credentials_in_urls_are_redacted_in_the_command():
    command = [
        "/usr/bin/python3",
        "-m",
        "pip",
        "install",
        "-r",
        "requirements.txt",
        "-i",
        "https://aws:s3cr3t.t0k3n@d-123456789012.d.codeartifact.us-east-1.amazonaws.com/pypi/r/simple/",
    ]

    report = failure_report("InstallRequirementsError", 1, [], [], command)

    assert "s3cr3t" not in report
    assert report.endswith(
        '-i https://aws:***@d-123456789012.d.codeartifact.us-east-1.amazonaws.com/pypi/r/simple/"\n'
    )


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("https://aws:tok@host/simple/", "https://aws:***@host/simple/"),
        ("http://user:p%40ss@h:8080/x", "http://user:***@h:8080/x"),
        ("https://host:443/path", "https://host:443/path"),
        ("s3://bucket/key", "s3://bucket/key"),
    ],
)
def test_redact_credentials(text, redacted):
    assert redact_credentials(text) == redacted


def test_truncated_summary_keeps_the_exception_line_between_warnings_and_noise() -> None:
    from sagemaker_tensorflow_runtime.training.error_summary import format_summary

    lines = (
        ['[algo-1:00007] Warning: could not find environment variable "LD_LIBRARY_PATH"']
        + [f"mpi noise {i} " + "x" * 40 for i in range(10)]
        + ["[1,1]<stderr>:ZeroDivisionError: rank failed on purpose"]
        + [f"mpi abort {i} " + "y" * 40 for i in range(40)]
    )
    summary = format_summary("ExecuteUserScriptError", 1, lines, None, "mpirun -np 4")
    assert len(summary) <= 1024
    assert "ZeroDivisionError: rank failed on purpose" in summary
    assert summary.splitlines()[2].startswith('ErrorMessage "[algo-1:00007] Warning')
    assert "mpi abort 39" in summary and summary.endswith('Command "mpirun -np 4"')
