"""`serve` as a process: readiness, a crashed backend, SIGTERM with requests in flight, start-up
failures, discovery edge cases and the environment (serving.md §2, §3, §4; §14 cases 18-20).
"""

import os
import re
import signal
import socket
import threading
import time
from pathlib import Path

import requests

from .harness import (
    HPT,
    ServeProcess,
    ServeTree,
    default_attributes,
    running_serve,
)

ROW = [3.5, 4.0, 5.5]
PREDICT_BODY = '{"instances":[1.0,2.0,5.0]}'

SLOW_HANDLER = """
    import sys
    import time

    import requests


    def handler(data, context):
        body = data.read()
        if body.startswith(b"slow-"):
            print("handling " + body.decode(), file=sys.stderr, flush=True)
            time.sleep(1.0)
            return body, "text/plain"
        response = requests.post(context.rest_uri, data=body)
        return response.content, "application/json"
"""


def backend_states(rest_port: int) -> dict[str, str]:
    answer = requests.get(f"http://127.0.0.1:{rest_port}/v1/models/{HPT}", timeout=5)
    return {v["version"]: v["state"] for v in answer.json()["model_version_status"]}


def poll_ping(server: ServeProcess, until: int, timeout: float) -> list[int | None]:
    """Ping statuses (None: port closed) until one equals `until`; fails after `timeout`."""
    seen: list[int | None] = []
    deadline = time.monotonic() + timeout
    while not seen or seen[-1] != until:
        assert server.proc.poll() is None, f"serve exited {server.proc.returncode}:\n{server.log()}"
        assert time.monotonic() < deadline, (
            f"/ping gave {seen[-5:]}, never {until}:\n{server.log()}"
        )
        seen.append(server.ping(timeout=5))
        server.record_children()
        if seen[-1] != until:
            time.sleep(0.05)
    return seen


def wait_for_log(server: ServeProcess, pattern: str, count: int = 1, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while len(re.findall(pattern, server.log())) < count:
        assert server.proc.poll() is None, f"serve exited {server.proc.returncode}:\n{server.log()}"
        assert time.monotonic() < deadline, f"{pattern!r} ×{count} not logged:\n{server.log()}"
        time.sleep(0.05)
    return server.log()


def test_ping_fails_until_available_and_after_a_backend_crash(
    tree: ServeTree, hpt_source: Path
) -> None:
    tree.add_model(hpt_source)
    tree.write_code({"inference.py": SLOW_HANDLER})
    server = ServeProcess(tree)
    try:
        before = poll_ping(server, 200, timeout=90)
        # The public port opens only once every version is AVAILABLE (handler mode included).
        assert len(before) > 1 and set(before[:-1]) <= {None, 503}, before
        assert backend_states(server.port_range[0] + 1) == {"123": "AVAILABLE", "124": "AVAILABLE"}

        (backend,) = server.backend_pids()
        assert backend in server.record_children()
        os.kill(backend, signal.SIGKILL)
        during = poll_ping(server, 200, timeout=60)
        assert 503 in during, during  # ping reflects the outage
        assert "backend 0 exited" in server.log()
        (old, new) = server.backend_pids()
        assert old == backend and new != backend and new in server.record_children()
        answer = server.post(PREDICT_BODY, attributes=default_attributes())
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"predictions": ROW}

        # A dead front is restarted too; its orphaned worker must not linger.
        (gunicorn,) = re.findall(r"started gunicorn \(pid (\d+)\)", server.log())
        os.kill(int(gunicorn), signal.SIGKILL)
        wait_for_log(server, r"started gunicorn \(pid \d+\)", count=2)
        poll_ping(server, 200, timeout=60)
        answer = server.post(PREDICT_BODY)
        assert answer.json() == {"predictions": ROW}
    except BaseException:
        server.kill()
        raise
    server.stop()


