"""Running the real `serve` command on a temporary /opt/ml tree, and talking to it over HTTP.

`ServeTree` lays out `model/` (SavedModels, `code/inference.py`, `lib/`, `requirements.txt`);
`ServeProcess` starts `serve` with an explicit environment (public port bound-tested free,
internal ports from a bound-tested `SAGEMAKER_SAFE_PORT_RANGE` block), waits for `/ping` 200 with
a bound, and stops it with SIGTERM: it must exit 0 within 30 s and leave no backend, gunicorn
master or worker behind. Descendants are recorded from /proc while the server runs and from the
pids its log names.
"""

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

SERVE = Path(sys.executable).parent / "serve"
READY_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0
HPT = "half_plus_three"
ATTRIBUTES = "X-Amzn-SageMaker-Custom-Attributes"
PID_LINES = re.compile(r"(?:started \S+ \d* ?\(pid (\d+)\)|Booting worker with pid: (\d+))")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def free_port_block(size: int) -> tuple[int, int]:
    """`size` consecutive free ports below the ephemeral range, where port-0 binds never land."""
    for _ in range(200):
        lo = random.randrange(20000, 32000 - size)
        if all(_bindable(p) for p in range(lo, lo + size)):
            return lo, lo + size - 1
    raise AssertionError(f"no block of {size} free ports found")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))
        return int(sock.getsockname()[1])


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    try:
        return "State:\tZ" not in status.read_text()
    except OSError:
        return False


def descendants(pid: int) -> set[int]:
    """Every live descendant of `pid`, read from /proc/<pid>/task/*/children."""
    found: set[int] = set()
    pending = [pid]
    while pending:
        parent = pending.pop()
        for children in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                pids = [int(p) for p in children.read_text().split()]
            except OSError:
                continue
            for child in pids:
                if child not in found:
                    found.add(child)
                    pending.append(child)
    return found


class ServeTree:
    """A temporary /opt/ml tree for `serve`."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.model_dir = base / "model"
        self.model_dir.mkdir(parents=True)
        self.code_dir = self.model_dir / "code"

    def add_model(self, source: Path) -> None:
        shutil.copytree(source, self.model_dir / source.name)

    def write_code(self, files: dict[str, str]) -> None:
        """Files under model/code (e.g. `inference.py`, `lib/dummy_module/__init__.py`)."""
        for name, text in files.items():
            path = self.code_dir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")


def hpt_tree(base: Path, source: Path) -> ServeTree:
    """A tree under `base` holding a copy of the half_plus_three model at `source`."""
    tree = ServeTree(base)
    tree.add_model(source)
    return tree


class ServeProcess:
    """One `serve` subprocess, its log file and its ports."""

    def __init__(self, tree: ServeTree, instances: int = 1, **extra_env: str) -> None:
        self.tree = tree
        self.port = free_port()
        self.port_range = free_port_block(2 * instances + 2)
        self.log_path = tree.base / f"serve-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SM_", "SAGEMAKER_"))}
        env.update(
            SAGEMAKER_BASE_DIR=str(tree.base),
            SAGEMAKER_BIND_TO_PORT=str(self.port),
            SAGEMAKER_SAFE_PORT_RANGE=f"{self.port_range[0]}-{self.port_range[1]}",
            SAGEMAKER_TFS_INSTANCE_COUNT=str(instances),
            TF_CPP_MIN_LOG_LEVEL="2",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra_env)
        self.env = env
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [str(SERVE)], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tree.base
            )
        self.seen: set[int] = set()
        # Idle keep-alive connections would hold gunicorn's graceful stop for its full 20 s.
        self.http = requests.Session()
        self.http.headers["Connection"] = "close"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def record_children(self) -> set[int]:
        current = descendants(self.proc.pid)
        self.seen |= current
        return current

    def logged_pids(self) -> set[int]:
        return {int(a or b) for a, b in PID_LINES.findall(self.log())}

    def backend_pids(self) -> list[int]:
        return [int(p) for p in re.findall(r"started backend \d+ \(pid (\d+)\)", self.log())]

    def ping(self, timeout: float = 5.0) -> int | None:
        """The /ping status, or None when nothing answers on the port."""
        try:
            headers = {"Connection": "close"}
            return requests.get(f"{self.url}/ping", headers=headers, timeout=timeout).status_code
        except requests.ConnectionError:
            return None

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while self.ping() != 200:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited {self.proc.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"/ping not 200 within {timeout} s:\n{self.log()}")
            time.sleep(0.1)
        self.record_children()

    def wait_exit(self, timeout: float = READY_TIMEOUT) -> int:
        """For a serve that must fail on its own: its exit code (killed, failing, if it hangs)."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"serve still running after {timeout} s:\n{self.log()}") from None

    def post(
        self,
        body: Any,
        content_type: str | None = "application/json",
        path: str = "/invocations",
        timeout: float = 60.0,
        attributes: str | None = None,
        **headers: str | None,
    ) -> requests.Response:
        """POST with `attributes` as the custom-attributes header; a header given as None is left
        out (requests would send `Accept: */*`)."""
        all_headers: dict[str, Any] = {"Content-Type": content_type, ATTRIBUTES: attributes}
        all_headers.update({k.replace("_", "-"): v for k, v in headers.items()})
        return self.http.post(f"{self.url}{path}", data=body, headers=all_headers, timeout=timeout)

    def signal(self, signum: int) -> None:
        self.record_children()
        self.proc.send_signal(signum)

    def stop(self) -> None:
        """SIGTERM; serve must exit 0 within 30 s and leave no descendant alive."""
        self.http.close()
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)
        try:
            code = self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"serve ignored SIGTERM for {STOP_TIMEOUT} s:\n{self.log()}"
            ) from None
        assert code == 0, f"serve exited {code}:\n{self.log()}"
        self.assert_no_children_left()

    def assert_no_children_left(self) -> None:
        pids = self.seen | self.logged_pids()
        deadline = time.monotonic() + 5.0  # orphans' exit is reaped by init, maybe a moment later
        while (alive := sorted(p for p in pids if pid_alive(p))) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in alive:  # don't leak them into later tests, but fail
            os.kill(pid, signal.SIGKILL)
        assert not alive, f"children of serve left running: {alive}\n{self.log()}"

    def kill(self) -> None:
        """Last resort for a failing test: SIGKILL serve and every descendant seen."""
        self.record_children()
        for pid in sorted(self.seen | self.logged_pids()):
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@contextmanager
def running_serve(tree: ServeTree, instances: int = 1, **env: str) -> Iterator[ServeProcess]:
    """A ready `serve`, stopped (exit 0, no child left) when the block ends."""
    server = ServeProcess(tree, instances, **env)
    try:
        server.wait_ready()
    except BaseException:
        server.kill()
        raise
    try:
        yield server
    except BaseException:
        server.kill()
        raise
    server.stop()


def default_attributes(method: str = "predict", version: int | None = None) -> str:
    value = f"tfs-model-name={HPT},tfs-method={method}"
    return value + (f",tfs-model-version={version}" if version is not None else "")
