"""The install step of each entry-point type (training.md §9)."""

import pytest

from sagemaker_tensorflow_runtime.training.entrypoint import EntryPoint
from sagemaker_tensorflow_runtime.training.install import install_command

PYTHON = "/usr/bin/python3"
# The contract's `<python> -m pip install`, byte for byte.
PIP = [PYTHON, "-m", "pip", "install"]
INDEX = "https://aws:TOKEN@host/pypi/repo/simple/"

# (entry point, files in the code dir, index URL, expected (argv, label) or None)
INSTALLS = [
    pytest.param(
        "train.py",
        ["train.py", "setup.py"],
        None,
        ([*PIP, "."], "InstallModuleError"),
        id="package",
    ),
    pytest.param(
        "train.py",
        ["train.py", "setup.py", "requirements.txt"],
        None,
        ([*PIP, ".", "-r", "requirements.txt"], "InstallModuleError"),
        id="package-requirements",
    ),
    pytest.param(
        "train.py",
        ["train.py", "setup.py"],
        INDEX,
        ([*PIP, "."], "InstallModuleError"),
        id="package-index-without-requirements",
    ),
    pytest.param(
        "train.py",
        ["train.py", "setup.py", "requirements.txt"],
        INDEX,
        ([*PIP, ".", "-r", "requirements.txt", "-i", INDEX], "InstallModuleError"),
        id="package-requirements-index",
    ),
    pytest.param(
        "train.py",
        ["train.py", "requirements.txt"],
        None,
        ([*PIP, "-r", "requirements.txt"], "InstallRequirementsError"),
        id="program-requirements",
    ),
    pytest.param(
        "train.py",
        ["train.py", "requirements.txt"],
        INDEX,
        ([*PIP, "-r", "requirements.txt", "-i", INDEX], "InstallRequirementsError"),
        id="program-requirements-index",
    ),
    pytest.param("train.py", ["train.py"], None, None, id="program"),
    pytest.param("train.py", ["train.py"], INDEX, None, id="program-index"),
    pytest.param("launcher.sh", ["launcher.sh", "requirements.txt"], INDEX, None, id="command"),
    pytest.param("train", ["train"], None, None, id="command-no-suffix"),
]


@pytest.mark.parametrize(("name", "files", "index", "expected"), INSTALLS)
def test_install_command(tmp_path, name, files, index, expected):
    for file_name in files:
        (tmp_path / file_name).write_text("\n")

    assert install_command(EntryPoint(name, tmp_path), lambda: index, PYTHON) == expected


def test_index_url_is_asked_for_only_when_requirements_exist(tmp_path):
    (tmp_path / "setup.py").write_text("\n")
    asked = []

    install_command(EntryPoint("train.py", tmp_path), lambda: asked.append(1), PYTHON)

    assert asked == []
