"""Bounded waits between hosts."""

import socket

import pytest

from sagemaker_tensorflow_runtime.training.distributed.probe import (
    WaitTimeout,
    port_open,
    wait_until,
)


def test_wait_until_gives_up_with_the_message():
    calls = []
    with pytest.raises(WaitTimeout, match="nobody came"):
        wait_until(
            lambda: calls.append(1) is not None,
            timeout=0.2,
            interval=1.0,
            first_interval=0.02,
            signals=None,
            failure="nobody came",
        )
    assert len(calls) > 3  # polled fast at first


def test_wait_until_returns_once_true():
    answers = iter([False, False, True])
    wait_until(lambda: next(answers), timeout=5, interval=0.01, signals=None, failure="")


def test_port_open():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        assert port_open("127.0.0.1", port)
    assert not port_open("127.0.0.1", port)
