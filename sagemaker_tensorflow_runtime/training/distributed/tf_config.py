"""`TF_CONFIG` for parameter-server and MultiWorkerMirrored jobs (training.md §13.1, §13.3).

The strings are interface facts: default `json.dumps` separators and the reference's key order
(`cluster` with `master`, `ps`, `worker`; `environment`; `task` with `index`, `type`).
"""

import json
from typing import Any

WORKER_PORT = 2222
PS_PORT = 2223
MWMS_PORT = 8890


class NoParameterServersError(ValueError):
    """A ps task was asked for in a one-host cluster, which has no parameter servers."""


def _addresses(hosts: tuple[str, ...], port: int) -> list[str]:
    return [f"{host}:{port}" for host in hosts]


def ps_cluster(hosts: tuple[str, ...]) -> dict[str, list[str]]:
    """Master = first host, workers = the rest, a parameter server on every host (if > 1)."""
    cluster = {"master": _addresses(hosts[:1], WORKER_PORT)}
    if len(hosts) > 1:
        cluster["ps"] = _addresses(hosts, PS_PORT)
    if hosts[1:]:
        cluster["worker"] = _addresses(hosts[1:], WORKER_PORT)
    return cluster


def ps_tf_config(hosts: tuple[str, ...], current_host: str, ps_task: bool = False) -> str:
    """The TF_CONFIG of `current_host`'s worker (or, with `ps_task`, of its parameter server)."""
    config: dict[str, Any] = {"cluster": ps_cluster(hosts), "environment": "cloud"}
    if ps_task:
        if len(hosts) < 2:
            raise NoParameterServersError(
                "Cannot have a ps task if there are no parameter servers in the cluster"
            )
        task = {"index": hosts.index(current_host), "type": "ps"}
    elif current_host == hosts[0]:
        task = {"index": 0, "type": "master"}
    else:
        task = {"index": hosts[1:].index(current_host), "type": "worker"}
    config["task"] = task
    return json.dumps(config)


def mwms_tf_config(hosts: tuple[str, ...], current_host: str) -> str:
    """Every distribution host is a worker on port 8890; index = position of this host."""
    return json.dumps(
        {
            "cluster": {"worker": _addresses(hosts, MWMS_PORT)},
            "environment": "cloud",
            "task": {"index": hosts.index(current_host), "type": "worker"},
        }
    )
