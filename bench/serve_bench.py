"""`serve` (gunicorn + Flask front) against its backends and a reference-like forwarder.

Usage:  .venv/bin/python bench/serve_bench.py [--quick] [--results FILE] [--note TEXT]

Every server is a real `serve` started on a tree under bench/.work/serve/, one at a time, with
default settings (1 gevent worker). Its backend is either a stand-in (this file run with
`--stand-in`, pointed at by SAGEMAKER_TFS_MODEL_SERVER; gRPC Predict/GetModelMetadata and REST
on one asyncio loop, answering after a fixed delay) or the embedded model server with
half_plus_three. Scenarios, all in one run:

  (a) stand-in taking 10 ms per call: POST /invocations vs gRPC Predict sent straight to the
      stand-in, at concurrency 16 (throughput) and 1 (added p50 latency); and the floor of
      that c=1 rhythm (10 ms idle, then one request): a plain HTTP hop to a process that
      answers a fixed 404, a bare gunicorn + Flask app answering fixed JSON, and the front's
      own 404 (gunicorn + Flask, none of our code)
  (b) zero-cost stand-in: /invocations vs a reference-like forwarder (gunicorn, 1 gevent worker,
      Flask, a new `requests.post` per call to the same stand-in's REST API), concurrency 16
  (c) embedded backend + half_plus_three: /invocations vs the backend's REST predict, c=1, c=16
  (d) the same /invocations at c=16 for 60 s (--quick: 10 s): p99/p50; and behind the 10 ms
      stand-in of (a), where the CPU is not saturated: the front's own tail
  (e) large bodies: the 753,936-number single-row CSV (~3 MB), a 10 MB JSON body, the gunicorn
      worker's CPU time for 6 MB bodies (/proc/<pid>/stat around sequential requests, the
      backend's counted apart), and a 32 MB npy body that must not be refused

Clients are threads of this process, one keep-alive connection (or gRPC channel) each, with a
minimal HTTP/1.1 client so the client's own cost stays small and equal on both sides. Only
127.0.0.1 is contacted; every loop is bounded in time and count.

Goals are printed as PASS/FAIL; a missed goal never changes the exit code (1 only when the
benchmark itself cannot run).
"""

import argparse
import asyncio
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
WORK_DIR = BENCH_DIR / ".work" / "serve"
SERVE = Path(sys.executable).parent / "serve"
HPT = "half_plus_three"
STAND_IN_MODEL = "standin"
DELAY_ENV = "BENCH_STANDIN_DELAY_MS"
FORWARD_ENV = "BENCH_FORWARD_URL"
READY_TIMEOUT_S = 180.0
MAX_REQUESTS = 1_000_000  # per scenario: loops are bounded by count as well as by time
SMALL_JSON = b'{"instances": [1.0, 2.0, 5.0]}'
PREDICT_METHOD = "/tensorflow.serving.PredictionService/Predict"
BIG = 2**31 - 1
TWO_WORKERS = {"SAGEMAKER_GUNICORN_WORKERS": "2"}
JSON_HEADERS = {"Content-Type": "application/json"}

GOAL_THROUGHPUT_RATIO = 0.8
GOAL_ADDED_P50_MS = 0.5
GOAL_FORWARDER_RATIO = 2.0
GOAL_TAIL_RATIO = 2.0
GOAL_CSV_3MB_MS = 250.0
GOAL_PROXY_CPU_6MB_MS = 50.0


class BenchError(Exception):
    """The benchmark itself could not run (not a missed goal)."""


# --------------------------------------------------------------------------- stand-in backend


def stand_in_main(argv: Sequence[str]) -> None:
    """A TF-Serving stand-in: `--port` gRPC and `--rest_api_port` REST, other flags ignored."""
    flags = dict(a.lstrip("-").split("=", 1) for a in argv if "=" in a)
    delay = float(os.environ.get(DELAY_ENV, "0")) / 1000
    asyncio.run(_stand_in(int(flags["port"]), int(flags["rest_api_port"]), delay))


