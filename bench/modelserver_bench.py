"""The embedded model server against a direct in-process call of the same SavedModel signature.

Usage:  .venv/bin/python bench/modelserver_bench.py [--seconds 4] [--rounds 3] [--results FILE]
            [--note TEXT]

It builds `half_plus_three` (tests/fixtures) into bench/.work/, starts two servers on free
ports (one plain, one with --enable_batching), loads the same SavedModel in this process with
`tf.saved_model.load`, and for each scenario runs a closed loop for `--seconds`, `--rounds`
times round-robin (a slow minute of the shared host then hits every scenario alike; the rows
pool the rounds):

  direct         `loaded.signatures["serving_default"](x=tf.constant(x))["y"].numpy()`
  rest           POST /v1/models/half_plus_three:predict over a keep-alive connection per client
                 thread, body built once, response JSON parsed
  grpc           PredictionService.Predict with the stock stub, request built once, output
                 decoded with tf.make_ndarray
  grpc+batching  the same against the batching server (max_batch_size 8, 2 ms timeout)
  grpc echo floor  the same stubs against a servicer that echoes the request proto: the cost
                 of Python gRPC itself, with no conversion and no model
  grpc raw-bytes echo  the serialised 1MB request as bytes to a handler that returns them, no
                 protobuf on either side: grpcio's transport alone
  tcp echo       the same bytes, length-prefixed, over a plain TCP connection to a thread of
                 the echo server that sends them back: moving them with no protocol at all

`small` is one float (`{"instances": [1.0]}`); `1MB` is a 262144-float vector (x has unknown
rank), sent as tensor_content over gRPC and as a JSON list over REST.

Clients are threads of this process, one connection or channel each. Threads, not processes:
the clients share the machine's cores with the server, and one client process holding one GIL
takes at most about one core, leaving the rest to the server; 16 client processes would take
the cores the server needs. The direct call runs in the same threads in the same process, so
it pays the same GIL. Throughput is completed requests per second; latency is per request,
measured in the client. CPU per request is utime+stime from /proc of this process (clients,
direct calls) and of the server process, over the measured window.

Goals are printed as PASS/FAIL; a missed goal never changes the exit code (1 only when the
benchmark itself cannot run).
"""

import argparse
import http.client
import json
import os
import platform
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import grpc
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
WORK_DIR = BENCH_DIR / ".work" / "modelserver"
MODULE = "sagemaker_tensorflow_runtime.serving.modelserver"
RAW_SERVICE, RAW_METHOD = "bench.RawEcho", "Echo"
READING = "## Reading the numbers"
MODEL = "half_plus_three"
BIG = 2**31 - 1
MESSAGE_OPTIONS = [("grpc.max_send_message_length", BIG), ("grpc.max_receive_message_length", BIG)]
ONE_MB_FLOATS = 262_144
# max_batch_size = the server's gRPC handler threads (4 x 2 cores): with 16 clients at most 8
# requests are inside the server at once, so a larger batch would only ever fill by timeout.
BATCHING = """\
max_batch_size { value: 8 }
batch_timeout_micros { value: 2000 }
num_batch_threads { value: 2 }
max_enqueued_batches { value: 64 }
"""
Call = Callable[[], None]
CallFactory = Callable[[], Call]


@dataclass(frozen=True)
class Stats:
    """One scenario's result."""

    name: str
    concurrency: int
    requests: int
    seconds: float
    latencies_ms: list[float]
    client_cpu_s: float  # this process, clients and direct calls
    server_cpu_s: float | None  # the server process, when there is one

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def cpu_us(self, seconds: float | None) -> str:
        return "-" if seconds is None else f"{seconds / self.requests * 1e6:,.0f}"

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def merged(self, other: "Stats") -> "Stats":
        """This run and another of the same scenario, pooled."""
        server = (
            None
            if self.server_cpu_s is None or other.server_cpu_s is None
            else self.server_cpu_s + other.server_cpu_s
        )
        return Stats(
            self.name,
            self.concurrency,
            self.requests + other.requests,
            self.seconds + other.seconds,
            self.latencies_ms + other.latencies_ms,
            self.client_cpu_s + other.client_cpu_s,
            server,
        )

    def row(self) -> str:
        return (
            f"| {self.name} | {self.concurrency} | {self.requests} | {self.throughput:,.0f} | "
            f"{self.percentile(0.5):.3f} | {self.percentile(0.99):.3f} | "
            f"{self.cpu_us(self.client_cpu_s)} | {self.cpu_us(self.server_cpu_s)} |"
        )


