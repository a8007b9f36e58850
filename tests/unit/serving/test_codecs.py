"""Request conversion (serving.md §7.2-7.3), Content-Type and Accept handling (§7.1, §7.4)."""

import io

import numpy as np
import pytest

from sagemaker_tensorflow_runtime.serving import codecs
from sagemaker_tensorflow_runtime.serving.accept import Negotiated, media_type, negotiate
from sagemaker_tensorflow_runtime.serving.attributes import ModelRequest, parse_custom_attributes
from sagemaker_tensorflow_runtime.serving.codecs.responses import encode
from sagemaker_tensorflow_runtime.serving.errors import BadRequest, UnsupportedMediaType


def instances(media: str, body: bytes) -> object:
    value = codecs.decode(media, body)["instances"]
    return value.tolist() if isinstance(value, np.ndarray) else value


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"[1.0,2.0,5.0]", [[1.0, 2.0, 5.0]]),
        (b"[[1.0,2.0,5.0],[1.0,2.0,5.0]]", [[1.0, 2.0, 5.0], [1.0, 2.0, 5.0]]),
        (b"[1.0, 2.0, 5.0]\n[1.0, 2.0, 5.0]", [[1.0, 2.0, 5.0], [1.0, 2.0, 5.0]]),
        (
            b'{"x": [1.0, 2.0, 5.0]}\n{"x": [1.0, 2.0, 5.0]}',
            [{"x": [1.0, 2.0, 5.0]}, {"x": [1.0, 2.0, 5.0]}],
        ),
        (b'{"x":[1,2,5]}', [{"x": [1, 2, 5]}]),
        (b'\n\n{"a": 1}\n\n{"a": 2}\n', [{"a": 1}, {"a": 2}]),
    ],
)
def test_json_rules(body: bytes, expected: object) -> None:
    assert instances("application/json", body) == expected


def test_tfs_requests_pass_through() -> None:
    doc = codecs.decode("application/json", b'{"instances":[1.0,2.0,5.0]}')
    assert doc == {"instances": [1.0, 2.0, 5.0]}
    doc = codecs.decode("application/jsonlines", b'{"signature_name":"s", "inputs" : {"x": [1]}}')
    assert doc == {"signature_name": "s", "inputs": {"x": [1]}}


def test_empty_json_body_names_the_problem() -> None:
    with pytest.raises(BadRequest, match="The request body is empty"):
        codecs.decode("application/json", b"  \n")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"1.0", [1.0]),
        (b"0.0", [0.0]),
        (b"0.0,2.0,5.0", [[0.0, 2.0, 5.0]]),
        (b"1.0,2.0,5.0\n1.0,2.0,5.0", [[1.0, 2.0, 5.0], [1.0, 2.0, 5.0]]),
        (b"1.0\n2.0\n5.0", [1.0, 2.0, 5.0]),
        (b"1.0\r\n\r\n2.0\r\n", [1.0, 2.0]),
        (b"a,b,c", [["a", "b", "c"]]),
        (b'"a,b",c,"say ""hi"""', [["a,b", "c", 'say "hi"']]),
        (b"1,x,2.5", [[1, "x", 2.5]]),
        (b"1,2\n3", [[1, 2], 3]),
        (b"7,8", [[7, 8]]),
    ],
)
def test_csv_rules(body: bytes, expected: object) -> None:
    assert instances("text/csv", body) == expected


def test_csv_all_numbers_become_one_array() -> None:
    row = ",".join(["1.5"] * 1000).encode()
    value = codecs.decode("text/csv", row)["instances"]
    assert isinstance(value, np.ndarray) and value.shape == (1, 1000)
    ints = codecs.decode("text/csv", b"1,2\n3,4")["instances"]
    assert ints.dtype == np.int64 and ints.tolist() == [[1, 2], [3, 4]]


