"""Entry-point types (training.md §9) and their command lines (§10.2)."""

import pytest

from sagemaker_tensorflow_runtime.training.entrypoint import EntryPoint, EntryPointType
from sagemaker_tensorflow_runtime.training.errors import EntryPointError

PYTHON = "/usr/bin/python3"
ARGS = ["--lr", "1 3", "--name", "$HOME 'q'"]

# (entry point name, files in the code dir, expected type) — checked in the contract's order.
KINDS = [
    ("launcher.sh", ["launcher.sh"], EntryPointType.COMMAND),
    ("launcher.sh", ["launcher.sh", "setup.py"], EntryPointType.COMMAND),
    ("train.py", ["train.py", "setup.py"], EntryPointType.PACKAGE),
    ("train", ["setup.py"], EntryPointType.PACKAGE),
    ("train.py", ["train.py"], EntryPointType.PROGRAM),
    ("train", ["train"], EntryPointType.COMMAND),
    ("run.bash", ["run.bash"], EntryPointType.COMMAND),
]


def code_dir_with(tmp_path, files):
    for name in files:
        (tmp_path / name).write_text("print('hi')\n")
    return tmp_path


@pytest.mark.parametrize(("name", "files", "kind"), KINDS)
def test_kind(tmp_path, name, files, kind):
    assert EntryPoint(name, code_dir_with(tmp_path, files)).kind is kind


def test_program_command(tmp_path):
    entry = EntryPoint("train.py", code_dir_with(tmp_path, ["train.py"]))

    assert entry.command(ARGS, PYTHON) == [PYTHON, "train.py", *ARGS]


def test_package_command_runs_the_module(tmp_path):
    entry = EntryPoint("train.py", code_dir_with(tmp_path, ["train.py", "setup.py"]))

    assert entry.command(ARGS, PYTHON) == [PYTHON, "-m", "train", *ARGS]


@pytest.mark.parametrize(
    ("content", "argv0"),
    [
        (b"#!/bin/bash\necho hi\n", ["./launcher.sh"]),
        (b"\x7fELF\x02\x01\x01", ["./launcher.sh"]),
        (b"echo hi\n", ["/bin/sh", "./launcher.sh"]),
        (b"", ["/bin/sh", "./launcher.sh"]),
    ],
)
def test_command_shapes(tmp_path, content, argv0):
    (tmp_path / "launcher.sh").write_bytes(content)

    assert EntryPoint("launcher.sh", tmp_path).command(ARGS, PYTHON) == [*argv0, *ARGS]


def test_module_name(tmp_path):
    assert EntryPoint("train.py", tmp_path).module_name == "train"
    assert EntryPoint("launcher.sh", tmp_path).module_name == "launcher.sh"


def test_validate_accepts_an_existing_file_or_a_package(tmp_path):
    EntryPoint("train.py", code_dir_with(tmp_path, ["train.py"])).validate()
    EntryPoint("missing_module", code_dir_with(tmp_path, ["setup.py"])).validate()


def test_validate_lists_the_files_of_the_code_dir(tmp_path):
    code_dir_with(tmp_path, ["b.py", "a.py", "requirements.txt"])

    with pytest.raises(EntryPointError) as raised:
        EntryPoint("train.py", tmp_path).validate()

    message = str(raised.value)
    assert f"'train.py' was not found in the code directory {tmp_path}" in message
    assert "(it holds: a.py, b.py, requirements.txt)" in message
    assert "sagemaker_program" in message


def test_validate_of_a_missing_code_dir(tmp_path):
    with pytest.raises(EntryPointError, match=r"\(it holds: nothing\)"):
        EntryPoint("train.py", tmp_path / "absent").validate()


def test_make_executable(tmp_path):
    (tmp_path / "launcher.sh").write_text("echo hi\n")
    (tmp_path / "launcher.sh").chmod(0o600)

    EntryPoint("launcher.sh", tmp_path).make_executable()

    assert (tmp_path / "launcher.sh").stat().st_mode & 0o777 == 0o777
