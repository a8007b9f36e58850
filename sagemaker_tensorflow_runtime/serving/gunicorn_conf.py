"""gunicorn hooks for the front (`-c python:sagemaker_tensorflow_runtime.serving.gunicorn_conf`).

On SIGTERM a worker also closes its idle keep-alive connections, so that stopping waits only
for requests in flight.
"""

from typing import Any

from sagemaker_tensorflow_runtime.serving import connections


def post_fork(server: Any, worker: Any) -> None:
    stop = worker.handle_exit  # installed as the SIGTERM handler by the worker's init_signals

    def handle_exit(sig: int, frame: Any) -> None:
        stop(sig, frame)
        connections.close_idle()

    worker.handle_exit = handle_exit


def post_worker_init(worker: Any) -> None:
    """With the app loaded, move every object alive now out of the collector's reach: full
    collections then scan only what requests allocate (one over Flask, numpy and gevent took
    ~14 ms, paid by whichever requests were in flight)."""
    import gc

    gc.collect()
    gc.freeze()


def worker_exit(server: Any, worker: Any) -> None:
    """A gevent worker that stopped cleanly (SIGTERM, a reload, max_requests) leaves here,
    without the interpreter's teardown: there, gevent's patched locks meet finalized greenlets
    and print "RuntimeError: greenlet is being finalized" tracebacks into every shutdown log.

    gunicorn calls this hook in a `finally` around the worker's `sys.exit`; any other exit
    (a boot failure, an abort after a timeout, an error) keeps its own code and teardown."""
    import sys

    leaving = sys.exc_info()[1]
    clean = isinstance(leaving, SystemExit) and leaving.code in (0, None)
    if not clean or "gevent" not in type(worker).__module__:
        return
    import logging
    import os

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
