"""SIGTERM/SIGINT reach the user's process group; output streams live."""

import signal
import time
from pathlib import Path

import pytest
from conftest import JobTree, LineWatcher, pid_alive


def sleeping_job(job: JobTree, marker: Path, on_sigterm: str) -> None:
    job.sdk_hyperparameters("knobs.py", sleep=60, marker=str(marker), **{"on-sigterm": on_sigterm})
    job.single_host()
    job.add_program()


def test_output_streams_live_before_the_script_ends(job: JobTree, tmp_path: Path) -> None:
    sleeping_job(job, tmp_path / "marker", "exit0")
    proc = job.start()
    watcher = LineWatcher(proc)
    watcher.wait_for("first-line")
    watcher.wait_for("sleeping")
    assert proc.poll() is None  # the script is still running: the lines came live
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def test_sigterm_is_forwarded_and_a_clean_exit_is_success(job: JobTree, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    sleeping_job(job, marker, "exit0")
    proc = job.start()
    watcher = LineWatcher(proc)
    watcher.wait_for("sleeping")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert marker.read_text() == "got 15"
    assert (job.base / "output" / "success").exists()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stop_signal_is_named_in_the_failure_file(
    job: JobTree, tmp_path: Path, signum: signal.Signals
) -> None:
    marker = tmp_path / "marker"
    sleeping_job(job, marker, "exit3")
    proc = job.start()
    watcher = LineWatcher(proc)
    watcher.wait_for("sleeping")
    proc.send_signal(signum)
    assert proc.wait(timeout=30) == 1
    failure = (job.base / "output" / "failure").read_text()
    if signum == signal.SIGTERM:
        assert marker.read_text() == "got 15"
        assert failure.startswith("ExecuteUserScriptError:\nExitCode 3\n")
    else:  # Python's default SIGINT handler raises KeyboardInterrupt in the script
        assert "KeyboardInterrupt" in failure
    assert f'ExtraInfo "Stopped by {signum.name}: train forwarded it to the process group"' in (
        failure
    )


def test_script_ignoring_sigterm_is_killed_after_the_grace_period(
    job: JobTree, tmp_path: Path
) -> None:
    sleeping_job(job, tmp_path / "marker", "ignore")
    proc = job.start(SAGEMAKER_TERMINATION_GRACE_SECONDS="1")
    watcher = LineWatcher(proc)
    watcher.wait_for("sleeping")
    report_pid = job.base / "model" / "report.json"
    pid = __import__("json").loads(report_pid.read_text())["pid"]
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 1
    assert time.monotonic() - started < 10
    assert not pid_alive(pid)
    failure = (job.base / "output" / "failure").read_text()
    assert "killed the group with SIGKILL after the 1 s grace period" in failure
    assert "ExitCode -9" in failure
    assert "OutOfMemory" not in failure