def test_sigterm_lets_requests_in_flight_finish(tree: ServeTree, hpt_source: Path) -> None:
    tree.add_model(hpt_source)
    tree.write_code({"inference.py": SLOW_HANDLER})
    count = 20
    answers: dict[int, object] = {}

    def send(i: int) -> None:
        try:
            answer = requests.post(
                f"{server.url}/invocations",
                data=f"slow-{i}",
                headers={"Content-Type": "text/plain", "Connection": "close"},
                timeout=60,
            )
            answers[i] = (answer.status_code, answer.text)
        except requests.RequestException as exc:
            answers[i] = exc

    with running_serve(tree) as server:
        threads = [threading.Thread(target=send, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        wait_for_log(server, r"handling slow-\d+", count, timeout=30)
        started = time.monotonic()
        server.signal(signal.SIGTERM)
        for thread in threads:
            thread.join(60)
        assert server.proc.wait(30) == 0, server.log()
        assert time.monotonic() - started < 30
    assert answers == {i: (200, f"slow-{i}") for i in range(count)}


def read_response(connection: socket.socket) -> bytes:
    """One whole HTTP response (head and Content-Length body) from a keep-alive socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
    while len(body) < length:
        body += connection.recv(65536)
    return head + b"\r\n\r\n" + body


def test_idle_keep_alive_connections_do_not_hold_up_sigterm(
    tree: ServeTree, hpt_source: Path
) -> None:
    """SageMaker's front end keeps connections open between requests; stopping must not wait
    for them (gunicorn alone waits its whole graceful timeout, 20 s)."""
    tree.add_model(hpt_source)
    with running_serve(tree) as server:
        idle = []
        for request in (
            b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(PREDICT_BODY)}\r\n\r\n{PREDICT_BODY}".encode(),
        ):
            connection = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            connection.sendall(request)
            assert read_response(connection).startswith(b"HTTP/1.1 200")
            idle.append(connection)  # kept open, no further request
        started = time.monotonic()
        server.signal(signal.SIGTERM)
        assert server.proc.wait(30) == 0, server.log()
        assert time.monotonic() - started < 8, server.log()
        for connection in idle:
            assert connection.recv(100) == b""  # closed by the server, not left hanging
            connection.close()
    assert "Socket error" not in server.log()
    assert "Traceback" not in server.log()  # no teardown noise from the gevent worker


def test_no_model_fails_with_the_expected_layouts(tree: ServeTree) -> None:
    (tree.model_dir / "my_model" / "not-a-number").mkdir(parents=True)
    (tree.model_dir / "my_model" / "not-a-number" / "saved_model.pb").write_bytes(b"")
    server = ServeProcess(tree)
    assert server.wait_exit(30) == 1
    log = server.log()
    assert "no SavedModel bundles found!" in log
    assert f"{tree.model_dir}/<model name>/<version number>/saved_model.pb" in log
    server.assert_no_children_left()


def fake_model_server(tree: ServeTree, script: str) -> str:
    path = tree.base / "fake_model_server.sh"
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(0o755)
    return str(path)


def test_backend_that_dies_while_loading_fails_fast(tree: ServeTree, hpt_source: Path) -> None:
    tree.add_model(hpt_source)
    server = ServeProcess(tree, SAGEMAKER_TFS_MODEL_SERVER=fake_model_server(tree, "exit 3"))
    assert server.wait_exit(30) == 1
    assert re.search(
        r"backend 0 \(exit code 3\) exited while loading model half_plus_three", server.log()
    )
    server.assert_no_children_left()


def test_model_never_available_times_out_and_stops_the_backend(
    tree: ServeTree, hpt_source: Path
) -> None:
    tree.add_model(hpt_source)
    never_ready = fake_model_server(tree, "exec sleep 120")
    server = ServeProcess(
        tree, SAGEMAKER_TFS_MODEL_SERVER=never_ready, SAGEMAKER_TFS_WAIT_TIME_SECONDS="2"
    )
    wait_for_log(server, r"started backend 0 \(pid \d+\)")
    server.record_children()
    assert server.wait_exit(30) == 1
    assert "Timed out after 2 seconds" in server.log()
    server.assert_no_children_left()


def test_port_range_too_small_for_the_instances(tree: ServeTree, hpt_source: Path) -> None:
    tree.add_model(hpt_source)
    server = ServeProcess(tree, instances=3, SAGEMAKER_SAFE_PORT_RANGE="29000-29003")
    assert server.wait_exit(30) != 0
    assert "not enough ports available in SAGEMAKER_SAFE_PORT_RANGE (29000-29003)" in server.log()
    assert "started backend" not in server.log()


def test_malformed_batching_flag_fails(tree: ServeTree, hpt_source: Path) -> None:
    tree.add_model(hpt_source)
    server = ServeProcess(tree, SAGEMAKER_TFS_ENABLE_BATCHING="yes")
    assert server.wait_exit(30) != 0
    assert "SAGEMAKER_TFS_ENABLE_BATCHING must be 'true' or 'false'" in server.log()
    assert "started backend" not in server.log()


def test_sigterm_while_waiting_for_the_model(tree: ServeTree, hpt_source: Path) -> None:
    tree.add_model(hpt_source)
    server = ServeProcess(tree, SAGEMAKER_NGINX_PROXY_READ_TIMEOUT_SECONDS="63")
    try:
        wait_for_log(server, r"started backend 0 \(pid \d+\)")
        assert "proxy_read_timeout 63;" in server.log()
        server.record_children()
    except BaseException:
        server.kill()
        raise
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 10
    # serve stopped at once instead of waiting for the load to finish first.
    assert "Successfully loaded servable" not in server.log()
    assert "started gunicorn" not in server.log()


def test_saved_model_at_the_root_is_served_as_model(tree: ServeTree) -> None:
    from tests.fixtures import savedmodels

    savedmodels.saved_model_at_root(tree.model_dir)
    with running_serve(tree) as server:
        answer = server.post(PREDICT_BODY)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"predictions": ROW}
        named = server.post(PREDICT_BODY, attributes="tfs-model-name=model")
        assert named.json() == {"predictions": ROW}
        assert "name: 'model'" in server.log()
        assert (
            "saved_model.pb has no version directory; serving it as model 'model'" in server.log()
        )


def test_two_instances_two_workers_batching_and_timeouts(
    tree: ServeTree, hpt_source: Path, hp2_source: Path
) -> None:
    tree.add_model(hpt_source)
    tree.add_model(hp2_source)
    env = {
        "SAGEMAKER_TFS_DEFAULT_MODEL_NAME": "half_plus_two",
        "SAGEMAKER_GUNICORN_WORKERS": "2",
        "SAGEMAKER_TFS_INTRA_OP_PARALLELISM": "1",
        "SAGEMAKER_TFS_INTER_OP_PARALLELISM": "1",
        "SAGEMAKER_TFS_ENABLE_BATCHING": "TRUE",
        "SAGEMAKER_TFS_MAX_BATCH_SIZE": "16",
        "SAGEMAKER_TFS_BATCH_TIMEOUT_MICROS": "500",
        "SAGEMAKER_TFS_NUM_BATCH_THREADS": "100",
        "SAGEMAKER_TFS_MAX_ENQUEUED_BATCHES": "1",
        "SAGEMAKER_GUNICORN_TIMEOUT_SECONDS": "120",
    }
    with running_serve(tree, instances=2, **env) as server:
        for i in range(8):
            body = PREDICT_BODY if i % 2 else "1.0,2.0,5.0"
            content_type = "application/json" if i % 2 else "text/csv"
            answer = server.post(body, content_type, attributes=default_attributes())
            assert answer.status_code == 200, answer.text
            assert answer.json()["predictions"] in (ROW, [ROW])
        # Without tfs-model-name the configured default model answers.
        assert server.post(PREDICT_BODY).json() == {"predictions": [2.5, 3.0, 4.5]}
        log = server.log()
        assert "waiting for model half_plus_two to become AVAILABLE" in log
        assert len(server.backend_pids()) == 2
        assert len(re.findall(r"Booting worker with pid", log)) == 2
        first_ready = log.index("Entering the event loop")
        for line in (
            "max_batch_size { value: 16 }",
            "batch_timeout_micros { value: 500 }",
            "num_batch_threads { value: 100 }",
            "max_enqueued_batches { value: 1 }",
        ):
            assert log.count(line) == 1, line
            assert log.index(line) < first_ready, line
        assert "Tuning this parameter may yield better performance." not in log
        assert "proxy_read_timeout 120;" in log
        assert log.count("--tensorflow_intra_op_parallelism=1") == 2
        assert log.count("--enable_batching=true") == 2


def test_handler_blocking_past_the_gunicorn_timeout_gets_a_json_502(
    tree: ServeTree, hpt_source: Path
) -> None:
    tree.add_model(hpt_source)
    tree.write_code(
        {
            "inference.py": """
                import time


                def handler(data, context):
                    end = time.monotonic() + 30
                    while time.monotonic() < end:  # holds the worker: no heartbeat
                        pass
                    return b"late"
            """
        }
    )
    with running_serve(tree, SAGEMAKER_GUNICORN_TIMEOUT_SECONDS="2") as server:
        answer = server.post(b"[1.0]", timeout=20)
        assert answer.status_code == 502
        assert "SAGEMAKER_GUNICORN_TIMEOUT_SECONDS (2)" in answer.json()["error"]
        # The stalled worker is replaced: the endpoint answers again.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and server.ping() != 200:
            time.sleep(0.5)
        assert server.ping() == 200
