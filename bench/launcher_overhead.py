"""Start and exit overhead of `train`: ours against upstream sagemaker-training, side by side.

Usage:  .venv/bin/python bench/launcher_overhead.py [--runs 30] [--results bench/results/x.md]

For each round it runs, in rotating order, four commands on a one-line user script:
  ours            our `train` (default: the one beside this interpreter) on its own /opt/ml tree
  upstream        `train` of sagemaker-training==5.1.4 from PyPI, in bench/.work/upstream-venv
                  (created here when missing), on its own tree
  direct-ours     `python train.py` with the interpreter of our `train` (its shebang)
  direct-upstream `python train.py` with the interpreter of upstream's `train`

Start time   exec of the command -> the user script's first stdout line reaches us.
Overhead     a launcher's start time minus its own interpreter's direct start time, paired per
             round so both share that round's noise.
Exit latency the user script's last action (a CLOCK_MONOTONIC stamp written to a file just
             before os._exit(0)) -> waitpid() of the command returns.

Both launchers get SM_STUDIO_LOCAL_MODE=true: upstream resolves every host name (retrying up to
15 minutes) before it launches, and `algo-1` resolves only inside a SageMaker cluster, where
/etc/hosts makes the lookup instant. Ours skips that lookup for a single host anyway.

Goals are printed as PASS/FAIL; a missed goal never changes the exit code (benchmarks are not
tests). Exit 1 only when the benchmark itself cannot run.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / ".work"
UPSTREAM_PACKAGE, UPSTREAM_VERSION = "sagemaker-training", "5.1.4"
MARKER = b"bench-first-line"
STAMP_ENV = "BENCH_EXIT_STAMP"
RUN_TIMEOUT_S = 120.0

# time.monotonic_ns is CLOCK_MONOTONIC on Linux: one clock for every process on the machine.
USER_SCRIPT = f"""\
print({MARKER.decode()!r}, flush=True)
import os, time
with open(os.environ[{STAMP_ENV!r}], "w") as stamp:
    stamp.write(str(time.monotonic_ns()))
