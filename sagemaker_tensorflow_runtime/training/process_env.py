"""The environment of the user's process (training.md §7): inherited + SM_* + runtime variables."""

import sys
from collections.abc import Mapping

from sagemaker_tensorflow_runtime.container.environment import TrainingEnv


def python_path(code_dir: str) -> str:
    """Code dir first, then the runtime's own import path."""
    entries = [code_dir]
    for entry in sys.path:
        if entry and entry not in entries:
            entries.append(entry)
    return ":".join(entries)


def runtime_variables(
    env: TrainingEnv, region: str, tf_variables: Mapping[str, str]
) -> dict[str, str]:
    """Every variable the runtime adds (logged before launch, exported to MPI ranks later)."""
    sagemaker_job_name = env.config.hyperparameters.get("sagemaker_job_name")
    return {
        **env.sm_env_vars(),
        "CURRENT_HOST": env.current_host,
        "SAGEMAKER_REGION": region,
        "SAGEMAKER_JOB_NAME": sagemaker_job_name if isinstance(sagemaker_job_name, str) else "",
        "PYTHONPATH": python_path(str(env.paths.code_dir)),
        **tf_variables,
    }


def process_environment(inherited: Mapping[str, str], added: Mapping[str, str]) -> dict[str, str]:
    """The whole environment; Python output is unbuffered unless the user chose otherwise."""
    env = {**inherited, **added}
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