def process_cpu_s(pid: int) -> float:
    """utime + stime of a process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_load(
    name: str, factory: CallFactory, concurrency: int, seconds: float, server_pid: int | None
) -> Stats:
    """Closed loop: `concurrency` threads each call as fast as they can for `seconds`."""
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    ready = threading.Barrier(concurrency + 1)
    stop_at = [0.0]

    def client(index: int) -> None:
        call = factory()
        for _ in range(3):  # warm the connection and the code path
            call()
        ready.wait()
        mine = latencies[index]
        while True:
            start = time.perf_counter()
            call()
            end = time.perf_counter()
            if end > stop_at[0]:
                return
            mine.append((end - start) * 1000)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    stop_at[0] = time.perf_counter() + 3600
    ready.wait()
    client_cpu = process_cpu_s(os.getpid())
    server_cpu = process_cpu_s(server_pid) if server_pid else 0.0
    stop_at[0] = time.perf_counter() + seconds
    for thread in threads:
        thread.join()
    client_cpu = process_cpu_s(os.getpid()) - client_cpu
    server_used = process_cpu_s(server_pid) - server_cpu if server_pid else None
    merged = [x for per_thread in latencies for x in per_thread]
    return Stats(name, concurrency, len(merged), seconds, merged, client_cpu, server_used)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """An embedded model server subprocess serving half_plus_three."""

    def __init__(self, model_dir: Path, name: str, extra: Sequence[str] = ()) -> None:
        self.grpc_port, self.rest_port = free_port(), free_port()
        self.log_path = WORK_DIR / f"{name}.log"
        argv = [
            sys.executable,
            "-m",
            MODULE,
            f"--port={self.grpc_port}",
            f"--rest_api_port={self.rest_port}",
            f"--model_name={MODEL}",
            f"--model_base_path={model_dir}",
            "--max_num_load_retries=0",
            *extra,
        ]
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(REPO)}
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
        self._wait_available()

    def _wait_available(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.rest_port, timeout=5)
                conn.request("GET", f"/v1/models/{MODEL}")
                body = conn.getresponse().read()
                conn.close()
                if b'"AVAILABLE"' in body:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{MODEL} not AVAILABLE within {timeout} s")

    def rss_mb(self) -> tuple[float, float]:
        """(VmRSS, VmHWM) of the server in MiB."""
        fields = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
        return fields["VmRSS"], fields["VmHWM"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)


class EchoService(prediction_service_pb2_grpc.PredictionServiceServicer):
    """The gRPC floor: answers `y` = the request's `x` proto, no conversion, no model."""

    def Predict(self, request: predict_pb2.PredictRequest, context: object) -> object:
        # Fields set one by one, as the model server fills its answers: with CopyFrom of the
        # parsed input, upb's serialisation of the answer takes ~1.8 ms more per MB.
        x = request.inputs["x"]
        response = predict_pb2.PredictResponse()
        y = response.outputs["y"]
        y.dtype = x.dtype
        y.tensor_shape.CopyFrom(x.tensor_shape)
        y.tensor_content = x.tensor_content
        return response


def serve_echo(port: int, tcp_port: int) -> int:
    """Run the echo servicer with the same server options as the model server, until killed."""
    from concurrent import futures

    workers = max(4, 4 * (os.cpu_count() or 1))  # the model server's default
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers), options=MESSAGE_OPTIONS)
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(EchoService(), server)
    raw = grpc.unary_unary_rpc_method_handler(lambda request, context: request)  # bytes as-is
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(RAW_SERVICE, {RAW_METHOD: raw}),)
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    threading.Thread(target=serve_tcp_echo, args=(tcp_port,), daemon=True).start()
    server.wait_for_termination()
    return 0


LENGTH = struct.Struct(">I")


