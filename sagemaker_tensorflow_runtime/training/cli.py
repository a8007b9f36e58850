"""`train`: run the SageMaker training job described by the /opt/ml tree.

Reads   $SAGEMAKER_BASE_DIR/input/config/{hyperparameters,inputdataconfig,resourceconfig}.json
        and the environment variables listed by `train --help`.
Writes  $SAGEMAKER_BASE_DIR/output/success, or output/failure with the reason.
Exits   0 on success; 1 when the user's code, archive, requirements or config failed;
        a framework error's errno (else 1) when the runtime itself failed.
"""

import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from sagemaker_tensorflow_runtime.container.config import ConfigError, load_job_config
from sagemaker_tensorflow_runtime.container.dns import HostsUnresolvedError, wait_for_hosts
from sagemaker_tensorflow_runtime.container.environment import TrainingEnv
from sagemaker_tensorflow_runtime.container.logs import configure_logging
from sagemaker_tensorflow_runtime.container.paths import DEFAULT_BASE_DIR, Paths
from sagemaker_tensorflow_runtime.container.resources import detect_resources
from sagemaker_tensorflow_runtime.container.settings import SettingError, describe_settings
from sagemaker_tensorflow_runtime.container.signals import SignalRecorder, signal_name
from sagemaker_tensorflow_runtime.training import reporting, settings
from sagemaker_tensorflow_runtime.training.dispatch import Job, plan_job
from sagemaker_tensorflow_runtime.training.distributed.options import DistributedOptions
from sagemaker_tensorflow_runtime.training.entrypoint import EntryPoint
from sagemaker_tensorflow_runtime.training.errors import (
    EXIT_SUCCESS,
    ConfigurationError,
    EntryPointError,
    PlatformError,
    ProcessFailure,
    TrainingError,
    UserError,
)
from sagemaker_tensorflow_runtime.training.install import install
from sagemaker_tensorflow_runtime.training.job import (
    build_job_env,
    resolve_code_location,
    resolve_region,
)
from sagemaker_tensorflow_runtime.training.plan import LaunchPlan
from sagemaker_tensorflow_runtime.training.process_env import process_environment, runtime_variables
from sagemaker_tensorflow_runtime.training.source import acquire_source
from sagemaker_tensorflow_runtime.training.supervise import run_plan
from sagemaker_tensorflow_runtime.training.tensorflow import model_warnings, s3_environment

logger = logging.getLogger("sagemaker_tensorflow_runtime.train")


class StoppedBySignal(UserError):
    """SIGTERM/SIGINT arrived before the user's code started."""


def run(environ: Mapping[str, str]) -> int:
    """Run one training job; returns the process exit code."""
    configure_logging(logging.INFO)
    try:
        train_settings = settings.TrainSettings.from_environ(environ)
    except SettingError as exc:
        base = environ.get("SAGEMAKER_BASE_DIR") or DEFAULT_BASE_DIR
        return fail(Paths(Path(base)), ConfigurationError(str(exc)))
    paths = Paths(train_settings.base_dir)
    with SignalRecorder() as signals:
        try:
            run_job(paths, train_settings, environ, signals)
        except TrainingError as exc:
            return fail(paths, exc)
        except Exception as exc:  # the runtime's own bug: report it as a framework error
            return fail(paths, framework_error(exc))
    reporting.report_success(paths)
    return EXIT_SUCCESS


