"""TF Serving message classes without importing TensorFlow.

`descriptors.bin` (made by scripts/generate_protos.py) holds the TF Serving API protos and their
imports; they are loaded into a private descriptor pool, so they never clash with TensorFlow's
own registrations when a user's handler imports TensorFlow in the same process.
"""

from functools import cache
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

DESCRIPTORS = Path(__file__).with_name("descriptors.bin")


@cache
def _pool() -> descriptor_pool.DescriptorPool:
    pool = descriptor_pool.DescriptorPool()
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTORS.read_bytes())
    for file_proto in files.file:
        pool.Add(file_proto)
    return pool


@cache
def message(full_name: str) -> Any:
    """The message class for e.g. `tensorflow.serving.PredictRequest`."""
    return message_factory.GetMessageClass(_pool().FindMessageTypeByName(full_name))
