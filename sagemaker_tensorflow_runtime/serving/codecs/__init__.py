"""Request decoders and response encoders, found by media type.

Decoders turn a request body into a TF Serving request document (a dict; `instances` may be a
numpy array on the fast paths); encoders render TF Serving's JSON answer in the chosen type.
"""

from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class RequestText:
    """A body turned into TF Serving's JSON request as text, without building its tensors.

    `final`: the text holds exactly the document decoding would build (the body itself, or
    JSON wrapped once its parts parsed), so the backend's answer, errors included, is the
    answer. Otherwise (CSV) the text is an unchecked conversion, and an error naming its JSON
    would confuse a client that sent CSV: the body must be decoded here to find the answer.
    """

    text: bytes
    final: bool


def _json_text(body: bytes) -> RequestText | None:
    text = json_codec.as_request_text(body)
    return None if text is None else RequestText(text, final=True)


def _csv_text(body: bytes) -> RequestText | None:
    text = csv_codec.as_request_text(body)
    return None if text is None else RequestText(text, final=False)


TEXT_FORMS: dict[str, Callable[[bytes], RequestText | None]] = {
    **{media: _json_text for media, decoder in DECODERS.items() if decoder is json_codec.decode},
    "text/csv": _csv_text,
}


def request_text(media_type: str, body: bytes) -> RequestText | None:
    """The body as TF Serving's JSON request text, where it can go as text; else None."""
    form = TEXT_FORMS.get(media_type)
    return None if form is None else form(body)


def decode(media_type: str, body: bytes) -> dict[str, Any]:
    try:
        decoder = DECODERS[media_type]
    except KeyError:
        raise UnsupportedMediaType(f"Unsupported Media Type: {media_type or 'Unknown'}") from None
    return decoder(body)
