"""Unit tests and the front's modules never import TensorFlow (fast tests, light workers)."""

import subprocess
import sys

FRONT_MODULES = [
    "sagemaker_tensorflow_runtime.training.cli",
    "sagemaker_tensorflow_runtime.serving.app",
    "sagemaker_tensorflow_runtime.serving.legacy",
    "sagemaker_tensorflow_runtime.serving.supervisor",
]


def test_front_and_launcher_modules_do_not_import_tensorflow() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {FRONT_MODULES!r}: importlib.import_module(name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'boto3'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
