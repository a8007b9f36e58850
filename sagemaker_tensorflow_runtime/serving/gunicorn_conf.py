"""gunicorn hooks for the front (`-c python:sagemaker_tensorflow_runtime.serving.gunicorn_conf`).

With gevent workers, gRPC must cooperate with the gevent hub, or one blocking call would stall
every request of the worker.
"""

from typing import Any


def post_fork(server: Any, worker: Any) -> None:
    if "gevent" in type(worker).__module__:
        from grpc.experimental import gevent as grpc_gevent

        grpc_gevent.init_gevent()
