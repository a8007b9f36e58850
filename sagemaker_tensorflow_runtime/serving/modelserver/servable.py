"""One loaded model version: its signatures and how to run them on numpy inputs."""

import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from sagemaker_tensorflow_runtime.serving.modelserver.errors import Code, ServingError, invalid
from sagemaker_tensorflow_runtime.serving.modelserver.signatures import (
    DEFAULT_SIGNATURE,
    SERVE_TAG,
    Signature,
    read_signatures,
    serve_meta_graph,
)

logger = logging.getLogger(__name__)


class Servable:
    """A SavedModel version loaded with TensorFlow (tag `serve`)."""

    def __init__(self, name: str, version: int, path: Path) -> None:
        self.name = name
        self.version = version
        self.path = path
        self.meta_graph = serve_meta_graph(path)
        self.signatures: dict[str, Signature] = read_signatures(self.meta_graph)
        self._loaded = tf.saved_model.load(str(path), tags=[SERVE_TAG])
        self._functions = {
            key: signature_caller(self._loaded.signatures[key]) for key in self.signatures
        }

    def signature(self, key: str | None) -> Signature:
        name = key or DEFAULT_SIGNATURE
        try:
            return self.signatures[name]
        except KeyError:
            raise invalid(f'Serving signature name: "{name}" not found in signature def') from None

    def run(
        self,
        signature: Signature,
        inputs: Mapping[str, np.ndarray],
        output_filter: Iterable[str] = (),
    ) -> dict[str, np.ndarray]:
        """Run `signature`; inputs must cover exactly its input keys."""
        _check_aliases("input", set(inputs), signature.inputs, exact=True)
        wanted = list(output_filter)
        _check_aliases("output", set(wanted), signature.outputs, exact=False)
        tensors = {
            key: tf.constant(value, dtype=tf.dtypes.as_dtype(signature.inputs[key].dtype))
            for key, value in inputs.items()
        }
        try:
            outputs = self._functions[signature.key](tensors)
        except (tf.errors.InvalidArgumentError, ValueError, TypeError) as exc:
            raise invalid(_first_line(exc)) from None
        except tf.errors.OpError as exc:
            raise ServingError(_op_error_code(exc), _first_line(exc)) from None
        names = wanted or list(signature.outputs)
        return {name: outputs[name].numpy() for name in names}


SignatureCaller = Callable[[dict[str, tf.Tensor]], Mapping[str, tf.Tensor]]


def signature_caller(function: Any) -> SignatureCaller:
    """How to call one loaded signature function with keyword tensors.

    Signatures of TF1 SavedModels load as pruned functions whose structured signature takes no
    arguments: a keyword call first fails to bind, formats the repr of every input tensor into
    the discarded error, and only then falls back to the flat signature, which more than
    doubles the cost of a small request. Those are called on the flat signature directly.
    """
    flat = getattr(function, "_call_with_flat_signature", None)
    function_type = getattr(function, "function_type", None)
    takes_nothing = function_type is not None and not function_type.parameters
    if flat is not None and takes_nothing and getattr(function, "_arg_keywords", None):
        return lambda tensors: flat((), tensors)
    return lambda tensors: function(**tensors)


def _check_aliases(kind: str, given: set[str], expected: Mapping[str, Any], exact: bool) -> None:
    missing = set(expected) - given if exact else set()
    for key in sorted((given - set(expected)) | missing):
        raise invalid(
            f"{kind} tensor alias not found in signature: {key}. {kind.capitalize()}s expected "
            f"to be in the set {{{','.join(sorted(expected))}}}."
        )


# Eager TF prefixes op errors with "Graph execution error:" and a Python traceback of where the
# node was defined; TF Serving reports only the op's message, and a traceback must not reach
# clients.
_TF_PREAMBLE = ("Graph execution error:", "Detected at node", "  File ")


def _first_line(exc: Exception) -> str:
    text = getattr(exc, "message", None) or str(exc)
    paragraphs = [p for p in text.split("\n\n") if p.strip() and not p.startswith(_TF_PREAMBLE)]
    if not paragraphs:
        return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return paragraphs[0].strip().splitlines()[0]


def _op_error_code(exc: Any) -> Code:
    try:
        return Code(int(exc.error_code))
    except ValueError:
        return Code.UNKNOWN
