"""Regenerate sagemaker_tensorflow_runtime/serving/protos/descriptors.bin.

The HTTP front talks gRPC to TensorFlow Serving without importing TensorFlow (importing the
`tensorflow_serving.apis` modules imports all of TensorFlow: seconds and hundreds of MB per
worker). This script, run with TensorFlow and tensorflow-serving-api 2.15.1 installed, collects
the FileDescriptorProtos of the TF Serving APIs and everything they import into one
FileDescriptorSet; the front loads it into a private descriptor pool at run time.

    .venv/bin/python scripts/generate_protos.py
"""

from pathlib import Path

from google.protobuf import descriptor_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    inference_pb2,
    model_management_pb2,
    predict_pb2,
    prediction_log_pb2,
    regression_pb2,
)

ROOTS = [
    predict_pb2,
    classification_pb2,
    regression_pb2,
    inference_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_management_pb2,
    prediction_log_pb2,
]
OUTPUT = Path(__file__).resolve().parents[1] / (
    "sagemaker_tensorflow_runtime/serving/protos/descriptors.bin"
)


def main() -> None:
    ordered: list[descriptor_pb2.FileDescriptorProto] = []
    seen: set[str] = set()

    def visit(file_descriptor) -> None:  # dependencies first, as a pool needs them
        if file_descriptor.name in seen:
            return
        seen.add(file_descriptor.name)
        for dependency in file_descriptor.dependencies:
            visit(dependency)
        proto = descriptor_pb2.FileDescriptorProto()
        file_descriptor.CopyToProto(proto)
        ordered.append(proto)

    for module in ROOTS:
        visit(module.DESCRIPTOR)
    descriptor_set = descriptor_pb2.FileDescriptorSet(file=ordered)
    OUTPUT.write_bytes(descriptor_set.SerializeToString())
    print(f"wrote {len(ordered)} files to {OUTPUT}")


if __name__ == "__main__":
    main()