os._exit(0)
"""
CONFIG_FILES = {
    "hyperparameters.json": {"sagemaker_program": json.dumps("train.py")},
    "inputdataconfig.json": {"training": {"TrainingInputMode": "File"}},
    "resourceconfig.json": {"current_host": "algo-1", "hosts": ["algo-1"]},
}

GOAL_START_MS = 150.0
GOAL_RATIO = 0.25
GOAL_EXIT_MS = 1000.0


class BenchError(Exception):
    """The benchmark itself could not run (not a missed goal)."""


@dataclass(frozen=True)
class Command:
    """One thing to time: an argv run in the code dir of a tree."""

    name: str
    argv: tuple[str, ...]
    tree: Path
    extra_env: Mapping[str, str]


@dataclass(frozen=True)
class Sample:
    start_ns: int
    exit_latency_ns: int


def interpreter_of(script: Path) -> str:
    first = script.read_text().splitlines()[0]
    if not first.startswith("#!"):
        raise BenchError(f"{script} has no shebang; cannot tell its interpreter")
    return first[2:].strip().split()[0]


def ensure_upstream(venv: Path) -> Path:
    """Upstream's `train`, installing sagemaker-training into `venv` unless it is already there."""
    python, train = venv / "bin" / "python", venv / "bin" / "train"
    if train.is_file() and installed_version(python) == UPSTREAM_VERSION:
        return train
    print(f"installing {UPSTREAM_PACKAGE}=={UPSTREAM_VERSION} into {venv} ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, f"{UPSTREAM_PACKAGE}=={UPSTREAM_VERSION}"], check=True)
    if installed_version(python) != UPSTREAM_VERSION:
        raise BenchError(f"{UPSTREAM_PACKAGE}=={UPSTREAM_VERSION} did not install into {venv}")
    return train


def installed_version(python: Path) -> str | None:
    if not python.is_file():
        return None
    probe = f"import importlib.metadata as m; print(m.version({UPSTREAM_PACKAGE!r}))"
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def make_tree(root: Path) -> Path:
    """A fresh /opt/ml-shaped tree holding the config files and code/train.py."""
    shutil.rmtree(root, ignore_errors=True)
    config = root / "input" / "config"
    config.mkdir(parents=True)
    (root / "input" / "data" / "training").mkdir(parents=True)
    (root / "code").mkdir()
    for name, content in CONFIG_FILES.items():
        (config / name).write_text(json.dumps(content))
    (root / "code" / "train.py").write_text(USER_SCRIPT)
    return root


def on_tree(name: str, argv: tuple[str, ...], trees: Path) -> Command:
    """`argv` on its own fresh tree, so no command sees another's output."""
    tree = make_tree(trees / name)
    return Command(name, argv, tree, {"SAGEMAKER_BASE_DIR": str(tree)})


def reset_tree(tree: Path) -> None:
    """Drop what the previous run wrote, so every run starts like a fresh job."""
    for child in tree.iterdir():
        if child.name not in ("input", "code"):
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()


def run_once(command: Command, base_env: Mapping[str, str], logs: Path) -> Sample:
    reset_tree(command.tree)
    stamp = command.tree / "exit-stamp"
    env = {**base_env, **command.extra_env, STAMP_ENV: str(stamp)}
    log = logs / f"{command.name}.stderr"
    with log.open("wb") as stderr:
        code, start_ns, exited_ns = time_process(command, env, stderr)
    if code != 0 or start_ns is None or not stamp.is_file():
        tail = log.read_text(errors="replace")[-2000:]
        raise BenchError(
            f"{command.name} exited {code} (first line seen: {start_ns is not None}, "
            f"exit stamp written: {stamp.is_file()}); its stderr ends:\n{tail}"
        )
    return Sample(start_ns, exited_ns - int(stamp.read_text()))


def time_process(
    command: Command, env: Mapping[str, str], stderr: IO[bytes]
) -> tuple[int, int | None, int]:
    """(exit code, ns from exec to the marker line or None, monotonic ns at exit)."""
    t0 = time.monotonic_ns()
    proc = subprocess.Popen(
        command.argv, cwd=command.tree / "code", env=env, stdout=subprocess.PIPE, stderr=stderr
    )
    assert proc.stdout is not None
    watchdog = threading.Timer(RUN_TIMEOUT_S, proc.kill)
    watchdog.start()
    try:
        marker_ns = read_until_marker(proc.stdout)
        drain = threading.Thread(target=proc.stdout.read, daemon=True)
        drain.start()
        # wait() without a timeout is one blocking waitpid(); with one it polls (up to 50 ms).
        code = proc.wait()
        exited_ns = time.monotonic_ns()
        drain.join(RUN_TIMEOUT_S)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return code, None if marker_ns is None else marker_ns - t0, exited_ns


def read_until_marker(stdout: IO[bytes]) -> int | None:
    while line := stdout.readline():
        if line.rstrip().endswith(MARKER):
            return time.monotonic_ns()
    return None


def child_environment(bytecode_cache: bool) -> dict[str, str]:
    """os.environ for every command, with the bytecode cache a built image would have.

    An image pip-installs both packages, so their .pyc files exist. A dev shell may set
    PYTHONDONTWRITEBYTECODE, and an editable install never gets .pyc files from pip: then every
    run recompiles our modules from source while upstream's were compiled at install time. One
    shared PYTHONPYCACHEPREFIX under bench/.work gives both (and the stdlib) cached bytecode
    after the warm-up rounds, without writing into the package's source tree.
    """
    env = {**os.environ, "SM_STUDIO_LOCAL_MODE": "true"}
    if bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(WORK_DIR / "pycache")
    return env


def run_rounds(
    commands: Sequence[Command], base_env: Mapping[str, str], runs: int, warmup: int, logs: Path
) -> dict[str, list[Sample]]:
    samples: dict[str, list[Sample]] = {c.name: [] for c in commands}
    for index in range(warmup + runs):
        shift = index % len(commands)
        for command in [*commands[shift:], *commands[:shift]]:
            sample = run_once(command, base_env, logs)
            if index >= warmup:
                samples[command.name].append(sample)
        print(f"\rround {index + 1}/{warmup + runs}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return samples


@dataclass(frozen=True)
class Stats:
    median: float
    p90: float
    min: float

    @classmethod
    def of_ms(cls, values_ns: Sequence[int]) -> "Stats":
        ms = [v / 1e6 for v in values_ns]
        p90 = statistics.quantiles(ms, n=10, method="inclusive")[8] if len(ms) > 1 else ms[0]
        return cls(statistics.median(ms), p90, min(ms))

    def row(self, label: str) -> str:
        return f"| {label} | {self.median:.1f} | {self.p90:.1f} | {self.min:.1f} |"


def paired_overhead(launcher: list[Sample], direct: list[Sample]) -> Stats:
    return Stats.of_ms([a.start_ns - b.start_ns for a, b in zip(launcher, direct, strict=True)])


def machine_facts(ours_python: str, upstream_python: str) -> list[str]:
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    mem_kib = int(Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1])
    commit = git("rev-parse", "--short", "HEAD")
    dirty = " (working tree has uncommitted changes)" if git("status", "--porcelain") else ""
    return [
        f"date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"nproc: {nproc} (os.cpu_count {os.cpu_count()}), memory: {mem_kib / 2**20:.1f} GiB",
        f"platform: {platform.platform()}",
        f"python (ours): {version_of(ours_python)} at {ours_python}",
        f"python (upstream): {version_of(upstream_python)} at {upstream_python}",
        f"ours: commit {commit}{dirty}; upstream: {UPSTREAM_PACKAGE}=={UPSTREAM_VERSION}",
        load_fact("start"),
    ]


def load_fact(when: str) -> str:
    return f"load average (1/5/15 min) at {when}: " + " / ".join(
        f"{x:.2f}" for x in os.getloadavg()
    )


def bytecode_fact(env: Mapping[str, str]) -> str:
    if "PYTHONPYCACHEPREFIX" in env:
        return (
            f"bytecode: cached for all commands in PYTHONPYCACHEPREFIX={env['PYTHONPYCACHEPREFIX']}"
        )
    dont = env.get("PYTHONDONTWRITEBYTECODE")
    return f"bytecode: inherited environment (PYTHONDONTWRITEBYTECODE={dont or 'unset'})"


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=BENCH_DIR, capture_output=True, text=True)
    return done.stdout.strip()


