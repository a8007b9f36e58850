"""The LD_PRELOAD gethostname library every MPI rank runs with (training.md §13.4).

Ships as C source (`gethostname.c`). Images build it once at image build time:

    python -m sagemaker_tensorflow_runtime.training.distributed.hostname /usr/local/lib/libsmhost.so

and point `SAGEMAKER_GETHOSTNAME_LIBRARY` at it. Otherwise `train` compiles it with `cc` on first
use into a cache directory (the same path on every host, since mpirun exports the path). The
build is atomic (temporary file, then rename), so concurrent builds are safe.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SOURCE = Path(__file__).with_name("gethostname.c")
COMPILE_TIMEOUT_SECONDS = 120


class LibraryBuildError(RuntimeError):
    """The gethostname library is missing and could not be built."""


def default_library(cache_dir: Path) -> Path:
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:12]
    return cache_dir / f"libsmgethostname-{digest}.so"


def ensure_library(path: Path, search_path: str | None = None) -> Path:
    """`path`, compiled from `gethostname.c` first if it does not exist yet."""
    if path.is_file():
        return path
    compiler = shutil.which("cc", path=search_path) or shutil.which("gcc", path=search_path)
    if compiler is None:
        raise LibraryBuildError(
            f"MPI jobs need the gethostname library at {path}, and no C compiler (cc) is "
            "installed to build it. Build it at image build time with `python -m "
            "sagemaker_tensorflow_runtime.training.distributed.hostname <path>` and set "
            "SAGEMAKER_GETHOSTNAME_LIBRARY=<path>, or install gcc."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".build-", suffix=".so", dir=path.parent)
    os.close(fd)
    argv = [compiler, "-shared", "-fPIC", "-O2", "-o", tmp, str(SOURCE)]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=COMPILE_TIMEOUT_SECONDS)
        if done.returncode != 0:
            raise LibraryBuildError(
                f"Building the gethostname library failed ({' '.join(argv)}):\n{done.stderr}"
            )
        os.chmod(tmp, 0o755)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUTPUT.so")
    print(ensure_library(Path(sys.argv[1])))
