"""`serve` under a mixed load of valid and invalid requests: statuses, connections, memory.

Usage:  .venv/bin/python bench/serve_reliability.py [--requests 20000] [--concurrency 32]
            [--results bench/results/serve.md] [--note TEXT]

It starts the real `serve` (default settings: 1 gevent worker, the embedded backend with
half_plus_three, built into bench/.work/serve/) and sends `--warmup` then `--requests` POSTs from
`--concurrency` client threads, each over one keep-alive connection, in a fixed pseudo-random mix
of the kinds below, each with the status it must get. It reports:

- unexpected statuses per kind (goal: none);
- dropped connections: a send or read that failed, or the server closing a keep-alive connection
  (goal: none; the client reconnects and goes on);
- the resident memory (VmRSS) of every serve process — supervisor, backend, gunicorn master and
  workers — after the warm-up and at the end (goal: each grows < 10%), and that no process was
  replaced meanwhile.

Only 127.0.0.1 is contacted; the run is bounded by count and by `--max-seconds`. Goals are
printed as PASS/FAIL; a missed goal never changes the exit code (1 only when the benchmark
itself cannot run).
"""

import argparse
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from serve_bench import (
    HPT,
    WORK_DIR,
    BenchError,
    HttpClient,
    Serve,
    hpt_tree,
    http_request,
    load_fact,
    machine_facts,
    rss_kib,
    write_section,
)

ATTRIBUTES = "X-Amzn-SageMaker-Custom-Attributes"
GOAL_RSS_GROWTH = 0.10


@dataclass(frozen=True)
class Kind:
    """One kind of request and the status it must get."""

    name: str
    request: bytes
    expected: int


def kinds() -> list[Kind]:
    def post(
        body: bytes, content_type: str | None, path: str = "/invocations", **extra: str
    ) -> bytes:
        headers = {"Content-Type": content_type} if content_type else {}
        headers.update({k.replace("_", "-"): v for k, v in extra.items()})
        return http_request("POST", path, body, headers)

    json_type, csv_type = "application/json", "text/csv"
    rows = 25_000  # ~300 KB: past the size from which bodies go to the backend's REST as text
    large_json = b'{"instances": [' + b",".join([b"[1.0, 2.0, 5.0]"] * rows) + b"]}"
    large_csv = b"1.0,2.0,5.0\n" * rows
    return [
        Kind("large JSON, forwarded", post(large_json, json_type), 200),
        Kind("large CSV, forwarded", post(large_csv, csv_type), 200),
        Kind("large CSV not JSON, decoded", post(large_csv.replace(b"1.0", b"1."), csv_type), 200),
        Kind("large JSON, TFS error", post(large_json.replace(b"1.0", b'"x"', 1), json_type), 400),
        Kind("JSON predict", post(b'{"instances": [1.0, 2.0, 5.0]}', json_type), 200),
        Kind("generic JSON list", post(b"[[1.0, 2.0], [3.0, 4.0]]", json_type), 200),
        Kind("CSV 2 rows", post(b"1.0,2.0,5.0\n3.0,4.0,5.0\n", csv_type), 200),
        Kind("JSON lines", post(b"[1.0, 2.0]\n[3.0, 4.0]\n", "application/jsonlines"), 200),
        Kind("Accept text/csv", post(b"[1.0, 2.0]", json_type, Accept="text/csv"), 200),
        Kind("bad JSON", post(b'{"instances": [1.0,', json_type), 400),
        Kind("bad JSON lines", post(b"[1.0]\n[2.0,\n", "application/jsonlines"), 400),
        Kind("CSV of strings", post(b"a,b,c\n", csv_type), 400),
        Kind("empty JSON body", post(b"", json_type), 400),
        Kind("empty CSV body", post(b"", csv_type), 400),
        Kind("wrong Content-Type", post(b"1.0", "text/plain"), 415),
        Kind("no Content-Type", post(b"[1.0]", None), 415),
        Kind("unsatisfiable Accept", post(b"[1.0]", json_type, Accept="image/png"), 406),
        Kind(
            "unknown model attribute",
            post(b"[1.0]", json_type, **{ATTRIBUTES: "tfs-model-name=nope"}),
            404,
        ),
        Kind(
            "unknown version attribute",
            post(b"[1.0]", json_type, **{ATTRIBUTES: f"tfs-model-name={HPT},tfs-model-version=7"}),
            404,
        ),
        Kind("unknown route", post(b"[1.0]", json_type, path="/nope"), 404),
    ]


@dataclass
class Tally:
    """Per-kind outcomes, merged from every client thread."""

    sent: Counter[str] = field(default_factory=Counter)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    dropped: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def merge(self, other: "Tally") -> None:
        self.sent.update(other.sent)
        for name, counter in other.statuses.items():
            self.statuses.setdefault(name, Counter()).update(counter)
        self.dropped += other.dropped
        self.latencies_ms += other.latencies_ms