def serve_tcp_echo(port: int) -> None:
    """Length-prefixed messages echoed back over plain TCP, a thread per connection: what
    moving the bytes costs with no protocol at all (the floor under any gRPC server)."""
    listener = socket.create_server(("127.0.0.1", port))
    while True:
        connection, _ = listener.accept()
        threading.Thread(target=_echo_messages, args=(connection,), daemon=True).start()


def _read_exactly(connection: socket.socket, size: int) -> bytearray | None:
    data = bytearray(size)
    view, got = memoryview(data), 0
    while got < size:
        read = connection.recv_into(view[got:], size - got)
        if not read:
            return None
        got += read
    return data


def _echo_messages(connection: socket.socket) -> None:
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with connection:
        while (header := _read_exactly(connection, LENGTH.size)) is not None:
            body = _read_exactly(connection, LENGTH.unpack(header)[0])
            if body is None:
                return
            connection.sendall(header + body)


class EchoServer:
    """`serve_echo` in a subprocess (its own GIL, like the model server)."""

    def __init__(self) -> None:
        self.grpc_port, self.tcp_port = free_port(), free_port()
        argv = [
            sys.executable,
            str(Path(__file__).resolve()),
            f"--echo-server={self.grpc_port}",
            f"--tcp-echo={self.tcp_port}",
        ]
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        self.proc = subprocess.Popen(argv, env=env, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        waiting = [self.grpc_port, self.tcp_port]
        while waiting and time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", waiting[0]), timeout=1):
                    waiting.pop(0)
            except OSError:
                time.sleep(0.1)
        if waiting:
            self.stop()
            raise RuntimeError("echo server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)


def direct_factory(signature: Callable[..., dict[str, tf.Tensor]], x: np.ndarray) -> CallFactory:
    def factory() -> Call:
        def call() -> None:
            signature(x=tf.constant(x))["y"].numpy()

        return call

    return factory


def rest_factory(port: int, x: np.ndarray) -> CallFactory:
    body = json.dumps({"instances": x.tolist()}).encode()
    path = f"/v1/models/{MODEL}:predict"
    headers = {"Content-Type": "application/json"}

    def factory() -> Call:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def call() -> None:
            conn.request("POST", path, body, headers)
            response = conn.getresponse()
            data = response.read()
            if response.status != 200:
                raise RuntimeError(f"REST {response.status}: {data[:200]!r}")
            json.loads(data)

        return call

    return factory


def predict_request(x: np.ndarray) -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(x))
    return request


def client_channel(port: int) -> grpc.Channel:
    """One channel per client thread: a shared channel multiplexes every call on one HTTP/2
    connection, which is not what independent clients do."""
    options = [*MESSAGE_OPTIONS, ("grpc.use_local_subchannel_pool", 1)]
    return grpc.insecure_channel(f"127.0.0.1:{port}", options=options)


def grpc_factory(port: int, x: np.ndarray) -> CallFactory:
    request = predict_request(x)

    def factory() -> Call:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(client_channel(port))

        def call() -> None:
            tf.make_ndarray(stub.Predict(request, timeout=60).outputs["y"])

        return call

    return factory


def raw_echo_factory(port: int, x: np.ndarray) -> CallFactory:
    """The bytes of the gRPC request for `x` to a handler that returns them unparsed, on a
    channel without (de)serialisers: grpcio's transport alone, with no protobuf on either side."""
    payload = predict_request(x).SerializeToString()

    def factory() -> Call:
        echo = client_channel(port).unary_unary(f"/{RAW_SERVICE}/{RAW_METHOD}")

        def call() -> None:
            if len(echo(payload, timeout=60)) != len(payload):
                raise RuntimeError("raw echo answered other bytes")

        return call

    return factory


def tcp_echo_factory(port: int, x: np.ndarray) -> CallFactory:
    """The same request bytes, length-prefixed, to `serve_tcp_echo`, and back."""
    payload = predict_request(x).SerializeToString()
    message = LENGTH.pack(len(payload)) + payload

    def factory() -> Call:
        connection = socket.create_connection(("127.0.0.1", port))
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def call() -> None:
            connection.sendall(message)
            if _read_exactly(connection, len(message)) is None:
                raise RuntimeError("tcp echo closed the connection")

        return call

    return factory


def machine_facts(note: str) -> list[str]:
    import grpc as grpc_module

    load = os.getloadavg()
    return [
        f"date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"{platform.platform()}; shared with other work, so numbers are noisy",
        f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        f"python {platform.python_version()}, tensorflow {tf.__version__}, "
        f"grpcio {grpc_module.__version__}, numpy {np.__version__}",
        f"commit: {git_head()}",
        f"GLIBC_TUNABLES={os.environ.get('GLIBC_TUNABLES', '')} (as `serve` starts its backends)",
        *([f"note: {note}"] if note else []),
    ]


def git_head() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    )
    return result.stdout.strip() or "unknown"


