"""Test program with knobs: what a user's training script might do, chosen by arguments.

Unknown arguments (the job's hyperparameters) are recorded, not rejected.
"""

import argparse
import json
import os
import signal
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--exit-code", type=int, default=0)
parser.add_argument("--raise", dest="raise_", default=None)
parser.add_argument("--sleep", type=float, default=0.0)
parser.add_argument("--on-sigterm", choices=["exit0", "exit3", "ignore"], default=None)
parser.add_argument("--marker", default=None)
parser.add_argument("--stderr-lines", type=int, default=0)
parser.add_argument("--write-failure", default=None)
parser.add_argument("--import", dest="import_", default=None)
known, unknown = parser.parse_known_args()

print("first-line", flush=True)
report = {
    "argv": sys.argv[1:],
    "cwd": os.getcwd(),
    "pid": os.getpid(),
    "env": {k: v for k, v in os.environ.items()},
}
model_dir = os.environ.get("SM_MODEL_DIR")
if model_dir:
    with open(os.path.join(model_dir, "report.json"), "w", encoding="utf-8") as f:
        json.dump(report, f)

if known.import_:
    __import__(known.import_)
    print(f"imported {known.import_}", flush=True)

if known.on_sigterm:

    def on_sigterm(signum, frame):
        if known.marker:
            with open(known.marker, "w") as f:
                f.write(f"got {signum}")
        if known.on_sigterm == "exit0":
            sys.exit(0)
        if known.on_sigterm == "exit3":
            sys.exit(3)

    signal.signal(signal.SIGTERM, on_sigterm if known.on_sigterm != "ignore" else signal.SIG_IGN)
    if known.on_sigterm == "ignore" and known.marker:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)

for i in range(known.stderr_lines):
    print(f"noise line {i} " + "x" * 50, file=sys.stderr)

if known.write_failure:
    with open(os.path.join(os.environ["SM_OUTPUT_DIR"], "failure"), "w") as f:
        f.write(known.write_failure)

if known.sleep:
    print("sleeping", flush=True)
    deadline = time.monotonic() + known.sleep
    while time.monotonic() < deadline:
        time.sleep(0.05)

if known.raise_ == "ZeroDivisionError":
    print(1 / 0)
elif known.raise_:
    raise RuntimeError(known.raise_)

sys.exit(known.exit_code)
