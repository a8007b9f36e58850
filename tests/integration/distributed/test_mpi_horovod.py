"""MPI/Horovod jobs on two real hosts (training.md §13.4)."""

import json

import pytest

HOSTS = ("algo-1", "algo-2")


def rank_reports(cluster):
    reports = {}
    for host in HOSTS:
        for path in (cluster.tree(host) / "model").glob("rank-*.json"):
            info = json.loads(path.read_text())
            reports[info["rank"]] = {**info, "written_on": host}
    return reports


def test_horovod_two_hosts_two_processes_each(cluster):
    pytest.importorskip("horovod.tensorflow", reason="scripts/setup-env.sh installs horovod")
    cluster.write_job(
        "hvd_ranks.py",
        {"sagemaker_mpi_enabled": True, "sagemaker_mpi_num_of_processes_per_host": 2},
    )

    master, worker = cluster.run_all()

    assert master.returncode == 0, master.output
    assert worker.returncode == 0, worker.output
    assert master.succeeded and worker.succeeded
    reports = rank_reports(cluster)
    assert sorted(reports) == [0, 1, 2, 3]
    for rank, info in reports.items():
        host = HOSTS[rank // 2]
        assert info["written_on"] == host
        assert info["hostname"] == host  # the LD_PRELOAD gethostname library
        assert info["sm_current_host"] == host
        assert (info["local_rank"], info["size"], info["local_size"]) == (rank % 2, 4, 2)
        assert info["allreduce"] == [10.0, 4.0]
    # Every rank's output reaches the master tagged with its rank and host. The lines checked
    # are written before the allreduce: a rank's very last line can lose the race between
    # Open MPI's output forwarding and the end of the job (seen once in CI for a remote rank).
    for rank in range(4):
        tag = f"[1,mpirank:{rank},{HOSTS[rank // 2]}]<stdout>:"
        assert f"{tag}first line of rank {rank}" in master.stdout, master.stdout
    assert "MPI process finished." in worker.output
    assert "SM_CURRENT_HOST=algo-2" in cluster.environment_file("algo-2")


def test_failing_rank_fails_both_hosts(cluster):
    cluster.write_job(
        "mpi_ranks.py",
        {
            "sagemaker_mpi_enabled": True,
            "sagemaker_mpi_num_of_processes_per_host": 2,
            "fail_rank": 2,
        },
    )

    master, worker = cluster.run_all()

    assert master.returncode == 1, master.output
    assert worker.returncode == 1, worker.output
    assert "ZeroDivisionError: rank failed on purpose" in master.failure
    assert master.failure.startswith("ExecuteUserScriptError:\nExitCode ")
    assert "[1,mpirank:2,algo-2]<stderr>:" in master.stderr
    assert "mpirun on the master host algo-1 exited with code" in worker.failure


def test_master_gives_up_when_a_worker_never_comes_up(cluster):
    cluster.write_job("mpi_ranks.py", {"sagemaker_mpi_enabled": True})

    (master,) = cluster.run_all(hosts=("algo-1",), SAGEMAKER_SSH_WAIT_SECONDS="3")

    assert master.returncode == 1, master.output
    assert "Worker hosts algo-2 did not accept SSH connections on port 22 within 3 s" in (
        master.failure
    )
    assert "SAGEMAKER_SSH_WAIT_SECONDS" in master.failure


def test_worker_gives_up_when_the_master_never_comes_up(cluster):
    cluster.write_job("mpi_ranks.py", {"sagemaker_mpi_enabled": True})

    (worker,) = cluster.run_all(hosts=("algo-2",), SAGEMAKER_SSH_WAIT_SECONDS="2")

    assert worker.returncode == 1, worker.output
    assert "The master host algo-1 did not accept SSH connections" in worker.failure


def test_missing_sshd_is_explained(cluster):
    cluster.write_job("mpi_ranks.py", {"sagemaker_mpi_enabled": True})

    (master,) = cluster.run_all(hosts=("algo-1",), SAGEMAKER_SSHD="/nonexistent/sshd")

    assert master.returncode == 1, master.output
    assert "install openssh-server" in master.failure
