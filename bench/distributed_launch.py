"""Distributed launch: `train` on 2 hosts x 2 ranks (Horovod) vs a hand-written mpirun.

Measures, on the two network-namespace hosts of the integration tests (algo-1, algo-2), the
time from starting the command(s) to the first rank's first line on the master's stdout:

- `train`: both hosts' `train` started together (as SageMaker starts the containers); it
  includes config parsing, the SM_* environment, sshd start on both hosts, the hosts' SSH
  waits, the mpirun command of training.md §13.4 and its rank-tag rewriting.
- `mpirun`: sshd already running on algo-2 (started and awaited before the clock starts), then
  `mpirun --host algo-1:2,algo-2:2 -np 4 --allow-run-as-root --tag-output -mca ... -x PATH
  python -m mpi4py rank.py` on algo-1 — what a person would type.

Both run the same script (its first statement prints the line; then Horovod init and an
allreduce), under the same `ip netns exec ... unshare` wrapper, interleaved round by round.
Goal: median(train) <= 1.5 x median(mpirun). Needs root, Open MPI, sshd and Horovod.
"""

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration" / "distributed"))

from netns_hosts import (  # noqa: E402
    ADDRESSES,
    Cluster,
    prerequisites_missing,
    setup_network,
    teardown_network,
)

GOAL_RATIO = 1.5
MARKER = b"<stdout>:first line of rank"
RANK_SCRIPT = """\
import os
print(f"first line of rank {os.environ.get('OMPI_COMM_WORLD_RANK')}", flush=True)
import horovod.tensorflow as hvd
import tensorflow as tf

hvd.init()
total = hvd.allreduce(tf.constant(float(hvd.rank() + 1)), op=hvd.Sum)
assert float(total.numpy()) == 10.0, total
print(f"rank {hvd.rank()} allreduce {float(total.numpy())}", flush=True)
"""
PROGRAM = "rank.py"
HYPERPARAMETERS = {"sagemaker_mpi_enabled": True, "sagemaker_mpi_num_of_processes_per_host": 2}
RUN_TIMEOUT = 300


def read_until_marker(stdout: IO[bytes]) -> int | None:
    for line in stdout:
        if MARKER in line:
            return time.monotonic_ns()
    return None


def new_cluster(work: Path, program_dir: Path) -> Cluster:
    root = Path(tempfile.mkdtemp(dir=work))
    cluster = Cluster(root)
    cluster.mount_point.mkdir()
    cluster.write_job(PROGRAM, HYPERPARAMETERS, program_dir=program_dir)
    return cluster


def time_train(cluster: Cluster) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SM_", "SAGEMAKER_"))}
    env["SAGEMAKER_BASE_DIR"] = str(cluster.mount_point)
    train = str(Path(sys.executable).parent / "train")
    start = time.monotonic_ns()
    procs = [
        subprocess.Popen(
            cluster.host_argv(h, [train]),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        for h in ("algo-1", "algo-2")
    ]
    assert procs[0].stdout is not None
    seen = read_until_marker(procs[0].stdout)
    procs[0].stdout.read()
    codes = [p.wait(RUN_TIMEOUT) for p in procs]
    if seen is None or codes != [0, 0]:
        raise RuntimeError(f"train failed: exit codes {codes}; trees under {cluster.root}")
    return (seen - start) / 1e6


def wait_for_port(host: str, port: int, timeout: float) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((ADDRESSES[host], port), timeout=1):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"sshd on {host} did not come up")


def hand_written_mpirun(cluster: Cluster) -> list[str]:
    return [
        "mpirun", "--host", "algo-1:2,algo-2:2", "-np", "4",
        "--allow-run-as-root", "--tag-output",
        "-mca", "btl_tcp_if_include", "eth0", "-mca", "oob_tcp_if_include", "eth0",
        "-mca", "plm_rsh_no_tree_spawn", "1", "-mca", "btl_vader_single_copy_mechanism", "none",
        "-x", "PATH", sys.executable, "-m", "mpi4py", PROGRAM,
    ]  # fmt: skip