def goal(passed: bool, text: str) -> str:
    return f"{'PASS' if passed else 'FAIL'}  {text}"


def goals(results: dict[str, Stats]) -> list[str]:
    batched = results["grpc+batching small c16"].throughput
    direct16 = results["direct small c16"].throughput
    direct1 = results["direct small c1"].throughput
    base = max(direct16, direct1)
    rest_p50 = results["rest small c1"].percentile(0.5)
    grpc_big = results["grpc 1MB c1"].percentile(0.5)
    direct_big = results["direct 1MB c1"].percentile(0.5)
    floor = direct_big + results["tcp echo 1MB c1"].percentile(0.5)
    return [
        goal(
            batched >= 0.8 * base,
            f"gRPC+batching c=16 throughput {batched:,.0f}/s = {batched / base:.2f}x the better "
            f"direct call ({base:,.0f}/s; c=1 {direct1:,.0f}/s, c=16 {direct16:,.0f}/s, "
            f"{batched / direct16:.2f}x the latter); goal >= 0.8x",
        ),
        goal(rest_p50 <= 2.0, f"REST small request p50 {rest_p50:.3f} ms; goal <= 2 ms"),
        goal(
            grpc_big <= 1.5 * direct_big,
            f"1 MB over gRPC p50 {grpc_big:.3f} ms = {grpc_big / direct_big:.2f}x direct "
            f"({direct_big:.3f} ms); goal <= 1.5x",
        ),
        f"      floor: the direct call + a plain TCP echo of the same bytes = {floor:.3f} ms "
        f"= {floor / direct_big:.2f}x direct, before any protocol",
    ]


