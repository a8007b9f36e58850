"""`sagemaker-tf-local`: SageMaker Local Mode without Docker.

Builds an /opt/ml tree (config files, channel directories, source directory) the way Local Mode
would, then runs `train` on it in this process. Example:

    sagemaker-tf-local --source-dir src --entry-point train.py \\
        --channel training=./data/train --channel testing=./data/test \\
        --hyperparameter epochs=5 --base-dir ./job
"""

import argparse
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sagemaker_tensorflow_runtime.container.config import CHANNEL_NAME
from sagemaker_tensorflow_runtime.container.paths import Paths
from sagemaker_tensorflow_runtime.training import cli

LOCAL_HOST = "algo-1"
JOB_NAME_PATTERN = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")


class LocalSetupError(ValueError):
    """The local job description is invalid; the message says what to change."""


@dataclass(frozen=True)
class LocalJob:
    """A training job described on the command line."""

    source_dir: Path
    entry_point: str
    channels: dict[str, Path]
    hyperparameters: dict[str, str]
    base_dir: Path
    job_name: str
    instance_type: str = "local"


def parse_pairs(pairs: Sequence[str], what: str) -> dict[str, str]:
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise LocalSetupError(f"{what} {pair!r} must look like name=value")
        result[key] = value
    return result


def parse_channels(pairs: Sequence[str]) -> dict[str, Path]:
    channels = {}
    for name, directory in parse_pairs(pairs, "--channel").items():
        if not CHANNEL_NAME.fullmatch(name):
            raise LocalSetupError(
                f"channel name {name!r} is invalid: use 1 to 64 of A-Z a-z 0-9 . - _"
            )
        path = Path(directory).expanduser().resolve()
        if not path.is_dir():
            raise LocalSetupError(f"channel {name}: {directory!r} is not a directory")
        channels[name] = path
    return channels


def encode_hyperparameter(value: str) -> str:
    """The SDK JSON-encodes every value; text that is not JSON is sent as a JSON string."""
    try:
        json.loads(value)
    except ValueError:
        return json.dumps(value)
    return value


def build_tree(job: LocalJob) -> Paths:
    """Write the /opt/ml tree of `job` under `job.base_dir`."""
    paths = Paths(job.base_dir)
    for directory in (paths.input_config_dir, paths.input_data_dir, paths.model_dir):
        directory.mkdir(parents=True, exist_ok=True)
    paths.output_data_dir.mkdir(parents=True, exist_ok=True)
    hyperparameters = {k: encode_hyperparameter(v) for k, v in job.hyperparameters.items()}
    hyperparameters.update(
        sagemaker_program=json.dumps(job.entry_point),
        sagemaker_submit_directory=json.dumps(str(job.source_dir)),
        sagemaker_job_name=json.dumps(job.job_name),
        sagemaker_container_log_level="20",
    )
    resource = {
        "current_host": LOCAL_HOST,
        "hosts": [LOCAL_HOST],
        "network_interface_name": "eth0",
        "current_instance_type": job.instance_type,
    }
    data_config = {name: {"TrainingInputMode": "File"} for name in job.channels}
    for path, content in (
        (paths.hyperparameters_file, hyperparameters),
        (paths.input_data_config_file, data_config),
        (paths.resource_config_file, resource),
    ):
        path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    for name, directory in job.channels.items():
        link = paths.channel_dir(name)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(directory, target_is_directory=True)
    return paths


def parse_args(argv: Sequence[str]) -> LocalJob:
    parser = argparse.ArgumentParser(
        prog="sagemaker-tf-local",
        description="Run a SageMaker TensorFlow training job locally, without Docker.",
    )
    parser.add_argument("--source-dir", required=True, help="directory with the training code")
    parser.add_argument("--entry-point", required=True, help="script in the source directory")
    parser.add_argument(
        "--channel", action="append", default=[], metavar="NAME=DIR", help="input channel"
    )
    parser.add_argument(
        "--hyperparameter", action="append", default=[], metavar="KEY=VALUE", help="hyperparameter"
    )
    parser.add_argument("--base-dir", help="where to build the /opt/ml tree (default: new dir)")
    parser.add_argument("--job-name", help="training job name")
    parser.add_argument("--instance-type", default="local", help="local or local_gpu")
    parser.add_argument(
        "--overwrite", action="store_true", help="reuse a non-empty --base-dir, clearing it first"
    )
    args = parser.parse_args(argv)
    source = Path(args.source_dir).expanduser().resolve()
    if not source.is_dir():
        raise LocalSetupError(f"--source-dir {args.source_dir!r} is not a directory")
    if not (source / args.entry_point).is_file():
        raise LocalSetupError(f"--entry-point {args.entry_point!r} is not a file in {source}")
    job_name = args.job_name or time.strftime("tensorflow-training-%Y-%m-%d-%H-%M-%S")
    if not JOB_NAME_PATTERN.fullmatch(job_name):
        raise LocalSetupError(f"--job-name {job_name!r}: use letters, digits and '-' (max 63)")
    base = Path(args.base_dir or f"sagemaker-local/{job_name}").expanduser().resolve()
    if base.exists() and any(base.iterdir()):
        if not args.overwrite:
            raise LocalSetupError(f"{base} is not empty; choose another --base-dir or --overwrite")
        shutil.rmtree(base)
    return LocalJob(
        source_dir=source,
        entry_point=args.entry_point,
        channels=parse_channels(args.channel),
        hyperparameters=parse_pairs(args.hyperparameter, "--hyperparameter"),
        base_dir=base,
        job_name=job_name,
        instance_type=args.instance_type,
    )


def run_local(job: LocalJob, environ: Mapping[str, str]) -> int:
    paths = build_tree(job)
    code = cli.run(
        {**environ, "SAGEMAKER_BASE_DIR": str(paths.base), "TRAINING_JOB_NAME": job.job_name}
    )
    outcome = "succeeded" if code == 0 else f"failed (exit code {code}, see {paths.failure_file})"
    print(f"Training job {job.job_name} {outcome}. Model: {paths.model_dir}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> None:
    try:
        job = parse_args(sys.argv[1:] if argv is None else argv)
    except LocalSetupError as exc:
        print(f"sagemaker-tf-local: error: {exc}", file=sys.stderr)
        sys.exit(2)
    sys.exit(run_local(job, os.environ))
