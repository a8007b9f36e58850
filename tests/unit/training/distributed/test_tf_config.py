"""MultiWorkerMirroredStrategy TF_CONFIG (training.md §13.3)."""

import json

import pytest

from sagemaker_tensorflow_runtime.training.dispatch import mwms_tf_config

# (distribution hosts, current host, exact TF_CONFIG)
TF_CONFIGS = [
    (
        ("algo-1", "algo-2"),
        "algo-1",
        '{"cluster": {"worker": ["algo-1:8890", "algo-2:8890"]}, "environment": "cloud", '
        '"task": {"index": 0, "type": "worker"}}',
    ),
    (
        ("algo-1", "algo-2"),
        "algo-2",
        '{"cluster": {"worker": ["algo-1:8890", "algo-2:8890"]}, "environment": "cloud", '
        '"task": {"index": 1, "type": "worker"}}',
    ),
    (
        ("algo-1",),
        "algo-1",
        '{"cluster": {"worker": ["algo-1:8890"]}, "environment": "cloud", '
        '"task": {"index": 0, "type": "worker"}}',
    ),
]


@pytest.mark.parametrize(("hosts", "current", "expected"), TF_CONFIGS)
def test_mwms_tf_config(hosts, current, expected):
    tf_config = mwms_tf_config(hosts, current)

    assert tf_config == expected
    assert json.loads(tf_config)["task"]["index"] == hosts.index(current)