CSV_BODIES = [
    b"1,2,3\n4,5,6\n",
    b"1.5,2,3",
    b"1e-5,2E+3,-0,+7",
    b"1.0\r\n2.0\r\n",
    b"\n\n1,2\n\n",
    b"1.,.5",
    b"007,8",
    b"12345678901234567,1",
    b"+12345678901234567,007",
    b"99999999999999999999,1",
    b"9" * 5000 + b",1",  # past Python's int-string limit
    b"1,\r2",  # a lone CR ends a record
    b"1,2,\r3,4",
    b"87\r,8",
    b"1.5,-0",  # negative zero keeps its sign
    b"-0,2.5\n-00,1e1",
    b"1.5,2\r\n3,4.25",
    b"1e400,1",
    # not plain numbers: each must reach the record-by-record path unchanged
    b"1, ,2",
    b" ",
    b"1,,2",
    b",1",
    b"1,",
    b"1\n2,3",
    b"1e,2",
    b"1--2,3",
    b"1.2.3,4",
    b".,1",
    b"-,1",
    b"0x10,1",
    b"1 2,3",
    b" 1 , 2 \n 3,4",
    b"nan,inf,1",
]


@pytest.mark.parametrize("body", CSV_BODIES)
def test_csv_numpy_fast_path_agrees_with_the_record_path(
    body: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sagemaker_tensorflow_runtime.serving.codecs import csv_codec

    fast = codecs.decode("text/csv", body)["instances"]
    monkeypatch.setattr(csv_codec, "_plain_numbers", lambda _: None)
    slow = codecs.decode("text/csv", body)["instances"]
    if isinstance(slow, np.ndarray):
        assert isinstance(fast, np.ndarray)
        assert (fast.dtype, fast.shape) == (slow.dtype, slow.shape)
        np.testing.assert_array_equal(fast, slow)
        np.testing.assert_array_equal(np.signbit(fast), np.signbit(slow))  # -0.0 is not 0.0
    else:
        assert fast == slow


@pytest.mark.parametrize("body", CSV_BODIES)
def test_csv_request_text_holds_what_decoding_gives_wherever_it_is_json(body: bytes) -> None:
    """Large number-only CSV goes to the backend as this text; where the backend can read it
    (valid JSON, not ragged) it must hold the decoded instances: values, shape, zero signs."""
    import orjson

    from sagemaker_tensorflow_runtime.serving.codecs import csv_codec

    text = csv_codec.as_request_text(body)
    if text is None:
        assert body.translate(None, b"0123456789.eE+-,\r\n") or b"-0" in body or b"\r" in body
        return
    try:
        sent = np.array(orjson.loads(text)["instances"], dtype=np.float64)
    except (orjson.JSONDecodeError, ValueError):
        return  # refused by the backend: the front decodes the body then
    decoded = np.asarray(codecs.decode("text/csv", body)["instances"], dtype=np.float64)
    assert sent.shape == decoded.shape
    np.testing.assert_array_equal(sent, decoded)
    np.testing.assert_array_equal(np.signbit(sent), np.signbit(decoded))


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (b"1,2\n3,4\n", b'{"instances":[[1,2],[3,4]]}'),
        (b"0.5,2.0,5.0", b'{"instances":[[0.5,2.0,5.0]]}'),
        (b"1.0\n2.0\n5.0", b'{"instances":[1.0,2.0,5.0]}'),
        (b"7", b'{"instances":[7]}'),
        (b"1.5,2\r\n3,4.25\r\n", b'{"instances":[[1.5,2],[3,4.25]]}'),
        (b"-1.5,-0.0,-0e1", b'{"instances":[[-1.5,-0.0,-0e1]]}'),
        (b"1,-0", None),  # JSON's -0 would lose the float's sign
        (b"-0\n1", None),
        (b"1,\r2", None),  # a lone CR ends a CSV record
        (b"1, 2", None),  # blanks and strings are decoded in the front
        (b"a,1", None),
        (b"", None),
        (b"\n", None),
    ],
)
def test_csv_request_text(body: bytes, text: bytes | None) -> None:
    from sagemaker_tensorflow_runtime.serving.codecs import csv_codec

    assert csv_codec.as_request_text(body) == text


