"""Parameter-server and MultiWorkerMirrored jobs on two real hosts (training.md §13.1 to §13.3)."""

import json

import pytest

pytest.importorskip("tensorflow")

PS_FLAGS = {"sagemaker_parameter_server_enabled": True}


def test_parameter_server_training_on_two_hosts(cluster):
    cluster.write_job("ps_train.py", PS_FLAGS)

    master, worker = cluster.run_all(SAGEMAKER_MASTER_PROBE_SECONDS="1")

    assert master.returncode == 0, master.output
    assert worker.returncode == 0, worker.output
    assert master.succeeded and worker.succeeded
    model = cluster.tree("algo-1") / "model"
    assert (model / "checkpoint").exists()
    assert list(model.glob("model.ckpt-*.index"))
    for run in (master, worker):
        assert "Running distributed training job with parameter servers" in run.output
        assert "Launching parameter server process" in run.output
        assert "Launching worker process" in run.output
    assert "master 0 finished at step" in master.stdout
    assert "worker 0 finished at step" in worker.stdout
    assert "master algo-1 is down, stopping parameter server" in worker.output


def test_parameter_server_master_failure_fails_every_host(cluster):
    cluster.write_job("ps_train.py", {**PS_FLAGS, "fail_master": True})

    master, worker = cluster.run_all(SAGEMAKER_MASTER_PROBE_SECONDS="1")

    assert master.returncode == 1, master.output
    assert "RuntimeError: the master fails on purpose" in master.failure
    assert worker.returncode == 1, worker.output
    assert "The master host algo-1 failed" in worker.failure


def test_multi_worker_mirrored_on_two_hosts(cluster):
    cluster.write_job("mwms_train.py", {"sagemaker_multi_worker_mirrored_strategy_enabled": True})

    master, worker = cluster.run_all()

    assert master.returncode == 0, master.output
    assert worker.returncode == 0, worker.output
    reports = [
        json.loads((cluster.tree(h) / "model" / "mwms.json").read_text())
        for h in (
            "algo-1",
            "algo-2",
        )
    ]
    assert [r["task"] for r in reports] == [
        {"index": 0, "type": "worker"},
        {"index": 1, "type": "worker"},
    ]
    assert all(r["replicas"] == 2 for r in reports)
    assert reports[0]["weights"] == reports[1]["weights"]
    assert "multi_worker_mirrored_strategy setup" in master.output
