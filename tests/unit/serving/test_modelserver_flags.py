"""The embedded model server's flags: the gRPC handler thread default of a Python server."""

import os

from sagemaker_tensorflow_runtime.serving.modelserver.flags import parse_flags


def test_grpc_handler_threads() -> None:
    cores = os.cpu_count() or 1
    assert parse_flags(["--port=1"]).grpc_handler_threads == max(4, cores)
    batching = parse_flags(["--port=1", "--enable_batching"])
    assert batching.grpc_handler_threads == max(4, cores)  # batched calls wait on the loop
    assert parse_flags(["--port=1", "--grpc_max_threads=3"]).grpc_handler_threads == 3