def test_request_text_by_media_type() -> None:
    tfs = b'{"instances": [1.0]}'
    json_form = codecs.request_text("application/jsonlines", tfs)
    assert json_form == codecs.RequestText(tfs, final=True)
    assert json_form is not None and json_form.text is tfs  # forwarded as it is, not copied
    assert codecs.request_text("text/csv", b"1,2") == codecs.RequestText(
        b'{"instances":[[1,2]]}', final=False
    )
    generic = codecs.request_text("application/json", b" [1.0, 2.0]\n")
    assert generic == codecs.RequestText(b'{"instances":[[1.0, 2.0]]}', final=True)
    lines = codecs.request_text("application/jsonlines", b"[1.0]\n\n [2.0]\n")
    assert lines == codecs.RequestText(b'{"instances":[[1.0],[2.0]]}', final=True)
    assert codecs.request_text("application/x-npy", b"\x93NUMPY") is None
    assert codecs.request_text("text/plain", tfs) is None


@pytest.mark.parametrize(
    "body",
    [
        b'{"instances": [1.0]}',
        b"[1.0,2.0,5.0]",
        b"[[1.0,2.0,5.0],[1.0,2.0,5.0]]",
        b"[1.0, 2.0, 5.0]\n[1.0, 2.0, 5.0]",
        b'{"x": [1.0, 2.0, 5.0]}\n{"x": [1.0, 2.0, 5.0]}',
        b'{"x":[1,2,5]}',
        b"  [[1]]  ",
        b"[1]\n",
        b'"text"',
        b"7",
        b"[]",
        # invalid: each must be refused here, as decoding refuses it
        b"[1.0,",
        b"[1]\n[2,\n",
        b"NaN",
        b"[1] [2",
        b"[1]]",
        # wrapped as text, these two lines would be a valid request with a signature_name
        b'[1]]\n"signature_name":"s","x":["]["',
    ],
)
def test_json_request_text_is_the_decoded_document(body: bytes) -> None:
    """Large JSON bodies go to the backend as this text: it must hold exactly the document
    decoding builds, and exist only where decoding succeeds."""
    import orjson

    from sagemaker_tensorflow_runtime.serving.codecs import json_codec

    text = json_codec.as_request_text(body)
    try:
        decoded = json_codec.decode(body)
    except BadRequest:
        assert text is None
        return
    assert text is not None
    assert orjson.loads(text) == decoded


def test_npy_body() -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.arange(6, dtype=np.float32).reshape(2, 3))
    assert instances("application/x-npy", buffer.getvalue()) == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(BadRequest, match="application/x-npy"):
        codecs.decode("application/x-npy", b"not npy")


def test_unsupported_and_missing_content_types() -> None:
    with pytest.raises(UnsupportedMediaType, match="Unsupported Media Type: text/plain"):
        codecs.decode("text/plain", b"1")
    with pytest.raises(UnsupportedMediaType, match="Unsupported Media Type: Unknown"):
        codecs.decode("", b"1")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("application/json; charset=utf-8", "application/json"),
        ("Application/JSON", "application/json"),
        (" text/CSV ;header=absent", "text/csv"),
        (None, ""),
    ],
)
def test_media_type(header: str | None, expected: str) -> None:
    assert media_type(header) == expected


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, Negotiated("application/json", False)),
        ("*/*", Negotiated("application/json", False)),
        ("application/jsonlines", Negotiated("application/jsonlines", True)),
        ("application/json, application/jsonlines", Negotiated("application/json", True)),
        ("text/html, text/csv", Negotiated("text/csv", True)),
        ("application/json;q=0.5, text/csv", Negotiated("text/csv", True)),
        ("image/png", None),
        ("application/json;q=0", None),
    ],
)
def test_negotiate(accept: str | None, expected: Negotiated | None) -> None:
    assert negotiate(accept) == expected


def test_explicit_json_removes_newlines_and_csv_renders_rows() -> None:
    text = '{\n    "predictions": [[3.5, 4.0], [1.0, 2.0]\n    ]\n}'
    assert encode(text, Negotiated("application/jsonlines", True)) == (
        b'{    "predictions": [[3.5, 4.0], [1.0, 2.0]    ]}',
        "application/jsonlines",
    )
    assert encode(text, Negotiated("application/json", False))[0] == text.encode()
    assert encode(text, Negotiated("text/csv", True)) == (b"3.5,4.0\n1.0,2.0\n", "text/csv")
    multi = '{"predictions": [{"a": 1.0, "b": [2.0, 3.0]}]}'
    assert encode(multi, Negotiated("text/csv", True))[0] == b"1.0,2.0,3.0\n"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, ModelRequest("default")),
        (
            "tfs-model-name=half_plus_three,tfs-method=regress,tfs-model-version=123",
            ModelRequest("half_plus_three", 123, "regress"),
        ),
        ("other=1, tfs-model-name=m , tfs-unknown=x", ModelRequest("m")),
        ("tfs-model-name=a=b", ModelRequest("default")),
    ],
)
def test_custom_attributes(header: str | None, expected: ModelRequest) -> None:
    assert parse_custom_attributes(header, "default") == expected


