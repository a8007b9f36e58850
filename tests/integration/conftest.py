"""Fixtures for integration tests: temporary /opt/ml trees and the real `train` command."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PROGRAMS = Path(__file__).parent / "programs"
TRAIN = Path(sys.executable).parent / "train"
LOCAL = Path(sys.executable).parent / "sagemaker-tf-local"
RUN_TIMEOUT = 120


@dataclass
class TrainRun:
    """What a finished `train` run left behind."""

    returncode: int
    stdout: str
    stderr: str
    base: Path

    @property
    def failure(self) -> str | None:
        path = self.base / "output" / "failure"
        return path.read_text() if path.exists() else None

    @property
    def succeeded(self) -> bool:
        return (self.base / "output" / "success").exists()

    @property
    def report(self) -> dict[str, Any]:
        return json.loads((self.base / "model" / "report.json").read_text())


class JobTree:
    """A temporary /opt/ml tree that tests fill, then run `train` on."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.config_dir = base / "input" / "config"
        self.config_dir.mkdir(parents=True)
        self.code_dir = base / "code"
        self.processes: list[subprocess.Popen[str]] = []

    def write_config(self, name: str, content: Any) -> None:
        text = content if isinstance(content, str) else json.dumps(content)
        (self.config_dir / name).write_text(text, encoding="utf-8")

    def hyperparameters(self, raw: dict[str, str]) -> None:
        """Write hyperparameters.json with the raw string values given."""
        self.write_config("hyperparameters.json", raw)

    def sdk_hyperparameters(self, entry_point: str, **user: Any) -> None:
        """Hyperparameters as the SDK sends them: every value JSON-encoded."""
        values = {k: json.dumps(v) for k, v in user.items()}
        values["sagemaker_program"] = json.dumps(entry_point)
        self.hyperparameters(values)

    def channels(self, *names: str) -> None:
        self.write_config("inputdataconfig.json", {n: {"TrainingInputMode": "File"} for n in names})
        for name in names:
            (self.base / "input" / "data" / name).mkdir(parents=True, exist_ok=True)

    def single_host(self, host: str = "algo-1") -> None:
        self.write_config("resourceconfig.json", {"current_host": host, "hosts": [host]})

    def add_program(self, name: str = "knobs.py", target: str | None = None) -> None:
        self.code_dir.mkdir(exist_ok=True)
        shutil.copy(PROGRAMS / name, self.code_dir / (target or name))

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SM_", "SAGEMAKER_"))}
        env["SAGEMAKER_BASE_DIR"] = str(self.base)
        env.update(extra)
        return env

    def start(self, **extra_env: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [str(TRAIN)],
            env=self.env(**extra_env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.processes.append(proc)
        return proc

    def run(self, timeout: float = RUN_TIMEOUT, **extra_env: str) -> TrainRun:
        proc = self.start(**extra_env)
        stdout, stderr = proc.communicate(timeout=timeout)
        return TrainRun(proc.returncode, stdout, stderr, self.base)

    def cleanup(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()


@pytest.fixture
def job(tmp_path: Path) -> Iterator[JobTree]:
    tree = JobTree(tmp_path / "opt_ml")
    yield tree
    tree.cleanup()


def make_tarball(path: Path, files: dict[str, str], extra: list[tarfile.TarInfo] = ()) -> Path:
    """A gzip tar with `files` (name -> text) at its root plus raw `extra` members."""
    import io

    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755 if name.endswith(".sh") else 0o644
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.isfile() else None)
    return path


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" not in status.read_text()


@dataclass
class S3Server:
    """A local S3-compatible server (moto) and the environment that points boto3 at it."""

    endpoint: str
    client: Any

    def env(self, region: str = "us-east-1") -> dict[str, str]:
        return {
            "S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": region,
        }


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    boto3 = pytest.importorskip("boto3")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{server._server.server_port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    try:
        yield S3Server(endpoint, client)
    finally:
        server.stop()


def build_wheel(directory: Path, name: str, version: str, module_source: str) -> Path:
    """A minimal pure-Python wheel, built by hand so tests need no index or build backend."""
    import zipfile

    dist_info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": module_source,
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    files[f"{dist_info}/RECORD"] = "".join(f"{n},,\n" for n in files) + f"{dist_info}/RECORD,,\n"
    path = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for member, text in files.items():
            wheel.writestr(member, text)
    return path


def pip_uninstall(*names: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "uninstall", "-y", "-q", *names],
        capture_output=True,
        check=False,
    )


class LineWatcher:
    """Collects a running process's stdout lines in a thread; waits for one, with a bound."""

    def __init__(self, proc: "subprocess.Popen[str]") -> None:
        import threading

        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: "subprocess.Popen[str]") -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            with self._cond:
                self.lines.append(line)
                self._cond.notify_all()

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        with self._cond:
            ok = self._cond.wait_for(lambda: any(text in line for line in self.lines), timeout)
        assert ok, f"{text!r} not printed within {timeout} s; got {self.lines!r}"

    def join(self, timeout: float = 10.0) -> str:
        self._thread.join(timeout)
        return "".join(self.lines)
