"""Entry-point types and their command lines (training.md §9, §10.2).

Checked in order: a `.sh` name is a command; a code dir with `setup.py` is a package (run as
`python -m`); a `.py` name is a program; anything else is a command. A command file without a
shebang runs under /bin/sh.
"""

import enum
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from sagemaker_tensorflow_runtime.training.errors import EntryPointError


class EntryPointType(enum.Enum):
    """How the user's entry point is installed and started."""

    PROGRAM = "program"
    PACKAGE = "package"
    COMMAND = "command"


@dataclass(frozen=True)
class EntryPoint:
    """The user's entry point inside the code directory."""

    name: str
    code_dir: Path

    @property
    def kind(self) -> EntryPointType:
        if self.name.endswith(".sh"):
            return EntryPointType.COMMAND
        if (self.code_dir / "setup.py").exists():
            return EntryPointType.PACKAGE
        if self.name.endswith(".py"):
            return EntryPointType.PROGRAM
        return EntryPointType.COMMAND

    @property
    def module_name(self) -> str:
        return self.name[: -len(".py")] if self.name.endswith(".py") else self.name

    @property
    def path(self) -> Path:
        return self.code_dir / self.name

    def validate(self) -> None:
        if self.kind is EntryPointType.PACKAGE or self.path.is_file():
            return
        present = sorted(p.name for p in self.code_dir.iterdir()) if self.code_dir.is_dir() else []
        listing = ", ".join(present[:20]) or "nothing"
        raise EntryPointError(
            f"Entry point {self.name!r} was not found in the code directory {self.code_dir} "
            f"(it holds: {listing}). Set sagemaker_program (or SAGEMAKER_PROGRAM) to a file "
            "at the root of your source directory."
        )

    def make_executable(self) -> None:
        self.path.chmod(self.path.stat().st_mode | stat.S_IRWXU | stat.S_IRWXG | stat.S_IRWXO)

    def command(self, args: list[str], python: str = sys.executable) -> list[str]:
        """The argv that runs this entry point with the user's arguments."""
        kind = self.kind
        if kind is EntryPointType.PROGRAM:
            return [python, self.name, *args]
        if kind is EntryPointType.PACKAGE:
            return [python, "-m", self.module_name, *args]
        if self._is_directly_executable():
            return [f".{os.sep}{self.name}", *args]
        return ["/bin/sh", f".{os.sep}{self.name}", *args]

    def _is_directly_executable(self) -> bool:
        """A script with a shebang or a binary; other text files go through /bin/sh."""
        try:
            with open(self.path, "rb") as f:
                head = f.read(4)
        except OSError:
            return False
        return head.startswith(b"#!") or head == b"\x7fELF"
