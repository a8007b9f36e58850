"""TF_CONFIG of parameter-server and MultiWorkerMirrored jobs, byte for byte (§13.1, §13.3)."""

import json

import pytest

from sagemaker_tensorflow_runtime.training.distributed.tf_config import (
    NoParameterServersError,
    mwms_tf_config,
    ps_tf_config,
)

TWO_HOST_CLUSTER = (
    '{"cluster": {"master": ["host1:2222"], "ps": ["host1:2223", "host2:2223"], '
    '"worker": ["host2:2222"]}, "environment": "cloud", '
)

# (hosts, current host, ps task?, exact TF_CONFIG) — the reference unit test's values.
PS_CONFIGS = [
    (
        ("host1", "host2"),
        "host1",
        False,
        TWO_HOST_CLUSTER + '"task": {"index": 0, "type": "master"}}',
    ),
    (
        ("host1", "host2"),
        "host2",
        False,
        TWO_HOST_CLUSTER + '"task": {"index": 0, "type": "worker"}}',
    ),
    (
        ("algo-1", "algo-2", "algo-3"),
        "algo-3",
        False,
        '{"cluster": {"master": ["algo-1:2222"], "ps": ["algo-1:2223", "algo-2:2223", '
        '"algo-3:2223"], "worker": ["algo-2:2222", "algo-3:2222"]}, "environment": "cloud", '
        '"task": {"index": 1, "type": "worker"}}',
    ),
    (
        ("host1", "host2"),
        "host2",
        True,
        TWO_HOST_CLUSTER + '"task": {"index": 1, "type": "ps"}}',
    ),
    (
        ("host1", "host2"),
        "host1",
        True,
        TWO_HOST_CLUSTER + '"task": {"index": 0, "type": "ps"}}',
    ),
    (
        ("algo-1",),
        "algo-1",
        False,
        '{"cluster": {"master": ["algo-1:2222"]}, "environment": "cloud", '
        '"task": {"index": 0, "type": "master"}}',
    ),
]


@pytest.mark.parametrize(("hosts", "current", "ps_task", "expected"), PS_CONFIGS)
def test_ps_tf_config(hosts, current, ps_task, expected):
    assert ps_tf_config(hosts, current, ps_task=ps_task) == expected


def test_ps_task_needs_parameter_servers():
    with pytest.raises(NoParameterServersError) as info:
        ps_tf_config(("algo-1",), "algo-1", ps_task=True)
    assert (
        str(info.value) == "Cannot have a ps task if there are no parameter servers in the cluster"
    )


# (distribution hosts, current host, exact TF_CONFIG)
MWMS_CONFIGS = [
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


@pytest.mark.parametrize(("hosts", "current", "expected"), MWMS_CONFIGS)
def test_mwms_tf_config(hosts, current, expected):
    tf_config = mwms_tf_config(hosts, current)

    assert tf_config == expected
    assert json.loads(tf_config)["task"]["index"] == hosts.index(current)
