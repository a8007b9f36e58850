"""Safe extraction of source archives: nothing may land outside the target directory.

The whole archive is checked before anything is written, so a refused archive leaves the code
directory as it was. Refused: absolute member names, `..` components, links whose target leaves
the directory, members beneath a symbolic link of the archive (link targets are checked as text,
which a link inside a linked directory would escape), and device or FIFO members.
"""

import posixpath
import tarfile
from pathlib import Path


class UnsafeArchiveError(ValueError):
    """An archive member would be written (or point) outside the extraction directory."""


def _escapes(name: str) -> bool:
    normalized = posixpath.normpath(name)
    return (
        name.startswith("/")
        or normalized == ".."
        or normalized.startswith("../")
        or ".." in name.split("/")
    )


def _parents(name: str) -> list[str]:
    parts = posixpath.normpath(name).split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def check_members(members: list[tarfile.TarInfo]) -> None:
    links = {posixpath.normpath(m.name) for m in members if m.issym()}
    for member in members:
        if _escapes(member.name):
            raise UnsafeArchiveError(
                f"member {member.name!r} would be written outside the code directory"
            )
        beneath = next((p for p in _parents(member.name) if p in links), None)
        if beneath is not None:
            raise UnsafeArchiveError(
                f"member {member.name!r} lies beneath the symbolic link {beneath!r}"
            )
        if member.issym():
            target = posixpath.join(posixpath.dirname(member.name), member.linkname)
            if member.linkname.startswith("/") or _escapes(posixpath.normpath(target)):
                raise UnsafeArchiveError(
                    f"symbolic link {member.name!r} -> {member.linkname!r} points outside "
                    "the code directory"
                )
        elif member.islnk() and _escapes(member.linkname):
            raise UnsafeArchiveError(
                f"hard link {member.name!r} -> {member.linkname!r} points outside "
                "the code directory"
            )
        elif member.isdev() or member.isfifo():
            raise UnsafeArchiveError(f"member {member.name!r} is a device or FIFO")


def extract_archive(archive: Path, target: Path) -> list[str]:
    """Extract a (compressed or plain) tar archive into `target`; returns the member names."""
    with tarfile.open(archive, mode="r:*") as tar:
        members = tar.getmembers()
        check_members(members)
        target.mkdir(parents=True, exist_ok=True)
        if hasattr(tarfile, "tar_filter"):  # Python >= 3.11.4: a second guard in tarfile itself
            tar.extractall(target, members=members, filter="tar")
        else:
            tar.extractall(target, members=members)
    return [m.name for m in members]


def is_archive(path: Path) -> bool:
    return path.is_file() and tarfile.is_tarfile(path)
