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


def count_gpus(environ: Mapping[str, str]) -> int:
    """Lines starting `GPU ` in `nvidia-smi --list-gpus`; 0 when absent or failing."""
    exe = shutil.which("nvidia-smi", path=environ.get("PATH"))
    if exe is None:
        return 0
    try:
        out = subprocess.run(
            [exe, "--list-gpus"], capture_output=True, text=True, timeout=PROBE_TIMEOUT_SECONDS
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in out.splitlines() if line.startswith("GPU "))


def count_neuron_cores(environ: Mapping[str, str]) -> int:
    """Sum of `nc_count` in `neuron-ls -j`; 0 without Neuron."""
    exe = shutil.which("neuron-ls", path=environ.get("PATH"))
    if exe is None:
        return 0
    try:
        out = subprocess.run(
            [exe, "-j"], capture_output=True, text=True, timeout=PROBE_TIMEOUT_SECONDS
        ).stdout
        devices = json.loads(out)
        return sum(int(d.get("nc_count", 0)) for d in devices)
    except (OSError, subprocess.SubprocessError, ValueError, TypeError, AttributeError):
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
