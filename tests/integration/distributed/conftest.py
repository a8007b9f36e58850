"""Fixtures: the two network-namespace hosts of `netns_hosts.py`, torn down after use."""

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .netns_hosts import (
    HOSTS,
    NETNS_ETC,
    Cluster,
    namespace_pids,
    prerequisites_missing,
    setup_network,
    teardown_network,
)


@pytest.fixture(scope="session")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    reason = prerequisites_missing()
    if reason:
        pytest.skip(reason)
    setup_network(tmp_path_factory.mktemp("ssh-keys"))
    try:
        yield
    finally:
        teardown_network()


@pytest.fixture
def cluster(network: None, tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path)
    c.mount_point.mkdir()
    for host in HOSTS:
        c.tree(host).mkdir(parents=True)
        (NETNS_ETC / host / "environment").write_text("")
    yield c
    c.stop()
    deadline = time.monotonic() + 10
    while any(namespace_pids(h) for h in HOSTS) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = {h: namespace_pids(h) for h in HOSTS}
    for pids in left.values():
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
    assert not any(left.values()), f"processes left in the namespaces: {left}"
