"""Files and process checks of the MPI worker host (training.md §13.4)."""

from sagemaker_tensorflow_runtime.training.distributed.mpi_hosts import (
    mpi_daemon_running,
    read_done_file,
    write_environment_file,
)


def test_environment_file_block_is_replaced_not_appended_twice(tmp_path):
    path = tmp_path / "environment"
    path.write_text('PATH="/usr/bin"\n')

    write_environment_file(path, {"SM_HOSTS": '["algo-1","algo-2"]', "MULTI": "a\nb"})
    write_environment_file(path, {"SM_CURRENT_HOST": "algo-2", "A": "x y"})

    assert path.read_text() == (
        'PATH="/usr/bin"\n'
        "# sagemaker-tensorflow-runtime: begin\n"
        "SM_CURRENT_HOST=algo-2\n"
        "A=x y\n"
        "# sagemaker-tensorflow-runtime: end\n"
    )


def test_done_file_holds_the_exit_status(tmp_path):
    path = tmp_path / "done.algo-1"
    assert read_done_file(path) is None
    path.write_text("")
    assert read_done_file(path) == 0
    path.write_text("0\n")
    assert read_done_file(path) == 0
    path.write_text("137\n")
    assert read_done_file(path) == 137
    path.write_text("garbage")
    assert read_done_file(path) == 1


def test_orted_detection_ignores_zombies(tmp_path):
    proc = tmp_path / "proc"
    (proc / "1").mkdir(parents=True)
    (proc / "1" / "stat").write_text("1 (train) S 0 1 1")
    assert not mpi_daemon_running(proc)
    (proc / "7").mkdir()
    (proc / "7" / "stat").write_text("7 (orted) Z 1 7 7")
    assert not mpi_daemon_running(proc)
    (proc / "8").mkdir()
    (proc / "8" / "stat").write_text("8 (orted) S 1 8 8")
    assert mpi_daemon_running(proc)