def version_of(python: str) -> str:
    return subprocess.run([python, "-V"], capture_output=True, text=True).stdout.strip()


def table(rows: Mapping[str, Stats]) -> list[str]:
    header = ["| | median ms | p90 ms | min ms |", "|---|---:|---:|---:|"]
    return [*header, *(stats.row(name) for name, stats in rows.items()), ""]


def goal(passed: bool, text: str) -> str:
    return f"- {'PASS' if passed else 'FAIL'}: {text}"


def goals(ours: Stats, upstream: Stats, ours_exit: Stats, upstream_exit: Stats) -> list[str]:
    ratio = ours.median / upstream.median
    return [
        f"- start overhead ours/upstream (medians): {ratio:.3f}",
        f"- exit latency ours/upstream (medians): {ours_exit.median / upstream_exit.median:.3f}",
        goal(
            ours.median <= GOAL_START_MS,
            f"our start overhead median {ours.median:.1f} ms <= {GOAL_START_MS:.0f} ms",
        ),
        goal(ratio <= GOAL_RATIO, f"start overhead ours/upstream {ratio:.3f} <= {GOAL_RATIO}"),
        goal(
            ours_exit.median <= GOAL_EXIT_MS,
            f"our exit latency median {ours_exit.median:.1f} ms <= {GOAL_EXIT_MS:.0f} ms",
        ),
    ]


def report(samples: Mapping[str, list[Sample]], facts: list[str], runs: int) -> str:
    start = {name: Stats.of_ms([s.start_ns for s in ss]) for name, ss in samples.items()}
    exits = {name: Stats.of_ms([s.exit_latency_ns for s in ss]) for name, ss in samples.items()}
    overhead = {
        "ours": paired_overhead(samples["ours"], samples["direct-ours"]),
        "upstream": paired_overhead(samples["upstream"], samples["direct-upstream"]),
    }
    lines = [
        "# Launcher overhead: `train` (ours) vs sagemaker-training 5.1.4 (upstream)",
        "",
        "Produced by `bench/launcher_overhead.py`; `bench/README.md` explains the method.",
        "",
        "## Machine",
        "",
        *(f"- {fact}" for fact in facts),
        "",
        f"## Start overhead ({runs} interleaved rounds)",
        "",
        "A launcher's start minus its own interpreter's direct `python train.py` start, paired",
        "per round.",
        "",
        *table(overhead),
        "Raw start times (exec -> first user line):",
        "",
        *table(start),
        "## Exit latency (user script's os._exit -> launcher exits)",
        "",
        *table(exits),
        "## Ratios and goals",
        "",
        *goals(overhead["ours"], overhead["upstream"], exits["ours"], exits["upstream"]),
    ]
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=30, help="measured rounds (default 30)")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured first rounds")
    parser.add_argument(
        "--ours-train",
        type=Path,
        default=Path(sys.executable).parent / "train",
        help="our console script (default: `train` beside this interpreter)",
    )
    parser.add_argument("--upstream-venv", type=Path, default=WORK_DIR / "upstream-venv")
    parser.add_argument("--results", type=Path, help="also write the report to this file")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="pass PYTHONDONTWRITEBYTECODE and PYTHONPYCACHEPREFIX through unchanged",
    )
    parser.add_argument("--note", default="", help="free-text machine note for the report")
    args = parser.parse_args(argv)
    if args.runs < 2:
        parser.error("--runs must be at least 2")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        ours_train = args.ours_train.resolve()
        if not ours_train.is_file():
            raise BenchError(f"our train not found at {ours_train}; pass --ours-train")
        upstream_train = ensure_upstream(args.upstream_venv.resolve())
        ours_python, upstream_python = interpreter_of(ours_train), interpreter_of(upstream_train)
        trees, logs = WORK_DIR / "trees", WORK_DIR / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        commands = [
            on_tree("ours", (str(ours_train),), trees),
            on_tree("upstream", (str(upstream_train),), trees),
            on_tree("direct-ours", (ours_python, "train.py"), trees),
            on_tree("direct-upstream", (upstream_python, "train.py"), trees),
        ]
        facts = machine_facts(ours_python, upstream_python)
        base_env = child_environment(not args.no_bytecode_cache)
        facts.append(bytecode_fact(base_env))
        facts += [f"note: {args.note}"] if args.note else []
        samples = run_rounds(commands, base_env, args.runs, args.warmup, logs)
        facts.append(load_fact("end"))
    except (BenchError, subprocess.CalledProcessError) as exc:
        print(f"benchmark could not run: {exc}", file=sys.stderr)
        return 1
    text = report(samples, facts, args.runs)
    print(text)
    if args.results:
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