async def _stand_in(grpc_port: int, rest_port: int, delay: float) -> None:
    import grpc
    import orjson

    from sagemaker_tensorflow_runtime.serving import protos

    predict_request = protos.message("tensorflow.serving.PredictRequest")
    predict_response = protos.message("tensorflow.serving.PredictResponse")
    metadata_request = protos.message("tensorflow.serving.GetModelMetadataRequest")
    metadata_response = protos.message("tensorflow.serving.GetModelMetadataResponse")
    signature_map = protos.message("tensorflow.serving.SignatureDefMap")()
    signature = signature_map.signature_def["serving_default"]
    signature.method_name = "tensorflow/serving/predict"
    signature.inputs["x"].name, signature.inputs["x"].dtype = "x:0", 1  # DT_FLOAT
    signature.inputs["x"].tensor_shape.unknown_rank = True
    signature.outputs["y"].name, signature.outputs["y"].dtype = "y:0", 1
    signature.outputs["y"].tensor_shape.unknown_rank = True

    def predict(request: Any, context: Any) -> Any:
        if delay:
            time.sleep(delay)
        response = predict_response()
        response.model_spec.CopyFrom(request.model_spec)
        response.outputs["y"].CopyFrom(request.inputs["x"])
        return response

    def metadata(request: Any, context: Any) -> Any:
        response = metadata_response()
        response.model_spec.CopyFrom(request.model_spec)
        response.metadata["signature_def"].Pack(signature_map)
        return response

    handler = grpc.method_handlers_generic_handler(
        "tensorflow.serving.PredictionService",
        {
            "Predict": grpc.unary_unary_rpc_method_handler(
                predict, predict_request.FromString, predict_response.SerializeToString
            ),
            "GetModelMetadata": grpc.unary_unary_rpc_method_handler(
                metadata, metadata_request.FromString, metadata_response.SerializeToString
            ),
        },
    )
    # A thread-pool server: grpc.aio's server costs ~1 ms more per call on this machine.
    options = [("grpc.max_send_message_length", BIG), ("grpc.max_receive_message_length", BIG)]
    server = grpc.server(ThreadPoolExecutor(64), options=options)
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"127.0.0.1:{grpc_port}")
    server.start()
    available = (
        b'{"model_version_status": [{"version": "1", "state": "AVAILABLE", '
        b'"status": {"error_code": "OK", "error_message": ""}}]}'
    )

    async def rest(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                method = lines[0].split(b" ", 1)[0]
                length, close = 0, False
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"connection":
                        close = value.strip().lower() == b"close"
                body = await reader.readexactly(length) if length else b""
                if method == b"GET":
                    payload = available
                else:
                    if delay:
                        await asyncio.sleep(delay)
                    doc = orjson.loads(body)
                    payload = orjson.dumps({"predictions": doc.get("instances", doc.get("inputs"))})
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload)
                )
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    rest_server = await asyncio.start_server(rest, "127.0.0.1", rest_port, limit=2**26)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    rest_server.close()
    server.stop(1)


# --------------------------------------------------------------------------- reference forwarder


def forwarder_app() -> Any:
    """The reference's shape: each body forwarded with a new `requests.post` (gunicorn gevent)."""
    import requests
    from flask import Flask, Response, request

    target = os.environ[FORWARD_ENV]
    app = Flask("reference_forwarder")

    @app.post("/invocations")
    def invocations() -> Response:
        answer = requests.post(
            target,
            data=request.get_data(),
            headers={"Content-Type": "application/json"},
            timeout=60,
        )
        return Response(answer.content, status=answer.status_code, mimetype="application/json")

    return app


def bare_app() -> Any:
    """gunicorn + Flask and nothing else: GET /bare answers fixed JSON (the (a) floor)."""
    from flask import Flask, Response

    app = Flask("bare")

    @app.get("/bare")
    def bare() -> Response:
        return Response(b"{}", mimetype="application/json")

    return app


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_block(size: int) -> tuple[int, int]:
    """`size` consecutive bindable ports below the ephemeral range."""
    for _ in range(200):
        lo = random.randrange(20000, 32000 - size)
        if all(_bindable(p) for p in range(lo, lo + size)):
            return lo, lo + size - 1
    raise BenchError(f"no block of {size} free ports found")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def process_cpu_s(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def children_of(pid: int) -> list[int]:
    found = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(p) for p in children.read_text().split()]
        except OSError:
            continue
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SM_", "SAGEMAKER_"))}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    return env


