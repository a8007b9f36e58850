"""Failing jobs: the failure file, the exit code and the log name what went wrong."""

import json

import pytest
from conftest import JobTree


def knobs_job(job: JobTree, **hps: object) -> None:
    job.sdk_hyperparameters("knobs.py", **hps)
    job.single_host()
    job.add_program()


def test_zero_division_error_is_named_in_the_failure_file(job: JobTree) -> None:
    knobs_job(job, **{"raise": "ZeroDivisionError"})
    run = job.run()
    assert run.returncode == 1
    assert not run.succeeded
    failure = run.failure
    assert failure.startswith("ExecuteUserScriptError:\nExitCode 1\n")
    assert 'ErrorMessage "ZeroDivisionError: division by zero"' in failure
    assert 'knobs.py --raise ZeroDivisionError"' in failure
    assert "Reporting training FAILURE" in run.stderr
    # The user's traceback reached our stderr unmodified.
    assert "    print(1 / 0)\n" in run.stderr
    assert "\nZeroDivisionError: division by zero\n" in run.stderr


def test_script_exit_code_is_reported_and_container_exits_1(job: JobTree) -> None:
    knobs_job(job, **{"exit-code": 42})
    run = job.run()
    assert run.returncode == 1
    lines = run.failure.splitlines()
    assert lines[:3] == ["ExecuteUserScriptError:", "ExitCode 42", 'ErrorMessage ""']
    assert lines[3].startswith('Command "') and lines[3].endswith('knobs.py --exit-code 42"')
    assert "Encountered exit_code 42" in run.stderr


def test_failure_file_written_by_the_script_is_kept(job: JobTree) -> None:
    knobs_job(job, **{"write-failure": "my own reason", "exit-code": 3})
    run = job.run()
    assert run.returncode == 1
    assert run.failure == "my own reason"


def test_summary_fits_failure_reason_with_long_output(job: JobTree) -> None:
    knobs_job(job, **{"stderr-lines": 3000, "raise": "boom"})
    run = job.run()
    assert run.returncode == 1
    summary = run.failure.split("\n\nLast lines of stderr:\n")[0]
    assert len(summary) <= 1024
    assert summary.startswith("ExecuteUserScriptError:\nExitCode 1\n")
    assert "RuntimeError: boom" in summary
    assert run.stderr.count("noise line") == 3000  # nothing lost on the way through


def test_tensorflow_error_class_becomes_the_label(job: JobTree) -> None:
    job.sdk_hyperparameters("fail.sh")
    job.single_host()
    job.code_dir.mkdir()
    (job.code_dir / "fail.sh").write_text(
        "#!/bin/sh\necho 'tensorflow.python.framework.errors_impl.InvalidArgumentError: "
        "shapes differ' >&2\nexit 5\n"
    )
    run = job.run()
    assert run.returncode == 1
    assert run.failure.startswith("InvalidArgumentError:\nExitCode 5\n")


def test_missing_entry_point_names_the_file_and_the_fix(job: JobTree) -> None:
    job.sdk_hyperparameters("does_not_exist.py")
    job.single_host()
    job.add_program()
    run = job.run()
    assert run.returncode == 1
    assert "Entry point 'does_not_exist.py' was not found" in run.failure
    assert "knobs.py" in run.failure  # lists what the code dir holds
    assert "Traceback" not in run.stderr


def test_no_entry_point_at_all(job: JobTree) -> None:
    job.hyperparameters({})
    job.single_host()
    run = job.run()
    assert run.returncode == 1
    assert "sagemaker_program" in run.failure and "SAGEMAKER_PROGRAM" in run.failure


def test_missing_config_files_use_documented_defaults(job: JobTree) -> None:
    job.add_program()
    run = job.run(SAGEMAKER_PROGRAM="knobs.py")
    assert run.returncode == 0, run.stderr
    env = run.report["env"]
    assert env["SM_CHANNELS"] == "[]"
    assert env["SM_HPS"] == "{}"
    assert json.loads(env["SM_HOSTS"]) == [env["SM_CURRENT_HOST"]]
    assert "hyperparameters.json not found: assuming no hyperparameters" in run.stderr
    assert "resourceconfig.json not found: assuming a single host named" in run.stderr


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("hyperparameters.json", '{"epochs": "10",', "hyperparameters.json is not valid JSON"),
        ("hyperparameters.json", '["a"]', "holds a JSON list, not an object"),
        ("inputdataconfig.json", '{"bad name!": {}}', "channel name 'bad name!' is invalid"),
        ("inputdataconfig.json", '{"train": "File"}', "channel 'train' must map to an object"),
        ("resourceconfig.json", '{"hosts": ["algo-1"]}', "'current_host' is missing"),
        (
            "resourceconfig.json",
            '{"current_host": "algo-3", "hosts": ["algo-1"]}',
            "current_host 'algo-3' is not one of hosts",
        ),
        ("resourceconfig.json", '{"current_host": "a", "hosts": "a"}', "'hosts' must be a list"),
    ],
)
def test_malformed_config_files(job: JobTree, name: str, content: str, expected: str) -> None:
    job.add_program()
    job.write_config(name, content)
    run = job.run(SAGEMAKER_PROGRAM="knobs.py")
    assert run.returncode == 1
    assert expected in run.failure
    assert name in run.failure
    assert expected in run.stderr
    assert "Traceback" not in run.stderr
    assert not (job.base / "model" / "report.json").exists()


def test_bad_setting_value_is_explained(job: JobTree) -> None:
    knobs_job(job)
    run = job.run(SAGEMAKER_TERMINATION_GRACE_SECONDS="soon")
    assert run.returncode == 1
    assert "SAGEMAKER_TERMINATION_GRACE_SECONDS" in run.failure


def test_unresolvable_hosts_give_up_after_the_configured_wait(job: JobTree) -> None:
    job.sdk_hyperparameters("knobs.py")
    job.write_config(
        "resourceconfig.json",
        {"current_host": "algo-1", "hosts": ["algo-1", "algo-2.invalid"]},
    )
    job.add_program()
    run = job.run(timeout=30, SAGEMAKER_DNS_WAIT_SECONDS="1")
    assert run.returncode == 1
    assert "did not resolve within 1 s" in run.failure
    assert run.failure.startswith("Framework Error:")


def test_unsupported_distributed_mode_is_a_clear_error(job: JobTree) -> None:
    job.sdk_hyperparameters("knobs.py", sagemaker_distributed_dataparallel_enabled=True)
    job.single_host()
    job.add_program()
    run = job.run()
    assert run.returncode == 1
    assert "sagemaker_distributed_dataparallel_enabled" in run.failure
    assert "is not supported by this runtime" in run.failure
    assert "Use Horovod instead" in run.failure