def report(results: dict[str, Stats], facts: list[str], memory: list[str]) -> str:
    lines = ["# Embedded model server vs direct SavedModel call", ""]
    lines += [f"- {fact}" for fact in facts]
    lines += [
        "",
        "| scenario | clients | requests | req/s | p50 ms | p99 ms | client CPU µs/req "
        "| server CPU µs/req |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [stats.row() for stats in results.values()]
    lines += ["", "Resident memory of the server with half_plus_three loaded:", ""]
    lines += [f"- {line}" for line in memory]
    lines += ["", "Goals:", "", "```", *goals(results), "```", ""]
    return "\n".join(lines)


Scenario = tuple[str, CallFactory, int, int | None]  # name, calls, clients, server pid


def scenarios(
    plain: Server,
    batching: Server,
    echo: EchoServer,
    signature: Callable[..., dict[str, tf.Tensor]],
) -> list[Scenario]:
    small = np.array([1.0], dtype=np.float32)
    big = np.arange(ONE_MB_FLOATS, dtype=np.float32)
    p, b, e = plain.proc.pid, batching.proc.pid, echo.proc.pid
    return [
        ("direct small c1", direct_factory(signature, small), 1, None),
        ("rest small c1", rest_factory(plain.rest_port, small), 1, p),
        ("grpc small c1", grpc_factory(plain.grpc_port, small), 1, p),
        ("grpc echo floor small c1", grpc_factory(echo.grpc_port, small), 1, e),
        ("direct small c16", direct_factory(signature, small), 16, None),
        ("rest small c16", rest_factory(plain.rest_port, small), 16, p),
        ("grpc small c16", grpc_factory(plain.grpc_port, small), 16, p),
        ("grpc echo floor small c16", grpc_factory(echo.grpc_port, small), 16, e),
        ("grpc+batching small c16", grpc_factory(batching.grpc_port, small), 16, b),
        ("rest+batching small c16", rest_factory(batching.rest_port, small), 16, b),
        ("direct 1MB c1", direct_factory(signature, big), 1, None),
        ("grpc 1MB c1", grpc_factory(plain.grpc_port, big), 1, p),
        ("grpc echo floor 1MB c1", grpc_factory(echo.grpc_port, big), 1, e),
        ("grpc raw-bytes echo 1MB c1", raw_echo_factory(echo.grpc_port, big), 1, e),
        ("tcp echo 1MB c1", tcp_echo_factory(echo.tcp_port, big), 1, e),
        ("rest 1MB c1", rest_factory(plain.rest_port, big), 1, p),
        ("direct 1MB c16", direct_factory(signature, big), 16, None),
        ("grpc 1MB c16", grpc_factory(plain.grpc_port, big), 16, p),
    ]


def build_model() -> Path:
    model_dir = WORK_DIR / "models" / MODEL
    if not model_dir.exists():
        sys.path.insert(0, str(REPO))
        from tests.fixtures import savedmodels

        savedmodels.half_plus_three(WORK_DIR / "models", versions=("00000123",))
    return model_dir


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="per scenario (default 4)")
    parser.add_argument("--only", default="", help="run only scenarios containing this text")
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs of every scenario, round-robin (default 3)"
    )
    parser.add_argument("--results", type=Path, help="also write the report to this file")
    parser.add_argument("--note", default="", help="a line about the machine for the report")
    parser.add_argument("--echo-server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--tcp-echo", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def same_allocator_everywhere() -> None:
    """Re-run this bench under the allocator settings `serve` gives its backends, so that the
    direct call, the clients and every server run with one malloc policy (large buffers kept
    in the heap: without it each 1 MB message is mapped and faulted in afresh)."""
    from sagemaker_tensorflow_runtime.serving.supervisor import MALLOC_TUNABLES

    if "GLIBC_TUNABLES" not in os.environ:
        env = {**os.environ, "GLIBC_TUNABLES": MALLOC_TUNABLES}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)


def main(argv: Sequence[str] | None = None) -> int:
    same_allocator_everywhere()
    args = parse_args(argv)
    if args.echo_server:
        return serve_echo(args.echo_server, args.tcp_echo)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    facts = machine_facts(args.note)
    model_dir = build_model()
    batching_file = WORK_DIR / "batching.config"
    batching_file.write_text(BATCHING)
    echo = EchoServer()
    plain = Server(model_dir, "plain")
    batching = Server(
        model_dir,
        "batching",
        ["--enable_batching=true", f"--batching_parameters_file={batching_file}"],
    )
    try:
        signature = tf.saved_model.load(str(model_dir / "00000123")).signatures["serving_default"]
        memory = [f"after load: VmRSS {plain.rss_mb()[0]:.0f} MiB"]
        results: dict[str, Stats] = {}
        for round_ in range(1, args.rounds + 1):
            for name, factory, concurrency, pid in scenarios(plain, batching, echo, signature):
                if args.only and args.only not in name:
                    continue
                stats = run_load(name, factory, concurrency, args.seconds, pid)
                print(f"round {round_}: {stats.row()}", flush=True)
                results[name] = results[name].merged(stats) if name in results else stats
        rss, hwm = plain.rss_mb()
        memory.append(f"after the run: VmRSS {rss:.0f} MiB, peak (VmHWM) {hwm:.0f} MiB")
        facts.append(f"load average at end: {os.getloadavg()[0]:.2f}")
        facts.append(f"{args.rounds} rounds of {args.seconds:g} s per scenario, pooled")
    finally:
        plain.stop()
        batching.stop()
        echo.stop()
    if args.only:
        return 0
    text = report(results, facts, memory)
    print(text)
    if args.results:
        write_keeping_reading(args.results, text)
    return 0


def write_keeping_reading(path: Path, text: str) -> None:
    """Write the report, keeping the file's hand-written `## Reading the numbers` section (to be
    brought up to date with the new numbers by whoever commits them)."""
    kept = ""
    if path.is_file():
        old = path.read_text()
        at = old.find(READING)
        kept = old[at:] if at >= 0 else ""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + ("\n" + kept if kept else ""))


if __name__ == "__main__":
    sys.exit(main())
