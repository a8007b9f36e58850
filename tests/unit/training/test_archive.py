"""Safe extraction of source archives (training.md §8): nothing lands outside the code dir."""

import io
import tarfile

import pytest

from sagemaker_tensorflow_runtime.training.archive import (
    UnsafeArchiveError,
    check_members,
    extract_archive,
    is_archive,
)


def file_member(name, data=b"x"):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def link_member(name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, None


def special_member(name, kind):
    info = tarfile.TarInfo(name)
    info.type = kind
    return info, None


def dir_member(name):
    return special_member(name, tarfile.DIRTYPE)


def build_tar(path, members, mode="w:gz"):
    """A real tar file at `path` holding `members` as (TarInfo, data or None)."""
    with tarfile.open(path, mode) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def members_of(path):
    with tarfile.open(path) as tar:
        return tar.getmembers()


SAFE = [
    pytest.param([file_member("train.py")], id="one-file"),
    pytest.param(
        [
            dir_member("pkg"),
            file_member("pkg/__init__.py"),
            file_member("./setup.py"),
            file_member("data/..hidden"),
        ],
        id="tree",
    ),
    pytest.param(
        [file_member("lib/real.py"), link_member("lib/alias.py", "real.py")], id="symlink-sibling"
    ),
    pytest.param(
        [file_member("real.py"), link_member("lib/up.py", "../real.py")], id="symlink-up-inside"
    ),
    pytest.param(
        [file_member("a.py"), link_member("b.py", "a.py", tarfile.LNKTYPE)], id="hardlink"
    ),
]

UNSAFE = [
    pytest.param([file_member("/etc/passwd")], "outside the code directory", id="absolute"),
    pytest.param([file_member("../evil.py")], "outside the code directory", id="dotdot"),
    pytest.param(
        [file_member("a/../../evil.py")], "outside the code directory", id="nested-dotdot"
    ),
    pytest.param([file_member("a/../b.py")], "outside the code directory", id="inner-dotdot"),
    pytest.param([link_member("link", "/etc")], "symbolic link", id="symlink-absolute"),
    pytest.param([link_member("link", "../outside")], "symbolic link", id="symlink-dotdot"),
    pytest.param([link_member("a/link", "../../x")], "symbolic link", id="symlink-nested"),
    pytest.param(
        [link_member("x", "."), link_member("x/y", "../outside")],
        "beneath the symbolic link 'x'",
        id="symlink-through-symlinked-dir",
    ),
    pytest.param(
        [file_member("x/a.py"), link_member("x", "sub")],
        "beneath the symbolic link 'x'",
        id="file-beneath-later-symlink",
    ),
    pytest.param(
        [link_member("hard", "../etc/passwd", tarfile.LNKTYPE)], "hard link", id="hardlink-dotdot"
    ),
    pytest.param(
        [link_member("hard", "/etc/passwd", tarfile.LNKTYPE)], "hard link", id="hardlink-absolute"
    ),
    pytest.param([special_member("dev", tarfile.CHRTYPE)], "device or FIFO", id="char-device"),
    pytest.param([special_member("blk", tarfile.BLKTYPE)], "device or FIFO", id="block-device"),
    pytest.param([special_member("fifo", tarfile.FIFOTYPE)], "device or FIFO", id="fifo"),
]


@pytest.mark.parametrize("members", SAFE)
def test_normal_trees_are_accepted(tmp_path, members):
    check_members(members_of(build_tar(tmp_path / "ok.tar.gz", members)))


@pytest.mark.parametrize(("members", "reason"), UNSAFE)
def test_unsafe_members_are_refused(tmp_path, members, reason):
    archive = build_tar(tmp_path / "bad.tar.gz", [file_member("train.py"), *members])

    with pytest.raises(UnsafeArchiveError, match=reason):
        check_members(members_of(archive))


@pytest.mark.parametrize(("members", "reason"), UNSAFE)
def test_refused_archive_writes_nothing(tmp_path, members, reason):
    archive = build_tar(tmp_path / "bad.tar.gz", [file_member("train.py"), *members])
    target = tmp_path / "code"

    with pytest.raises(UnsafeArchiveError):
        extract_archive(archive, target)

    assert not target.exists()


@pytest.mark.parametrize("mode", ["w:gz", "w"])
def test_extract_archive(tmp_path, mode):
    archive = build_tar(
        tmp_path / "sourcedir.tar",
        [dir_member("pkg"), file_member("pkg/mod.py", b"print(1)\n"), file_member("train.py")],
        mode,
    )
    target = tmp_path / "code"

    names = extract_archive(archive, target)

    assert names == ["pkg", "pkg/mod.py", "train.py"]
    assert (target / "pkg" / "mod.py").read_bytes() == b"print(1)\n"
    assert is_archive(archive)


def test_is_archive(tmp_path):
    (tmp_path / "train.py").write_text("print(1)\n")

    assert not is_archive(tmp_path / "train.py")
    assert not is_archive(tmp_path)
    assert not is_archive(tmp_path / "absent.tar.gz")