def wait_http_ok(port: int, path: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"{log.name}: exited {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            client = HttpClient(port, "GET", path)
            status, _ = client()
            client.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchError(f"{log.name}: {path} not 200 within {READY_TIMEOUT_S:g} s")


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 40.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Serve:
    """A real `serve` on `tree`, with a stand-in backend (delay in ms) or the embedded one."""

    def __init__(
        self, name: str, tree: Path, stand_in_delay_ms: float | None = None, **extra_env: str
    ) -> None:
        self.name = name
        self.port = free_port()
        lo, hi = free_port_block(4)
        self.grpc_port, self.rest_port = lo, lo + 1
        self.log = WORK_DIR / f"{name}.log"
        env = clean_env()
        env.update(
            SAGEMAKER_BASE_DIR=str(tree),
            SAGEMAKER_BIND_TO_PORT=str(self.port),
            SAGEMAKER_SAFE_PORT_RANGE=f"{lo}-{hi}",
        )
        if stand_in_delay_ms is not None:
            env["SAGEMAKER_TFS_MODEL_SERVER"] = str(stand_in_wrapper())
            env[DELAY_ENV] = str(stand_in_delay_ms)
        env.update(extra_env)
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [str(SERVE)], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=tree
            )
        wait_http_ok(self.port, "/ping", self.proc, self.log)

    def roles(self) -> dict[str, int]:
        """pid of every serve process by role: supervisor, backend, gunicorn master, workers."""
        roles = {"supervisor": self.proc.pid}
        for pid in children_of(self.proc.pid):
            if "gunicorn" in cmdline(pid):
                roles["gunicorn master"] = pid
                for index, worker in enumerate(sorted(children_of(pid))):
                    roles[f"gunicorn worker {index}"] = worker
            else:
                roles[f"backend {len([r for r in roles if r.startswith('backend')])}"] = pid
        return roles

    def worker_pid(self) -> int:
        return self.roles()["gunicorn worker 0"]

    def backend_pid(self) -> int:
        return self.roles()["backend 0"]

    def stop(self) -> None:
        stop_process(self.proc)


