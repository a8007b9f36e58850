"""The gRPC client's HPACK block cache: the same fields as decoding every block afresh."""

import random

import hpack

from sagemaker_tensorflow_runtime.serving.grpc_unary import Connection, _keeps_table

RESPONSES = [
    [(":status", "200"), ("content-type", "application/grpc")],
    [("grpc-status", "0"), ("grpc-message", "")],
    [("grpc-status", "3"), ("grpc-message", "bad%20input")],
    [(":status", "200"), ("content-type", "application/grpc"), ("x-trace", "a1")],
    [("grpc-status", "5"), ("grpc-message", "Servable not found")],
]


def test_cached_decoding_matches_a_plain_decoder() -> None:
    rng = random.Random(3)
    encoder, plain = hpack.Encoder(), hpack.Decoder()
    connection = Connection.__new__(Connection)  # only the decoding state, no socket
    connection.decoder, connection.decoded = hpack.Decoder(), {}
    hits = 0
    for _ in range(500):
        headers = rng.choice(RESPONSES)
        if rng.random() < 0.1:  # a new value now and then: new table entries, evictions
            headers = [*headers, ("x-request", str(rng.randrange(10**6)))]
        block = encoder.encode(headers, huffman=rng.random() < 0.5)
        hits += block in connection.decoded
        expected = [(str(k), str(v)) for k, v in plain.decode(block)]
        assert connection._decode(block) == expected
    assert hits > 100  # the cache is used, not only consistent


def test_only_table_neutral_blocks_are_cacheable() -> None:
    assert _keeps_table(bytes.fromhex("88c0bf"))  # indexed fields
    assert _keeps_table(bytes.fromhex("be000c677270632d6d65737361676500"))  # + literal, no index
    assert not _keeps_table(bytes.fromhex("400b677270632d7374617475730130"))  # incremental
    assert not _keeps_table(bytes.fromhex("3fe11f"))  # table size update
    assert not _keeps_table(bytes.fromhex("000c67"))  # truncated
