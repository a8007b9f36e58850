"""Running the embedded model server as a real subprocess, and talking to it.

Ports come from binding port 0; every wait is bounded; `stop` sends SIGTERM, waits, and only
falls back to SIGKILL (failing the test) when the server does not exit by itself.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

MODULE = "sagemaker_tensorflow_runtime.serving.modelserver"
READY_LINE = "Entering the event loop ..."
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ModelEntry:
    """One `config` block of a ModelServerConfig text file."""

    name: str
    base_path: Path
    versions: tuple[int, ...] = ()  # pinned (specific policy); empty: latest
    labels: tuple[tuple[str, int], ...] = ()
    all_versions: bool = False

    def text(self) -> str:
        lines = [f"  config: {{\n    name: '{self.name}'\n    base_path: '{self.base_path}'"]
        lines.append("    model_platform: 'tensorflow'")
        if self.all_versions:
            lines.append("    model_version_policy: { all: {} }")
        elif self.versions:
            pinned = " ".join(f"versions: {v}" for v in self.versions)
            lines.append(f"    model_version_policy: {{ specific: {{ {pinned} }} }}")
        for label, version in self.labels:
            lines.append(f"    version_labels {{ key: '{label}' value: {version} }}")
        return "\n".join(lines) + "\n  }"


def model_config_text(entries: Sequence[ModelEntry]) -> str:
    return "model_config_list: {\n" + "\n".join(e.text() for e in entries) + "\n}\n"


def server_env() -> dict[str, str]:
    env = dict(os.environ)
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONFAULTHANDLER"] = "1"  # a hung server dumps its threads on SIGABRT
    return env


class ServerProcess:
    """One embedded model server subprocess with its log file and ports."""

    def __init__(self, workdir: Path, args: Sequence[str], name: str = "server") -> None:
        self.grpc_port = free_port()
        self.rest_port = free_port()
        self.log_path = workdir / f"{name}.log"
        workdir.mkdir(parents=True, exist_ok=True)
        argv = [
            sys.executable,
            "-m",
            MODULE,
            f"--port={self.grpc_port}",
            f"--rest_api_port={self.rest_port}",
            "--max_num_load_retries=0",
            *args,
        ]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, env=server_env()
            )
        self.http = requests.Session()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while READY_LINE not in self.log():
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited {self.proc.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"server not ready within {timeout} s:\n{self.log()}")
            time.sleep(0.05)

    def model_states(self, name: str) -> list[str]:
        answer = self.http.get(f"{self.url}/v1/models/{name}", timeout=10)
        if answer.status_code != 200:
            return []
        return [v["state"] for v in answer.json()["model_version_status"]]

    def wait_settled(self, name: str, state: str = "AVAILABLE", timeout: float = 60.0) -> None:
        """Wait until every version of `name` is in `state`."""
        deadline = time.monotonic() + timeout
        while True:
            states = self.model_states(name)
            if states and all(s == state for s in states):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} states {states}, wanted {state}:\n{self.log()}")
            time.sleep(0.05)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def post(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return self.http.post(f"{self.url}{path}", data=data, timeout=30, **kwargs)

    def get(self, path: str) -> requests.Response:
        return self.http.get(f"{self.url}{path}", timeout=30)

    def stop(self) -> int:
        """SIGTERM, a bounded wait, and the exit code; a server that hangs is killed and fails."""
        self.http.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGABRT)
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=STOP_TIMEOUT)
                raise AssertionError(
                    f"server ignored SIGTERM for {STOP_TIMEOUT} s:\n{self.log()}"
                ) from None
        assert self.proc.poll() is not None
        return self.proc.returncode


def start_server(
    workdir: Path, args: Sequence[str], name: str, models: dict[str, str]
) -> ServerProcess:
    """Start a server and wait until each model in `models` is in the given state."""
    server = ServerProcess(workdir, args, name)
    try:
        server.wait_ready()
        for model, state in models.items():
            server.wait_settled(model, state)
    except BaseException:
        server.stop()
        raise
    return server


def run_once(args: Sequence[str], timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run the server module to completion (for flags that exit at once)."""
    return subprocess.run(
        [sys.executable, "-m", MODULE, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=server_env(),
        check=False,
    )


def run_all(
    runs: dict[str, Sequence[str]], timeout: float = 90.0
) -> dict[str, subprocess.CompletedProcess[str]]:
    """`run_once` for each argv at the same time (each pays TensorFlow's import)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        futures = {name: pool.submit(run_once, args, timeout) for name, args in runs.items()}
        return {name: future.result() for name, future in futures.items()}