def run_job(
    paths: Paths,
    train_settings: settings.TrainSettings,
    environ: Mapping[str, str],
    signals: SignalRecorder,
) -> None:
    reporting.clear_stale_reports(paths)
    paths.create_job_dirs()
    try:
        config = load_job_config(paths)
    except ConfigError as exc:
        raise ConfigurationError(str(exc)) from None
    env = build_job_env(
        paths, config, train_settings, detect_resources(environ, train_settings.num_gpus)
    )
    configure_logging(env.log_level)
    for assumption in config.assumptions:
        logger.info("%s", assumption)

    region = resolve_region(config.hyperparameters, train_settings)
    tf_variables = s3_environment(env.user_hyperparameters.get("model_dir"), region, environ)
    added = runtime_variables(env, region, tf_variables)
    process_env = process_environment(environ, added)

    code_location = resolve_code_location(config.hyperparameters, train_settings, paths)
    acquire_source(code_location, paths, environ, region or None)
    entry = entry_point(env, paths)
    check_signals(signals)
    install(entry, process_env, signals, train_settings.grace_seconds, index_url(train_settings))
    check_signals(signals)

    job = Job(
        env=env,
        entry=entry,
        process_env=process_env,
        exported=(*added, "PYTHONUNBUFFERED"),
        options=DistributedOptions.from_settings(train_settings, cache_dir()),
    )
    plan = plan_job(job)
    wait_for_cluster(env, train_settings)
    log_invocation(env, added, plan)
    run_plan(plan, signals, train_settings.grace_seconds)
    for warning in model_warnings(paths.model_dir):
        logger.warning("%s", warning)


def cache_dir() -> Path:
    """Where `train` keeps what it builds (the MPI gethostname library)."""
    return Path.home() / ".cache" / "sagemaker-tensorflow-runtime"


def entry_point(env: TrainingEnv, paths: Paths) -> EntryPoint:
    if not env.user_entry_point:
        raise EntryPointError(
            "No entry point given: set the hyperparameter sagemaker_program (the estimator's "
            "entry_point) or the environment variable SAGEMAKER_PROGRAM to your script's name."
        )
    entry = EntryPoint(env.user_entry_point, paths.code_dir)
    entry.validate()
    return entry


def index_url(train_settings: settings.TrainSettings) -> Callable[[], str | None]:
    def url() -> str | None:
        if not train_settings.codeartifact_arn:
            return None
        from sagemaker_tensorflow_runtime.training.codeartifact import pip_index_url

        return pip_index_url(train_settings.codeartifact_arn)

    return url


def check_signals(signals: SignalRecorder) -> None:
    if signals.first is not None:
        raise StoppedBySignal(
            f"Training stopped by {signal_name(signals.first)} before the user's code started."
        )


def wait_for_cluster(env: TrainingEnv, train_settings: settings.TrainSettings) -> None:
    """Every host must resolve before a launch; a lone host needs no name service."""
    if train_settings.studio_local_mode or env.hosts == (env.current_host,):
        return
    try:
        wait_for_hosts(env.hosts, train_settings.dns_wait_seconds)
    except HostsUnresolvedError as exc:
        raise PlatformError(str(exc)) from None


def log_invocation(env: TrainingEnv, added: Mapping[str, str], plan: LaunchPlan) -> None:
    commands = "\n".join(" ".join(p.argv) for p in plan.processes if p.required)
    if not commands:
        commands = "(none here: mpirun on the master host starts this host's ranks)"
    variables = "\n".join(f"{k}={v}" for k, v in added.items())
    logger.info(
        "Invoking user script\n\nTraining Env:\n\n%s\n\nEnvironment variables:\n\n%s\n\n"
        "Invoking script with the following command:\n\n%s\n",
        env.pretty_properties(),
        variables,
        commands,
    )


def framework_error(exc: Exception) -> PlatformError:
    import traceback

    errno = getattr(exc, "errno", None)
    trace = "".join(traceback.format_exception(exc))
    return PlatformError(str(exc), errno if isinstance(errno, int) else None, trace)


def fail(paths: Paths, exc: TrainingError) -> int:
    message = exc.failure_message()
    if not isinstance(exc, ProcessFailure):
        logger.error("%s", message)
    child_code = exc.child_exit_code if isinstance(exc, ProcessFailure) else exc.exit_code
    reporting.report_failure(paths, message, child_code)
    return exc.exit_code


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        print("Environment variables:\n" + describe_settings(settings.TABLE))
        sys.exit(0)
    sys.exit(run(os.environ))
