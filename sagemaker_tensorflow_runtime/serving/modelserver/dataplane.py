"""Protocol-free request handling shared by the REST and gRPC front ends.

Resolves the servable, checks the signature's method, runs it (through the batch scheduler when
batching is on) and returns numpy results; REST and gRPC only translate to and from the wire.
"""

from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from tensorflow.core.example import example_pb2, feature_pb2

from sagemaker_tensorflow_runtime.serving.modelserver.batching import (
    BatchScheduler,
    BatchTask,
    batch_key,
)
from sagemaker_tensorflow_runtime.serving.modelserver.errors import invalid
from sagemaker_tensorflow_runtime.serving.modelserver.manager import ModelManager, VersionStatus
from sagemaker_tensorflow_runtime.serving.modelserver.servable import Servable
from sagemaker_tensorflow_runtime.serving.modelserver.signatures import (
    CLASSIFY,
    REGRESS,
    Signature,
)

Arrays = dict[str, np.ndarray]
T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    """Which model, version or label, and signature a request names."""

    name: str
    version: int | None = None
    label: str | None = None
    signature_name: str | None = None


@dataclass(frozen=True)
class Result:
    """Outputs of a run and where they came from."""

    outputs: Arrays
    servable: Servable
    signature: Signature


@dataclass(frozen=True)
class Classification:
    """Per-example (label, score) lists."""

    classes: list[list[tuple[bytes, float]]]
    servable: Servable
    signature: Signature


Steps = Generator[BatchTask, None, T]
"""Work that may wait for a batch: it yields each batch task it waits for, to be resumed once
that task has finished, and returns its result. `complete` runs it on the calling thread; the
gRPC loop (`grpc_loop`) runs it without blocking, so no thread waits while a batch fills."""


def complete(steps: Steps[T]) -> T:
    """Run `steps` to the end on this thread, blocking on each batch it waits for."""
    try:
        task = next(steps)
        while True:
            task.wait()
            task = steps.send(None)
    except StopIteration as done:
        return done.value


class DataPlane:
    """Predict, classify, regress, status and metadata over the model manager."""

    def __init__(self, manager: ModelManager, batcher: BatchScheduler | None = None) -> None:
        self.manager = manager
        self.batcher = batcher

    def _servable(self, target: Target) -> Servable:
        if not target.name:
            raise invalid("Missing model name in request.")
        return self.manager.resolve(target.name, target.version, target.label)

    def run_steps(
        self,
        servable: Servable,
        signature: Signature,
        inputs: Arrays,
        output_filter: Iterable[str] = (),
    ) -> Steps[Arrays]:
        wanted = tuple(output_filter)

        def call(batch: Arrays) -> Arrays:
            return servable.run(signature, batch, wanted)

        task = None
        if self.batcher is not None:
            key = (*batch_key(id(servable), signature.key, inputs), wanted)
            task = self.batcher.submit(key, inputs, call)
        if task is None:
            return call(dict(inputs))
        yield task
        return task.outcome()

    def run(
        self,
        servable: Servable,
        signature: Signature,
        inputs: Arrays,
        output_filter: Iterable[str] = (),
    ) -> Arrays:
        return complete(self.run_steps(servable, signature, inputs, output_filter))

    def predict_steps(
        self, target: Target, inputs: Arrays, output_filter: Iterable[str] = ()
    ) -> Steps[Result]:
        servable = self._servable(target)
        signature = servable.signature(target.signature_name)
        outputs = yield from self.run_steps(servable, signature, inputs, output_filter)
        return Result(outputs, servable, signature)

    def _examples_steps(
        self, target: Target, method: str, examples: list[bytes]
    ) -> Steps[tuple[Arrays, Servable, Signature]]:
        servable = self._servable(target)
        signature = servable.signature(target.signature_name)
        if signature.method_name != method:
            kind = "classification" if method == CLASSIFY else "regression"
            raise invalid(
                f"Expected {kind} signature method_name to be {method}. Was: "
                f"{signature.method_name}"
            )
        if len(signature.inputs) != 1:
            raise invalid(f"Expected one input Tensor, got {len(signature.inputs)}")
        array = np.empty(len(examples), dtype=object)
        array[:] = examples
        key = next(iter(signature.inputs))
        outputs = yield from self.run_steps(servable, signature, {key: array})
        return outputs, servable, signature

    def regress_steps(self, target: Target, examples: list[bytes]) -> Steps[Result]:
        outputs, servable, signature = yield from self._examples_steps(target, REGRESS, examples)
        values = outputs.get("outputs", next(iter(outputs.values())))
        return Result({"outputs": values.reshape(len(examples))}, servable, signature)

    def regress(self, target: Target, examples: list[bytes]) -> Result:
        return complete(self.regress_steps(target, examples))

    def classify_steps(self, target: Target, examples: list[bytes]) -> Steps[Classification]:
        outputs, servable, signature = yield from self._examples_steps(target, CLASSIFY, examples)
        classes, scores = outputs.get("classes"), outputs.get("scores")
        rows = []
        for i in range(len(examples)):
            labels = list(classes[i]) if classes is not None else None
            values = [float(v) for v in scores[i]] if scores is not None else None
            count = len(labels) if labels is not None else len(values or [])
            rows.append(
                [
                    (labels[j] if labels is not None else b"", values[j] if values else 0.0)
                    for j in range(count)
                ]
            )
        return Classification(rows, servable, signature)

    def classify(self, target: Target, examples: list[bytes]) -> Classification:
        return complete(self.classify_steps(target, examples))

    def status(self, target: Target) -> list[VersionStatus]:
        if not target.name:
            raise invalid("Missing model name in request.")
        return self.manager.status(target.name, target.version, target.label)

    def servable_for_metadata(self, target: Target) -> Servable:
        return self._servable(target)


def make_example(features: Mapping[str, object]) -> example_pb2.Example:
    """A tf.Example from a JSON object: ints → int64_list, numbers → float_list, else bytes."""
    example = example_pb2.Example()
    for name, value in features.items():
        values = value if isinstance(value, list) else [value]
        feature = example.features.feature[name]
        _fill_feature(feature, name, values)
    return example


def _fill_feature(feature: feature_pb2.Feature, name: str, values: list[Any]) -> None:
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        feature.int64_list.value.extend(values)
    elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        feature.float_list.value.extend(float(v) for v in values)
    elif all(isinstance(v, (str, bytes)) for v in values):
        feature.bytes_list.value.extend(v.encode() if isinstance(v, str) else v for v in values)
    else:
        raise invalid(f"Unsupported value type in feature '{name}': {values!r}")


def merge_context(example: example_pb2.Example, context: example_pb2.Example) -> bytes:
    """An example with the context's features added (ExampleListWithContext semantics)."""
    merged = example_pb2.Example()
    merged.CopyFrom(context)
    for name, feature in example.features.feature.items():
        merged.features.feature[name].CopyFrom(feature)
    return merged.SerializeToString()