class GunicornApp:
    """An app of this file under one gevent gunicorn worker: the reference-like forwarder, or
    the bare Flask app of the (a) floor."""

    def __init__(self, app: str, name: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.log = WORK_DIR / f"{name}.log"
        argv = [
            sys.executable, "-m", "gunicorn", "--chdir", str(BENCH_DIR), "-k", "gevent",
            "-w", "1", "--keep-alive", "75", "--bind", f"127.0.0.1:{self.port}",
            f"serve_bench:{app}",
        ]  # fmt: skip
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, env={**clean_env(), **(env or {})}
            )
        if not wait_listening(self.port, self.proc, READY_TIMEOUT_S):
            raise BenchError(f"{name} did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        stop_process(self.proc)


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Whether `proc` accepts connections on `port` within `timeout` (False if it exits)."""
    deadline = time.monotonic() + timeout
    while not _connectable(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _connectable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def stand_in_wrapper() -> Path:
    """SAGEMAKER_TFS_MODEL_SERVER names one executable: a shell line running `--stand-in`."""
    path = WORK_DIR / "stand_in_backend"
    path.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).resolve()}" --stand-in "$@"\n'
    )
    path.chmod(0o755)
    return path


def stand_in_tree() -> Path:
    tree = WORK_DIR / "trees" / "standin"
    version = tree / "model" / STAND_IN_MODEL / "1"
    version.mkdir(parents=True, exist_ok=True)
    (version / "saved_model.pb").touch()  # discovery only looks for the file
    return tree


def hpt_tree() -> Path:
    """half_plus_three (version 123) from tests/fixtures, built in a subprocess (TensorFlow)."""
    tree = WORK_DIR / "trees" / "hpt"
    if not (tree / "model" / HPT / "00000123" / "saved_model.pb").is_file():
        (tree / "model").mkdir(parents=True, exist_ok=True)
        code = (
            "import sys; from pathlib import Path; from tests.fixtures import savedmodels; "
            "savedmodels.half_plus_three(Path(sys.argv[1]), versions=('00000123',))"
        )
        env = {**clean_env(), "PYTHONPATH": str(REPO)}
        subprocess.run(
            [sys.executable, "-c", code, str(tree / "model")], check=True, cwd=REPO, env=env
        )
    return tree


# --------------------------------------------------------------------------- clients


def http_request(
    method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> bytes:
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if method == "POST":
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class HttpClient:
    """One keep-alive HTTP/1.1 connection sending one prepared request, minimal parsing."""

    def __init__(
        self,
        port: int,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        timeout: float = 120.0,
    ) -> None:
        self.request = http_request(method, path, body, headers)
        self.port, self.timeout = port, timeout
        self.sock: socket.socket | None = None
        self.buffer = bytearray()
        self.connects = 0

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock, self.buffer, self.connects = sock, bytearray(), self.connects + 1
        return sock

    def __call__(self, request: bytes | None = None) -> tuple[int, bytes]:
        """(status, body) of this client's request or `request`; ConnectionError when the
        server drops the connection."""
        sock = self.sock or self.connect()
        sock.sendall(request or self.request)
        buffer = self.buffer
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            self._fill(sock)
        head = bytes(buffer[:end]).lower()
        status = int(head[9:12])
        marker = head.find(b"content-length:")
        if marker < 0:
            raise ConnectionError(f"response without Content-Length: {head[:200]!r}")
        line_end = head.find(b"\r\n", marker)
        length = int(head[marker + 15 : line_end if line_end >= 0 else len(head)])
        start = end + 4
        while len(buffer) < start + length:
            self._fill(sock)
        body = bytes(buffer[start : start + length])
        del buffer[: start + length]
        if b"\r\nconnection: close" in head:
            self.close()
        return status, body

    def _fill(self, sock: socket.socket) -> None:
        chunk = sock.recv(1 << 20)
        if not chunk:
            self.close()
            raise ConnectionError("server closed the connection")
        self.buffer += chunk

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def grpc_predict_factory(port: int, model: str) -> Callable[[], Callable[[], tuple[int, bytes]]]:
    """A gRPC Predict of [1, 2, 5] straight to a backend, one channel per client thread."""
    import grpc
    import numpy as np

    from sagemaker_tensorflow_runtime.serving import protos
    from sagemaker_tensorflow_runtime.serving.tensors.tensor_proto import tensor_proto, to_numpy

    request = protos.message("tensorflow.serving.PredictRequest")()
    request.model_spec.name = model
    request.model_spec.signature_name = "serving_default"
    request.inputs["x"].CopyFrom(tensor_proto(np.array([1.0, 2.0, 5.0], dtype=np.float32)))
    response_type = protos.message("tensorflow.serving.PredictResponse")

    def factory() -> Callable[[], tuple[int, bytes]]:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        stub = channel.unary_unary(
            PREDICT_METHOD,
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=response_type.FromString,
        )

        def call() -> tuple[int, bytes]:
            response = stub(request, timeout=60)
            to_numpy(response.outputs["y"])  # the client decodes its answer, as HTTP ones do
            return 200, b""

        return call

    return factory


def http_factory(
    port: int, path: str, body: bytes, content_type: str = "application/json", **headers: str
) -> Callable[[], Callable[[], tuple[int, bytes]]]:
    def factory() -> Callable[[], tuple[int, bytes]]:
        return HttpClient(port, "POST", path, body, {"Content-Type": content_type, **headers})

    return factory


@dataclass
class Stats:
    """One scenario's result."""

    name: str
    concurrency: int
    seconds: float
    latencies_ms: list[float]
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    def row(self) -> str:
        bad = sum(n for s, n in self.statuses.items() if s != 200) + self.errors
        return (
            f"| {self.name} | {self.concurrency} | {len(self.latencies_ms)} | "
            f"{self.throughput:,.0f} | {self.percentile(0.5):.2f} | {self.percentile(0.99):.2f} | "
            f"{self.percentile(0.99) / self.percentile(0.5):.2f} | {bad} |"
        )


def run_load(
    name: str,
    factory: Callable[[], Callable[[], tuple[int, bytes]]],
    concurrency: int,
    seconds: float,
    warmup_calls: int = 5,
) -> Stats:
    """Closed loop: `concurrency` threads call as fast as they can for `seconds`."""
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    statuses: list[Counter[int]] = [Counter() for _ in range(concurrency)]
    errors = [0] * concurrency
    ready = threading.Barrier(concurrency + 1, timeout=120)
    stop_at = [time.perf_counter() + 3600.0]
    budget = MAX_REQUESTS // concurrency

    def client(index: int) -> None:
        call = factory()
        for _ in range(warmup_calls):
            call()
        ready.wait()
        mine = latencies[index]
        for _ in range(budget):
            start = time.perf_counter()
            try:
                status, _ = call()
            except OSError:
                errors[index] += 1
                continue
            end = time.perf_counter()
            if end > stop_at[0]:
                return
            mine.append((end - start) * 1000)
            statuses[index][status] += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    ready.wait()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    for thread in threads:
        thread.join(seconds + 120)
    elapsed = min(time.perf_counter(), stop_at[0]) - began
    stats = Stats(name, concurrency, elapsed, [x for per in latencies for x in per])
    for counter in statuses:
        stats.statuses.update(counter)
    stats.errors = sum(errors)
    print(f"  {stats.row()}", file=sys.stderr, flush=True)
    return stats


# --------------------------------------------------------------------------- scenarios


@dataclass
class Results:
    loads: dict[str, Stats] = field(default_factory=dict)
    lines: dict[str, list[str]] = field(default_factory=dict)
    goals: list[str] = field(default_factory=list)

    def add(self, stats: Stats) -> Stats:
        self.loads[f"{stats.name} c{stats.concurrency}"] = stats
        return stats

    def goal(self, passed: bool, text: str) -> None:
        self.goals.append(f"- {'PASS' if passed else 'FAIL'}: {text}")


def proxy_cost(results: Results, seconds: float, tail_seconds: float) -> None:
    """(a): 10 ms stand-in; /invocations vs gRPC straight to the stand-in. Then (d) on the
    stand-in: the front's own tail, with CPU to spare (the embedded backend's run has none)."""
    serve = Serve("standin-10ms", stand_in_tree(), stand_in_delay_ms=10)
    try:
        direct = grpc_predict_factory(serve.grpc_port, STAND_IN_MODEL)
        proxy = http_factory(serve.port, "/invocations", SMALL_JSON)
        for concurrency in (1, 16):
            d = results.add(run_load("a: direct gRPC, 10 ms", direct, concurrency, seconds))
            worker_cpu = process_cpu_s(serve.worker_pid())
            p = results.add(run_load("a: /invocations, 10 ms", proxy, concurrency, seconds))
            per_request_us = (process_cpu_s(serve.worker_pid()) - worker_cpu) * 1e6
            per_request_us /= max(1, len(p.latencies_ms))
            results.lines.setdefault("a", []).append(
                f"- c={concurrency}: gunicorn worker CPU {per_request_us:,.0f} us per /invocations"
            )
            if concurrency == 16:
                ratio = p.throughput / d.throughput
                results.goal(
                    ratio >= GOAL_THROUGHPUT_RATIO,
                    f"(a) /invocations / direct throughput at c=16 {ratio:.3f} "
                    f">= {GOAL_THROUGHPUT_RATIO} ({p.throughput:,.0f} vs {d.throughput:,.0f}/s)",
                )
            else:
                added = p.percentile(0.5) - d.percentile(0.5)
                results.goal(
                    added <= GOAL_ADDED_P50_MS,
                    f"(a) added p50 latency at c=1 {added:.3f} ms <= {GOAL_ADDED_P50_MS} ms "
                    f"({p.percentile(0.5):.3f} vs {d.percentile(0.5):.3f} ms)",
                )
        results.lines["a"].append(paced_floor(serve))
        tail = results.add(run_load("d: /invocations, 10 ms, tail", proxy, 16, tail_seconds))
        tail_goal(results, tail, "behind the 10 ms stand-in")
    finally:
        serve.stop()


HOP_ANSWER = (
    b"HTTP/1.1 404 NOT FOUND\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
)
PACE_S = 0.010  # idle between paced requests, as a client of the 10 ms stand-in sees it
PACED_RUNS = 400


def hop_server_main(port: int) -> None:
    """A process answering every GET with a fixed 404: one HTTP hop and nothing else."""
    listener = socket.create_server(("127.0.0.1", port))
    while True:
        connection, _ = listener.accept()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with connection:
            pending = b""
            while chunk := connection.recv(65536):
                pending += chunk
                while b"\r\n\r\n" in pending:
                    _, pending = pending.split(b"\r\n\r\n", 1)
                    connection.sendall(HOP_ANSWER)


def paced_p50_ms(client: HttpClient) -> float:
    """p50 of sequential requests with `PACE_S` of idle before each (the (a) c=1 rhythm)."""
    times = []
    for _ in range(PACED_RUNS):
        time.sleep(PACE_S)
        start = time.perf_counter()
        client()
        times.append(time.perf_counter() - start)
    client.close()
    return sorted(times)[len(times) // 2] * 1000


def paced_floor(serve: Serve) -> str:
    """What the (a) c=1 rhythm costs before any of our code runs: a plain HTTP hop to another
    process, a bare gunicorn + Flask app, and the front's cheapest answer (its 404)."""
    port = free_port()
    hop = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--hop-server", str(port)]
    )
    try:
        if not wait_listening(port, hop, 30):
            raise BenchError("the hop server did not start")
        hop_ms = paced_p50_ms(HttpClient(port, "GET", "/nope"))
    finally:
        stop_process(hop)
    bare = GunicornApp("bare_app()", "bare-flask")
    try:
        bare_ms = paced_p50_ms(HttpClient(bare.port, "GET", "/bare"))
    finally:
        bare.stop()
    front_ms = paced_p50_ms(HttpClient(serve.port, "GET", "/nope"))
    return (
        f"- floor at c=1 with {PACE_S * 1000:.0f} ms idle before each request: a plain HTTP hop "
        f"to another process p50 {hop_ms:.3f} ms; a bare gunicorn (1 gevent worker) + Flask app "
        f"answering fixed JSON p50 {bare_ms:.3f} ms ({bare_ms - hop_ms:.3f} ms more than the "
        f"hop); the front's cheapest answer (its 404, none of our code) p50 {front_ms:.3f} ms "
        f"({front_ms - hop_ms:.3f} ms more)"
    )


def tail_goal(results: Results, tail: Stats, where: str) -> None:
    p50, p99 = tail.percentile(0.5), tail.percentile(0.99)
    results.goal(
        p99 / p50 <= GOAL_TAIL_RATIO,
        f"(d) {where}: p99/p50 over {tail.seconds:.0f} s at c=16 {p99 / p50:.2f} <= "
        f"{GOAL_TAIL_RATIO} (p50 {p50:.2f} ms, p99 {p99:.2f} ms)",
    )


def versus_forwarder(results: Results, seconds: float) -> None:
    """(b): zero-cost stand-in; /invocations vs the reference-like forwarder."""
    serve = Serve("standin-0ms", stand_in_tree(), stand_in_delay_ms=0)
    forwarder = None
    try:
        target = f"http://127.0.0.1:{serve.rest_port}/v1/models/{STAND_IN_MODEL}:predict"
        forwarder = GunicornApp("forwarder_app()", "forwarder", {FORWARD_ENV: target})
        ours = http_factory(serve.port, "/invocations", SMALL_JSON)
        theirs = http_factory(forwarder.port, "/invocations", SMALL_JSON)
        f = results.add(run_load("b: forwarder, 0 ms", theirs, 16, seconds))
        o = results.add(run_load("b: /invocations, 0 ms", ours, 16, seconds))
        ratio = o.throughput / f.throughput
        results.goal(
            ratio >= GOAL_FORWARDER_RATIO,
            f"(b) /invocations / reference-like forwarder at c=16 {ratio:.2f} "
            f">= {GOAL_FORWARDER_RATIO} ({o.throughput:,.0f} vs {f.throughput:,.0f}/s)",
        )
    finally:
        if forwarder is not None:
            forwarder.stop()
        serve.stop()


def more_workers(results: Results, seconds: float) -> None:
    """Not a goal: (a) and (b) at c=16 with SAGEMAKER_GUNICORN_WORKERS=2 (one per core)."""
    for delay in (10, 0):
        serve = Serve(f"standin-{delay}ms-2workers", stand_in_tree(), delay, **TWO_WORKERS)
        try:
            proxy = http_factory(serve.port, "/invocations", SMALL_JSON)
            results.add(run_load(f"a/b: /invocations, {delay} ms, 2 workers", proxy, 16, seconds))
        finally:
            serve.stop()


def front_breakdown(results: Results, runs: int) -> None:
    """Not a goal: the gunicorn worker's CPU per request, sequential, on the 0 ms stand-in.

    An unknown route costs gunicorn + Flask; /ping adds one REST call to the backend;
    /invocations adds the codecs and one gRPC Predict. Under the default gevent worker and
    under gunicorn's plain sync worker (no gevent, so gRPC runs without its gevent glue).
    """
    lines = [
        "| worker class | request | worker CPU us/req | backend CPU us/req | p50 us |",
        "|---|---|---:|---:|---:|",
    ]
    for worker_class in ("gevent", "sync"):
        serve = Serve(
            f"breakdown-{worker_class}",
            stand_in_tree(),
            0,
            SAGEMAKER_GUNICORN_WORKER_CLASS=worker_class,
        )
        try:
            worker, backend = serve.worker_pid(), serve.backend_pid()
            requests = {
                "POST /nope (404)": HttpClient(serve.port, "POST", "/nope", SMALL_JSON),
                "GET /ping": HttpClient(serve.port, "GET", "/ping"),
                "POST /invocations JSON": HttpClient(
                    serve.port, "POST", "/invocations", SMALL_JSON, JSON_HEADERS
                ),
            }
            for label, client in requests.items():
                timed_post(client, 50)
                w0, b0 = process_cpu_s(worker), process_cpu_s(backend)
                times, _, _ = timed_post(client, runs)
                w_us = (process_cpu_s(worker) - w0) / runs * 1e6
                b_us = (process_cpu_s(backend) - b0) / runs * 1e6
                client.close()
                p50 = sorted(times)[runs // 2] * 1000
                lines.append(
                    f"| {worker_class} | {label} | {w_us:,.0f} | {b_us:,.0f} | {p50:,.0f} |"
                )
        finally:
            serve.stop()
    results.lines["breakdown"] = lines


def embedded(results: Results, seconds: float, tail_seconds: float) -> None:
    """(c), (d), (e) on the embedded backend with half_plus_three."""
    serve = Serve("embedded-hpt", hpt_tree())
    try:
        direct = http_factory(serve.rest_port, f"/v1/models/{HPT}:predict", SMALL_JSON)
        proxy = http_factory(serve.port, "/invocations", SMALL_JSON)
        for concurrency in (1, 16):
            d = results.add(run_load("c: backend REST direct", direct, concurrency, seconds))
            p = results.add(run_load("c: /invocations", proxy, concurrency, seconds))
            results.lines.setdefault("c", []).append(
                f"- c={concurrency}: /invocations / direct REST throughput "
                f"{p.throughput / d.throughput:.3f}; p50 {p.percentile(0.5):.2f} vs "
                f"{d.percentile(0.5):.2f} ms, p99 {p.percentile(0.99):.2f} vs "
                f"{d.percentile(0.99):.2f} ms"
            )
        tail = results.add(run_load("d: /invocations, tail", proxy, 16, tail_seconds))
        tail_goal(results, tail, "behind the embedded backend")
        large_bodies(results, serve)
    finally:
        serve.stop()


def timed_post(client: HttpClient, runs: int) -> tuple[list[float], set[int], int]:
    """(latencies ms, statuses, response bytes) of `runs` sequential requests."""
    times, statuses, size = [], set(), 0
    for _ in range(runs):
        start = time.perf_counter()
        status, body = client()
        times.append((time.perf_counter() - start) * 1000)
        statuses.add(status)
        size = len(body)
    return times, statuses, size


def large_bodies(results: Results, serve: Serve, runs: int = 5) -> None:
    """(e): end-to-end latency and the worker's CPU per request for multi-MB bodies."""
    worker, backend = serve.worker_pid(), serve.backend_pid()
    csv_3mb = ",".join(["1.0", "2.0", "5.0", "0.0"] * (753_936 // 4)).encode()
    floats = [f"{random.random():.6f}" for _ in range(100_000)]
    row = ",".join(floats)

    def json_body(megabytes: float) -> bytes:
        rows = max(1, round(megabytes * 1e6 / (len(row) + 3)))
        return ('{"instances": [' + ",".join(f"[{row}]" for _ in range(rows)) + "]}").encode()

    csv_6mb = "\n".join([row] * round(6e6 / (len(row) + 1))).encode()
    lines_6mb = "\n".join([f"[{row}]"] * round(6e6 / (len(row) + 3))).encode()
    bodies = [
        ("CSV 753,936 numbers, 1 row", csv_3mb, "text/csv"),
        ("JSON instances", json_body(10), "application/json"),
        ("JSON instances", json_body(6), "application/json"),
        ("CSV rows", csv_6mb, "text/csv"),
        ("JSON lines (checked in the front)", lines_6mb, "application/jsonlines"),
    ]
    lines = [
        "| body | MB | status | response MB | p50 ms | min ms | worker CPU ms/req | "
        "backend CPU ms/req |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    medians: dict[int, float] = {}
    cpu: dict[int, float] = {}
    for label, body, content_type in bodies:
        client = HttpClient(
            serve.port, "POST", "/invocations", body, {"Content-Type": content_type}
        )
        client()  # warm: the first large request grows buffers
        w0, b0 = process_cpu_s(worker), process_cpu_s(backend)
        times, statuses, size = timed_post(client, runs)
        w_ms = (process_cpu_s(worker) - w0) / runs * 1000
        b_ms = (process_cpu_s(backend) - b0) / runs * 1000
        client.close()
        times.sort()
        medians[len(body)] = times[len(times) // 2]
        cpu[len(body)] = w_ms
        lines.append(
            f"| {label} | {len(body) / 1e6:.1f} | {sorted(statuses)} | {size / 1e6:.1f} | "
            f"{times[len(times) // 2]:.1f} | {times[0]:.1f} | {w_ms:.1f} | {b_ms:.1f} |"
        )
    npy = npy_body(32)
    client = HttpClient(
        serve.port, "POST", "/invocations", npy, {"Content-Type": "application/x-npy"}
    )
    times, statuses, size = timed_post(client, 1)
    client.close()
    lines.append(
        f"| npy float32 (size check) | {len(npy) / 1e6:.1f} | {sorted(statuses)} | "
        f"{size / 1e6:.1f} | {times[0]:.1f} | {times[0]:.1f} | - | - |"
    )
    results.lines["e"] = lines
    csv_ms = medians[len(csv_3mb)]
    results.goal(
        csv_ms <= GOAL_CSV_3MB_MS,
        f"(e) 753,936-number CSV end to end p50 {csv_ms:.1f} ms <= {GOAL_CSV_3MB_MS:.0f} ms",
    )
    six = [cpu[len(b)] for label, b, _ in bodies[2:4]]
    results.goal(
        max(six) <= GOAL_PROXY_CPU_6MB_MS,
        f"(e) gunicorn worker CPU per 6 MB body (JSON {six[0]:.1f} ms, CSV {six[1]:.1f} ms) "
        f"<= {GOAL_PROXY_CPU_6MB_MS:.0f} ms",
    )
    refused = [line for line in lines[2:] if "[200]" not in line]
    results.goal(not refused, "(e) every large body answered 200 (none refused for its size)")


def npy_body(megabytes: int) -> bytes:
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, np.ones(megabytes * 2**18, dtype=np.float32))
    return buffer.getvalue()


# --------------------------------------------------------------------------- report


def load_fact(when: str) -> str:
    return f"load average (1/5/15 min) at {when}: " + " / ".join(
        f"{x:.2f}" for x in os.getloadavg()
    )


def machine_facts(note: str) -> list[str]:
    mem_kib = int(Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1])
    commit = git("rev-parse", "--short", "HEAD")
    dirty = " (working tree has uncommitted changes)" if git("status", "--porcelain") else ""
    return [
        f"date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"nproc: {os.cpu_count()}, memory: {mem_kib / 2**20:.1f} GiB",
        f"platform: {platform.platform()}, Python {platform.python_version()}",
        f"commit {commit}{dirty}",
        "serve: default settings (1 gunicorn worker, gevent, 1 backend instance)",
        load_fact("start"),
        *([f"note: {note}"] if note else []),
    ]


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
    return done.stdout.strip()


def report(results: Results, facts: list[str], seconds: float) -> str:
    lines = [
        "# `serve` benchmark",
        "",
        "Produced by `bench/serve_bench.py`; `bench/README.md` explains the method.",
        "",
        "## Machine",
        "",
        *(f"- {fact}" for fact in facts),
        "",
        f"## Load runs ({seconds:g} s each unless named tail; latencies in ms, client side)",
        "",
        "| scenario | concurrency | requests | req/s | p50 | p99 | p99/p50 | non-200 or errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *(stats.row() for stats in results.loads.values()),
        "",
        "## (a) the front's CPU per request beside the 10 ms stand-in, and the c=1 floor",
        "",
        *results.lines.get("a", []),
        "",
        "## (c) embedded backend, /invocations vs its REST API",
        "",
        *results.lines.get("c", []),
        "",
        "## (e) large bodies (sequential, one keep-alive connection)",
        "",
        *results.lines.get("e", []),
        "",
        "## Where the front's time goes (not a goal; sequential requests, c=1)",
        "",
        *results.lines.get("breakdown", []),
        "",
        "## Goals (default settings)",
        "",
        *results.goals,
    ]
    return "\n".join(lines) + "\n"


def write_section(path: Path, text: str) -> None:
    """Put `text` (starting with a `# ` heading) into `path`, replacing the section of that
    heading and keeping the others: both serve benchmarks share one results file."""
    heading = text.split("\n", 1)[0]
    sections: list[str] = []
    if path.is_file():
        for chunk in ("\n" + path.read_text()).split("\n# ")[1:]:
            sections.append("# " + chunk.rstrip("\n") + "\n")
    sections = [s for s in sections if s.split("\n", 1)[0] != heading]
    ordered = sorted([*sections, text], key=lambda s: "reliability" in s.split("\n", 1)[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(ordered))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="3 s runs, 10 s tail (trials)")
    parser.add_argument("--seconds", type=float, default=15.0, help="per load run (default 15)")
    parser.add_argument("--tail-seconds", type=float, default=60.0, help="(d) (default 60)")
    parser.add_argument(
        "--only",
        choices=["a", "b", "c", "x"],
        help="one group (c includes d and e; x: the informational 2-worker and breakdown runs)",
    )
    parser.add_argument("--results", type=Path, help="also write the report to this file")
    parser.add_argument("--note", default="", help="a line about the machine for the report")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.tail_seconds = 3.0, 10.0
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--stand-in"]:
        stand_in_main(argv[1:])
        return 0
    if argv[:1] == ["--hop-server"]:
        hop_server_main(int(argv[1]))
        return 0
    args = parse_args(argv)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    facts = machine_facts(args.note)
    results = Results()
    try:
        if args.only in (None, "a"):
            proxy_cost(results, args.seconds, args.tail_seconds)
        if args.only in (None, "b"):
            versus_forwarder(results, args.seconds)
        if args.only in (None, "c"):
            embedded(results, args.seconds, args.tail_seconds)
        if args.only in (None, "x"):
            more_workers(results, args.seconds)
            front_breakdown(results, 300 if args.quick else 2000)
    except (BenchError, OSError, subprocess.CalledProcessError) as exc:
        print(f"benchmark could not run: {exc}", file=sys.stderr)
        return 1
    facts.append(load_fact("end"))
    text = report(results, facts, args.seconds)
    print(text)
    if args.results:
        write_section(args.results, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
