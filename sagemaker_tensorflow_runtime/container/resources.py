"""What this host has: CPUs, GPUs, Neuron cores and optional launchers.

GPU and Neuron counts come from `nvidia-smi` / `neuron-ls` only when they are on PATH, so a
CPU host pays no process start. A given GPU count replaces the probe (tests fake GPU hosts).
"""

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

PROBE_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class HostResources:
    """Counts reported as SM_NUM_CPUS, SM_NUM_GPUS, SM_NUM_NEURONS."""

    num_cpus: int
    num_gpus: int
    num_neurons: int
    smddprun_installed: bool = False
    smddpmprun_installed: bool = False


def probe_output(tool: str, args: list[str], environ: Mapping[str, str]) -> str | None:
    """stdout of `tool args` when the tool is on PATH and runs, else None."""
    exe = shutil.which(tool, path=environ.get("PATH"))
    if exe is None:
        return None
    try:
        return subprocess.run(
            [exe, *args], capture_output=True, text=True, timeout=PROBE_TIMEOUT_SECONDS
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None


def count_gpus(environ: Mapping[str, str]) -> int:
    """Lines starting `GPU ` in `nvidia-smi --list-gpus`; 0 when absent or failing."""
    out = probe_output("nvidia-smi", ["--list-gpus"], environ) or ""
    return sum(1 for line in out.splitlines() if line.startswith("GPU "))


def count_neuron_cores(environ: Mapping[str, str]) -> int:
    """Sum of `nc_count` in `neuron-ls -j`; 0 without Neuron."""
    out = probe_output("neuron-ls", ["-j"], environ)
    if not out:
        return 0
    try:
        return sum(int(device.get("nc_count", 0)) for device in json.loads(out))
    except (ValueError, TypeError, AttributeError):
        return 0


def detect_resources(environ: Mapping[str, str], num_gpus: int | None = None) -> HostResources:
    """Probe this host; `num_gpus` (SAGEMAKER_NUM_GPUS) replaces the nvidia-smi probe."""
    path = environ.get("PATH")
    return HostResources(
        num_cpus=os.cpu_count() or 1,
        num_gpus=count_gpus(environ) if num_gpus is None else num_gpus,
        num_neurons=count_neuron_cores(environ),
        smddprun_installed=shutil.which("smddprun", path=path) is not None,
        smddpmprun_installed=shutil.which("smddpmprun", path=path) is not None,
    )
