"""Getting the user's code into the code directory (training.md §8).

`sagemaker_submit_directory` may be `s3://.../sourcedir.tar.gz`, a local tar archive, a local
directory, another local file, or absent (code already baked into the code directory). Unlike
the reference, code is extracted over a non-empty code directory (the archive wins) with a
warning naming what was already there.
"""

import logging
import shutil
from collections.abc import Mapping
from pathlib import Path

from sagemaker_tensorflow_runtime.container.paths import Paths
from sagemaker_tensorflow_runtime.training import s3
from sagemaker_tensorflow_runtime.training.errors import SourceError

logger = logging.getLogger(__name__)

ARCHIVE_HINT = (
    "Build it with the code at the archive root, e.g. "
    "`tar -czf sourcedir.tar.gz -C my_source_dir .`"
)


def acquire_source(
    location: str | None, paths: Paths, environ: Mapping[str, str], region: str | None
) -> None:
    """Make the code at `location` available in the code directory."""
    code_dir = paths.code_dir
    code_dir.mkdir(parents=True, exist_ok=True)
    if location is None:
        logger.info("No sagemaker_submit_directory given: running the code in %s", code_dir)
        return
    scheme = uri_scheme(location)
    if scheme == "s3":
        _warn_if_not_empty(code_dir, location)
        _download_and_extract(location, code_dir, environ, region)
        return
    if scheme == "file":
        location = location[len("file://") :]
    elif scheme:
        raise SourceError(
            f"Expecting 's3' scheme, got: {scheme} (sagemaker_submit_directory={location!r}). "
            "Give an s3:// URI, a local directory or a local .tar.gz file."
        )
    _copy_local(Path(location), code_dir)


def uri_scheme(location: str) -> str:
    """`s3` of `s3://b/k`; empty for a path (a one-letter scheme would be a Windows drive)."""
    head, sep, _ = location.partition("://")
    return head.lower() if sep and head.isalnum() and len(head) > 1 else ""


def _warn_if_not_empty(code_dir: Path, location: str) -> None:
    existing = sorted(p.name for p in code_dir.iterdir())
    if existing:
        shown = ", ".join(existing[:10]) + (", ..." if len(existing) > 10 else "")
        logger.warning(
            "Code directory %s is not empty (%s); extracting %s over it, its files win",
            code_dir,
            shown,
            location,
        )


def _download_and_extract(
    uri: str, code_dir: Path, environ: Mapping[str, str], region: str | None
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="sourcedir-") as tmp:
        archive = Path(tmp) / "sourcedir.tar.gz"
        logger.info("Downloading %s", uri)
        try:
            s3.download(uri, archive, environ, region)
        except Exception as exc:  # botocore raises many unrelated classes
            raise SourceError(
                f"Could not download the source code {uri}: {exc}. Check that the object "
                "exists and that the job's role (or your credentials) can read it."
            ) from None
        _extract(archive, code_dir, uri)


def _extract(archive: Path, code_dir: Path, origin: str) -> None:
    import tarfile  # only jobs that ship an archive pay for tarfile and its codecs

    from sagemaker_tensorflow_runtime.training.archive import UnsafeArchiveError, extract_archive

    try:
        names = extract_archive(archive, code_dir)
    except UnsafeArchiveError as exc:
        raise SourceError(f"Refusing to extract {origin}: {exc}. {ARCHIVE_HINT}") from None
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise SourceError(
            f"Cannot read the source archive {origin}: {exc}. It must be a tar.gz file. "
            + ARCHIVE_HINT
        ) from None
    logger.info("Extracted %d entries from %s into %s", len(names), origin, code_dir)


def _copy_local(source: Path, code_dir: Path) -> None:
    if not source.exists():
        raise SourceError(
            f"sagemaker_submit_directory {str(source)!r} does not exist. Give an existing "
            "directory, a .tar.gz file, or an s3:// URI."
        )
    if source.is_dir():
        if source.resolve() == code_dir.resolve():
            return
        _warn_if_not_empty(code_dir, str(source))
        shutil.copytree(source, code_dir, symlinks=True, dirs_exist_ok=True)
        logger.info("Copied %s into %s", source, code_dir)
        return
    _warn_if_not_empty(code_dir, str(source))
    from sagemaker_tensorflow_runtime.training.archive import is_archive

    if is_archive(source):
        _extract(source, code_dir, str(source))
    else:
        shutil.copy2(source, code_dir / source.name)
        logger.info("Copied %s into %s", source, code_dir)