def run_mix(port: int, mix: list[Kind], concurrency: int, max_seconds: float) -> Tally:
    """Send `mix` in order, spread over `concurrency` threads; bounded by `max_seconds`."""
    tally, lock = Tally(), threading.Lock()
    next_index = iter(range(len(mix)))
    deadline = time.monotonic() + max_seconds

    def client() -> None:
        mine = Tally()
        connection = HttpClient(port, "GET", "/ping", timeout=60)
        while time.monotonic() < deadline:
            with lock:
                index = next(next_index, None)
            if index is None:
                break
            kind = mix[index]
            mine.sent[kind.name] += 1
            start = time.perf_counter()
            try:
                status, _ = connection(kind.request)
            except OSError:  # ConnectionError included: a reset or a closed keep-alive
                mine.dropped += 1
                connection.close()
                continue
            mine.latencies_ms.append((time.perf_counter() - start) * 1000)
            mine.statuses.setdefault(kind.name, Counter())[status] += 1
            if connection.sock is None:  # the server answered with `Connection: close`
                mine.dropped += 1
        connection.close()
        with lock:
            tally.merge(mine)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(1.0, deadline - time.monotonic()) + 30)
    return tally


def memory(serve: Serve) -> dict[str, tuple[int, int]]:
    """(pid, VmRSS KiB) per serve process role."""
    return {role: (pid, rss_kib(pid)) for role, pid in serve.roles().items()}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def report(
    facts: list[str],
    args: argparse.Namespace,
    table: list[Kind],
    tally: Tally,
    seconds: float,
    before: dict[str, tuple[int, int]],
    after: dict[str, tuple[int, int]],
) -> str:
    total = sum(tally.sent.values())
    answered = sum(sum(c.values()) for c in tally.statuses.values())
    unexpected = {
        kind.name: sum(
            n for s, n in tally.statuses.get(kind.name, Counter()).items() if s != kind.expected
        )
        for kind in table
    }
    lines = [
        "# `serve` reliability",
        "",
        "Produced by `bench/serve_reliability.py`; `bench/README.md` explains the method.",
        "",
        "## Machine",
        "",
        *(f"- {fact}" for fact in facts),
        "",
        f"## {total} requests at concurrency {args.concurrency} after {args.warmup} warm-up "
        f"requests ({seconds:.1f} s, {answered / seconds:,.0f} answers/s, p50 "
        f"{percentile(tally.latencies_ms, 0.5):.1f} ms, "
        f"p99 {percentile(tally.latencies_ms, 0.99):.1f} ms)",
        "",
        "| kind | expected | sent | statuses | unexpected |",
        "|---|---:|---:|---|---:|",
    ]
    for kind in table:
        got = tally.statuses.get(kind.name, Counter())
        shown = ", ".join(f"{s}: {n}" for s, n in sorted(got.items()))
        lines.append(
            f"| {kind.name} | {kind.expected} | {tally.sent[kind.name]} | {shown} | "
            f"{unexpected[kind.name]} |"
        )
    lines += [
        "",
        "## Resident memory (VmRSS)",
        "",
        "| process | pid | after warm-up MiB | end MiB | growth |",
        "|---|---:|---:|---:|---:|",
    ]
    growths = []
    for role, (pid, rss) in before.items():
        end_pid, end_rss = after.get(role, (None, 0))
        growth = (end_rss - rss) / rss if rss else float("nan")
        growths.append((role, growth, end_pid == pid))
        lines.append(
            f"| {role} | {pid}{'' if end_pid == pid else f' → {end_pid}'} | {rss / 1024:.1f} | "
            f"{end_rss / 1024:.1f} | {growth:+.1%} |"
        )
    worst = max(growths, key=lambda g: g[1])
    replaced = [role for role, _, same in growths if not same]
    bad = sum(unexpected.values())
    lines += [
        "",
        "## Goals",
        "",
        goal(bad == 0, f"unexpected statuses: {bad} of {total}"),
        goal(
            tally.dropped == 0 and answered == total,
            f"dropped or reset connections: {tally.dropped}; "
            f"unanswered requests: {total - answered}",
        ),
        goal(
            worst[1] < GOAL_RSS_GROWTH and not replaced,
            f"largest RSS growth {worst[1]:+.1%} ({worst[0]}) < {GOAL_RSS_GROWTH:.0%}; "
            f"processes replaced during the run: {', '.join(replaced) or 'none'}",
        ),
    ]
    return "\n".join(lines) + "\n"


def goal(passed: bool, text: str) -> str:
    return f"- {'PASS' if passed else 'FAIL'}: {text}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=20_000, help="measured requests")
    parser.add_argument(
        "--warmup", type=int, default=2_000, help="requests before the RSS baseline"
    )
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--max-seconds", type=float, default=900.0, help="bound on the whole run")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--results", type=Path, help="also write the report into this file")
    parser.add_argument("--note", default="", help="a line about the machine for the report")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    table = kinds()
    rng = random.Random(args.seed)
    facts = machine_facts(args.note)
    try:
        serve = Serve("reliability", hpt_tree())
    except (BenchError, OSError, subprocess.CalledProcessError) as exc:
        print(f"benchmark could not run: {exc}", file=sys.stderr)
        return 1
    try:
        run_mix(
            serve.port,
            [rng.choice(table) for _ in range(args.warmup)],
            args.concurrency,
            args.max_seconds,
        )
        before = memory(serve)
        mix = [rng.choice(table) for _ in range(args.requests)]
        started = time.monotonic()
        tally = run_mix(serve.port, mix, args.concurrency, args.max_seconds)
        seconds = time.monotonic() - started
        after = memory(serve)
    finally:
        serve.stop()
    facts.append(load_fact("end"))
    text = report(facts, args, table, tally, seconds, before, after)
    print(text)
    if args.results:
        write_section(args.results, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
