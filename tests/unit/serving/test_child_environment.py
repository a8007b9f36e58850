"""What `serve` adds to the environment of its children, and what a user's setting keeps."""

from sagemaker_tensorflow_runtime.serving.backend import BackendInstance
from sagemaker_tensorflow_runtime.serving.supervisor import (
    MALLOC_TUNABLES,
    backend_environment,
    front_environment,
)

INSTANCE = BackendInstance(
    0, 9000, 8501, ("tensorflow_model_server",), {"CUDA_VISIBLE_DEVICES": "0"}
)


def test_backends_get_one_omp_thread_and_the_malloc_tunables() -> None:
    env = backend_environment({"PATH": "/bin"}, INSTANCE)
    assert env == {
        "PATH": "/bin",
        "CUDA_VISIBLE_DEVICES": "0",
        "OMP_NUM_THREADS": "1",
        "GLIBC_TUNABLES": MALLOC_TUNABLES,
    }


def test_the_front_gets_the_malloc_tunables_and_its_own_settings() -> None:
    env = front_environment({"PATH": "/bin"}, {"SAGEMAKER_FRONT": "x"})
    assert env == {"PATH": "/bin", "SAGEMAKER_FRONT": "x", "GLIBC_TUNABLES": MALLOC_TUNABLES}


def test_settings_from_the_environment_win() -> None:
    mine = {"OMP_NUM_THREADS": "4", "GLIBC_TUNABLES": "glibc.malloc.arena_max=2"}
    assert backend_environment(mine, INSTANCE)["OMP_NUM_THREADS"] == "4"
    assert backend_environment(mine, INSTANCE)["GLIBC_TUNABLES"] == "glibc.malloc.arena_max=2"
    assert front_environment(mine, {})["GLIBC_TUNABLES"] == "glibc.malloc.arena_max=2"
