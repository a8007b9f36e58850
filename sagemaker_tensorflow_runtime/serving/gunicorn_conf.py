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
