"""Line rewriting in the live output relay (used for mpirun's rank tags)."""

import os

from sagemaker_tensorflow_runtime.container.output import OutputTail, StreamRelay


def relay(data: bytes, rewrite=None) -> tuple[bytes, OutputTail]:
    source_r, source_w = os.pipe()
    target_r, target_w = os.pipe()
    tail = OutputTail()
    thread = StreamRelay(source_r, target_w, tail, True, rewrite)
    thread.start()
    os.write(source_w, data)
    os.close(source_w)
    thread.join(5)
    os.close(target_w)
    with os.fdopen(target_r, "rb") as f:
        return f.read(), tail


def test_without_rewriter_bytes_pass_unchanged():
    out, tail = relay(b"a\nb\npartial")
    assert out == b"a\nb\npartial"
    assert tail.stderr_lines() == ["a", "b", "partial"]


def test_rewriter_sees_each_line_and_the_last_partial_one():
    out, tail = relay(b"[1,0]<stdout>:x\nplain\nend", lambda line: b">" + line)
    assert out == b">[1,0]<stdout>:x\n>plain\n>end"
    assert tail.lines() == [">[1,0]<stdout>:x", ">plain", ">end"]
