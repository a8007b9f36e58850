"""Installing requirements and packages, and the entry-point types (program, package, command)."""

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import JobTree, build_wheel, pip_uninstall


@pytest.fixture
def unique_name() -> Iterator[str]:
    name = f"smtr_test_{uuid.uuid4().hex[:8]}"
    yield name
    pip_uninstall(name)


def test_requirements_are_installed_with_pip_settings_from_the_environment(
    job: JobTree, tmp_path: Path, unique_name: str
) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels, unique_name, "1.0", "VALUE = 'from the wheel'\n")
    job.sdk_hyperparameters("train.py")
    job.single_host()
    job.code_dir.mkdir()
    (job.code_dir / "requirements.txt").write_text(f"{unique_name}==1.0\n")
    (job.code_dir / "train.py").write_text(
        f"import {unique_name}\nprint('dependency says', {unique_name}.VALUE)\n"
    )
    run = job.run(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheels))
    assert run.returncode == 0, run.stderr
    assert "Successfully installed" in run.stdout
    assert "dependency says from the wheel" in run.stdout
    assert "-m pip install -r requirements.txt" in run.stderr


def test_broken_requirements_fail_with_install_requirements_error(job: JobTree) -> None:
    job.sdk_hyperparameters("train.py")
    job.single_host()
    job.code_dir.mkdir()
    (job.code_dir / "requirements.txt").write_text("this is not a requirement ===\n")
    (job.code_dir / "train.py").write_text("raise SystemExit('must not run')\n")
    run = job.run(PIP_NO_INDEX="1")
    assert run.returncode == 1
    assert run.failure.startswith("InstallRequirementsError:\nExitCode 1\n")
    assert "Invalid requirement" in run.failure
    assert "must not run" not in run.stderr


def test_setup_py_package_is_installed_and_run_as_module(job: JobTree, unique_name: str) -> None:
    job.hyperparameters({"sagemaker_program": json.dumps(f"{unique_name}.py"), "lr": "0.5"})
    job.single_host()
    job.code_dir.mkdir()
    (job.code_dir / "setup.py").write_text(
        "from setuptools import setup\n"
        f"setup(name='{unique_name}', version='0.1', py_modules=['{unique_name}'])\n"
    )
    (job.code_dir / f"{unique_name}.py").write_text(
        "import sys\nprint('module run with', sys.argv[1:], 'as', __name__)\n"
    )
    run = job.run(PIP_NO_BUILD_ISOLATION="0")
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"Successfully installed {unique_name.replace('_', '-')}-0.1" in run.stdout
    assert "module run with ['--lr', '0.5'] as __main__" in run.stdout
    assert f"-m {unique_name} --lr 0.5" in run.stderr


@pytest.mark.parametrize(
    ("body", "shebang"),
    [('echo "args:$#:$1:$2"\n', True), ('echo "args:$#:$1:$2"\n', False)],
    ids=["with-shebang", "plain-sh"],
)
def test_shell_entry_point_gets_arguments_as_a_list(job: JobTree, body: str, shebang: bool) -> None:
    job.sdk_hyperparameters("run.sh", name="a b; echo injected")
    job.single_host()
    job.code_dir.mkdir()
    script = job.code_dir / "run.sh"
    script.write_text(("#!/bin/sh\n" if shebang else "") + body)
    script.chmod(0o644)
    run = job.run()
    assert run.returncode == 0, run.stderr
    assert "args:2:--name:a b; echo injected\n" in run.stdout
    assert "injected\n" not in run.stdout.replace("a b; echo injected", "")
    assert script.stat().st_mode & 0o777 == 0o777
    assert f"No model artifact is saved under path {job.base / 'model'}." in run.stderr


def test_other_executable_is_a_command(job: JobTree) -> None:
    job.sdk_hyperparameters("trainer", epochs=3)
    job.single_host()
    job.code_dir.mkdir()
    script = job.code_dir / "trainer"
    script.write_text("#!/usr/bin/env python3\nimport sys\nprint('trainer got', sys.argv[1:])\n")
    run = job.run()
    assert run.returncode == 0, run.stderr
    assert "trainer got ['--epochs', '3']" in run.stdout
