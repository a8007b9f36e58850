"""gunicorn hooks: a gevent worker that stopped cleanly skips the interpreter's teardown; every
other exit keeps its code."""

import subprocess
import sys

import pytest

WORKER = """
import atexit, sys
from sagemaker_tensorflow_runtime.serving.gunicorn_conf import worker_exit

class Worker:  # what the hook looks at: the class's module names gevent
    alive = False

Worker.__module__ = "gunicorn.workers.ggevent"
atexit.register(print, "interpreter teardown", flush=True)
print("served", flush=True)
try:
    sys.exit(int(sys.argv[1]))
finally:  # as in gunicorn's Arbiter.spawn_worker
    worker_exit(None, Worker())
"""


@pytest.mark.parametrize(
    ("code", "teardown"),
    [(0, False), (1, True), (3, True), (255, True)],  # stopped; aborted; boot error; error
)
def test_only_a_clean_stop_skips_the_teardown(code: int, teardown: bool) -> None:
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(code)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == code, done.stderr
    assert "served" in done.stdout  # output written before the hook is flushed, not lost
    assert ("interpreter teardown" in done.stdout) is teardown