def time_mpirun(cluster: Cluster) -> float:
    sshd = subprocess.Popen(cluster.host_argv("algo-2", ["/usr/sbin/sshd", "-D"]))
    try:
        wait_for_port("algo-2", 22, 30)
        code = cluster.mount_point / "code"
        start = time.monotonic_ns()
        proc = subprocess.Popen(
            cluster.host_argv("algo-1", hand_written_mpirun(cluster), cwd=code),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert proc.stdout is not None
        seen = read_until_marker(proc.stdout)
        proc.stdout.read()
        if proc.wait(RUN_TIMEOUT) != 0 or seen is None:
            raise RuntimeError(f"hand-written mpirun failed: exit code {proc.returncode}")
        return (seen - start) / 1e6
    finally:
        sshd.kill()
        sshd.wait()


def stats(values: Sequence[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return statistics.median(ordered), p90, ordered[0]


def machine_facts(note: str) -> list[str]:
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    mpirun = subprocess.run(["mpirun", "--version"], capture_output=True, text=True).stdout
    facts = [
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"nproc: {os.cpu_count()}, memory: {memory:.1f} GiB",
        f"platform: {platform.platform()}",
        f"python: {platform.python_version()} at {sys.executable}",
        f"mpirun: {mpirun.splitlines()[0] if mpirun else '?'}",
        f"commit: {commit}",
        f"load average (1/5/15 min) at start: {load}",
    ]
    return facts + ([f"note: {note}"] if note else [])


def report(train: list[float], mpirun: list[float], facts: list[str], runs: int) -> str:
    t, m = stats(train), stats(mpirun)
    ratio = t[0] / m[0]
    verdict = "PASS" if ratio <= GOAL_RATIO else "FAIL"
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        "# Distributed launch: `train` vs hand-written mpirun (2 hosts x 2 Horovod ranks)",
        "",
        "Produced by `bench/distributed_launch.py` (its docstring explains the method).",
        "",
        "## Machine",
        "",
        *[f"- {f}" for f in facts],
        f"- load average (1/5/15 min) at end: {load}",
        "",
        f"## Start to the first rank's first line ({runs} interleaved rounds)",
        "",
        "| | median ms | p90 ms | min ms |",
        "|---|---:|---:|---:|",
        f"| train (both hosts) | {t[0]:.0f} | {t[1]:.0f} | {t[2]:.0f} |",
        f"| hand-written mpirun | {m[0]:.0f} | {m[1]:.0f} | {m[2]:.0f} |",
        "",
        f"Raw train ms: {', '.join(f'{x:.0f}' for x in train)}",
        f"Raw mpirun ms: {', '.join(f'{x:.0f}' for x in mpirun)}",
        "",
        "## Goal",
        "",
        f"- {verdict}: median ratio train / mpirun = {ratio:.2f} (goal <= {GOAL_RATIO})",
        "",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=8, help="measured rounds (default 8)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured rounds (default 1)")
    parser.add_argument("--results", type=Path, help="write the Markdown report here too")
    parser.add_argument("--note", default="", help="free-text machine note for the report")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    missing = prerequisites_missing()
    if missing:
        print(f"cannot run: {missing}", file=sys.stderr)
        return 1
    work = ROOT / "bench" / ".work" / "distributed"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    program_dir = work / "program"
    program_dir.mkdir()
    (program_dir / PROGRAM).write_text(RANK_SCRIPT)
    facts = machine_facts(args.note)
    setup_network(Path(tempfile.mkdtemp(dir=work)))
    train: list[float] = []
    mpirun: list[float] = []
    try:
        for round_no in range(args.warmup + args.runs):
            order = [time_train, time_mpirun] if round_no % 2 else [time_mpirun, time_train]
            results = {f.__name__: f(new_cluster(work, program_dir)) for f in order}
            if round_no >= args.warmup:
                train.append(results["time_train"])
                mpirun.append(results["time_mpirun"])
            print(
                f"round {round_no}: train {results['time_train']:.0f} ms, "
                f"mpirun {results['time_mpirun']:.0f} ms",
                file=sys.stderr,
            )
    finally:
        teardown_network()
    text = report(train, mpirun, facts, args.runs)
    print(text)
    if args.results:
        args.results.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