def test_custom_attribute_errors_and_paths() -> None:
    with pytest.raises(BadRequest, match="tfs-method must be one of predict, classify, regress"):
        parse_custom_attributes("tfs-method=explain", "m")
    with pytest.raises(BadRequest, match="tfs-model-version must be an integer"):
        parse_custom_attributes("tfs-model-version=latest", "m")
    request = ModelRequest("half_plus_three", 123, "predict")
    assert request.path() == "/v1/models/half_plus_three/versions/123:predict"
    assert request.path(action=False) == "/v1/models/half_plus_three/versions/123"


@pytest.mark.parametrize("shape", [(10**11,), (2**40, 2**40), (3, 4)])
def test_npy_header_declaring_more_than_the_body_holds_is_a_400(shape: tuple[int, ...]) -> None:
    from numpy.lib import format as npy_format

    buffer = io.BytesIO()
    npy_format.write_array_header_1_0(
        buffer, {"descr": "<f4", "fortran_order": False, "shape": shape}
    )
    buffer.write(b"\0" * 16)  # 4 values
    with pytest.raises(BadRequest, match=r"declares an array of shape .* but holds 16 bytes"):
        codecs.decode("application/x-npy", buffer.getvalue())


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _npy_header(descr: str, shape: tuple[int, ...]) -> bytes:
    from numpy.lib import format as npy_format

    buffer = io.BytesIO()
    npy_format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (_npy_header("|S0", (10**6, 10**6)), "dtype |S0"),  # 10**12 zero-byte items
        (_npy(np.ones(3, np.complex64)), "dtype complex64"),
        (_npy(np.array(["2020-01-01"], "M8[D]")), "dtype datetime64"),
        (_npy(np.zeros(2, [("a", "f4")])), "dtype \\[\\('a'"),
        (_npy(np.array([b"a"])), "dtype \\|S1"),
        (b"PK\x03\x04 an npz or any zip", "not an .npy file"),
        (b"\x93NUMPY\x03\x00\x10\x00\x00\x00{}              ", "format version 3.0"),
    ],
    ids=["zero-byte-items", "complex", "datetime", "structured", "bytes", "zip", "version-3"],
)
def test_npy_bodies_numpy_would_choke_on_are_400s(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        codecs.decode("application/x-npy", body)


@pytest.mark.parametrize(
    "array",
    [
        np.asfortranarray(np.ones((2, 3), np.float32)),
        np.array(["a", "bc"]),
        np.array([True, False]),
        np.arange(6, dtype=np.uint8).reshape(3, 2),
    ],
)
def test_npy_bodies_of_numbers_booleans_and_unicode_are_read(array: np.ndarray) -> None:
    np.testing.assert_array_equal(
        codecs.decode("application/x-npy", _npy(array))["instances"], array
    )


@pytest.mark.parametrize(
    "header",
    [
        "tfs-model-version=\u00b2",  # str.isdigit() says yes; int() says no
        "tfs-model-version=9223372036854775808",
        "tfs-model-version=" + "9" * 5000,
        "tfs-model-version=-1",
    ],
)
def test_model_versions_outside_int64_or_not_ascii_digits_are_400s(header: str) -> None:
    with pytest.raises(BadRequest, match="tfs-model-version must be an integer from 0 to"):
        parse_custom_attributes(header, "m")


def test_model_names_are_escaped_in_backend_paths() -> None:
    request = parse_custom_attributes("tfs-model-name=a b:predict?", "m")
    assert request.path() == "/v1/models/a%20b%3Apredict%3F:predict"
    assert parse_custom_attributes("tfs-model-name=half_plus_three-v1.2", "m").path() == (
        "/v1/models/half_plus_three-v1.2:predict"
    )
