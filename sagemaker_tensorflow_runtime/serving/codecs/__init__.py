"""Request decoders and response encoders, found by media type.

Decoders turn a request body into a TF Serving request document (a dict; `instances` may be a
numpy array on the fast paths); encoders render TF Serving's JSON answer in the chosen type.
"""

from collections.abc import Callable
from typing import Any

from sagemaker_tensorflow_runtime.serving.codecs import csv_codec, json_codec, npy_codec
from sagemaker_tensorflow_runtime.serving.errors import UnsupportedMediaType

Decoder = Callable[[bytes], dict[str, Any]]

DECODERS: dict[str, Decoder] = {
    "application/json": json_codec.decode,
    "application/jsonlines": json_codec.decode,
    "application/jsons": json_codec.decode,
    "application/x-jsonlines": json_codec.decode,
    "text/csv": csv_codec.decode,
    "application/x-npy": npy_codec.decode,
}


def decode(media_type: str, body: bytes) -> dict[str, Any]:
    try:
        decoder = DECODERS[media_type]
    except KeyError:
        raise UnsupportedMediaType(f"Unsupported Media Type: {media_type or 'Unknown'}") from None
    return decoder(body)
