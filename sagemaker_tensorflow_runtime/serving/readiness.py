"""Waiting until a model is AVAILABLE on every backend instance (serving.md §2 step 5)."""

import http.client
import json
import time
from collections.abc import Callable

POLL_SECONDS = 0.5


class NotReadyError(TimeoutError):
    """The model did not become AVAILABLE in time, or a backend died while loading."""


def model_state(rest_port: int, model: str, timeout: float = 5.0) -> tuple[bool, str]:
    """(every version AVAILABLE?, what the backend said) for one instance."""
    connection = http.client.HTTPConnection("127.0.0.1", rest_port, timeout=timeout)
    try:
        connection.request("GET", f"/v1/models/{model}")
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace")
    except OSError as exc:
        return False, f"not answering yet ({exc})"
    finally:
        connection.close()
    if response.status != 200:
        return False, body
    try:
        states = [v["state"] for v in json.loads(body)["model_version_status"]]
    except (ValueError, KeyError, TypeError):
        return False, body
    return bool(states) and all(s == "AVAILABLE" for s in states), body


def wait_until_available(
    rest_ports: list[int],
    model: str,
    timeout_seconds: float,
    alive: Callable[[], str | None],
    stopping: Callable[[], bool] = lambda: False,
) -> None:
    """Poll every instance; `alive()` names a dead backend (so a crash fails fast).

    Returns early once `stopping()` is true: a SIGTERM during a slow load must not wait for it.
    """
    deadline = time.monotonic() + timeout_seconds
    pending = list(rest_ports)
    last = ""
    while pending and not stopping():
        dead = alive()
        if dead:
            raise NotReadyError(f"{dead} exited while loading model {model}. Last status: {last}")
        pending = [p for p in pending if not _available(p, model)]
        if not pending:
            return
        _, last = model_state(pending[0], model)
        if "END" in last and '"error_message": ""' not in last:
            raise NotReadyError(f"model {model} failed to load: {last}")
        if time.monotonic() >= deadline:
            raise NotReadyError(
                f"Timed out after {timeout_seconds:g} seconds waiting for model "
                f"{model} to become AVAILABLE. Last status: {last}"
            )
        time.sleep(POLL_SECONDS)


def _available(rest_port: int, model: str) -> bool:
    return model_state(rest_port, model)[0]
