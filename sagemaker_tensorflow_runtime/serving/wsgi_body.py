"""Reading a Content-Length request body from gunicorn in one piece.

gunicorn's `wsgi.input` hands a body to werkzeug 1 KiB at a time, each step splitting an 8 KiB
recv() and pushing the rest back into a BytesIO: ~2.5 ms of CPU per MB, most of the front's
cost for a large body that it only forwards. The length reader underneath that stream keeps
one buffer and stops at the body's end (anything read past it goes back for the next request),
so reading through it, with larger recv()s, gives the same bytes for a fraction of the work.
"""

from typing import Any

from gunicorn.http.body import Body, LengthReader
from gunicorn.http.unreader import SocketUnreader

RECV_BYTES = 256 * 1024


def read_whole_body(environ: dict[str, Any]) -> bytes | None:
    """The whole body when gunicorn's Content-Length reader is underneath and untouched; None
    otherwise (chunked bodies, other servers, a body partly read): the caller reads it the
    standard way then. EOFError when the connection ends before the body does."""
    stream = environ.get("wsgi.input")
    if not isinstance(stream, Body) or stream.buf.tell():
        return None
    reader = stream.reader
    if not isinstance(reader, LengthReader):
        return None
    if isinstance(reader.unreader, SocketUnreader):
        reader.unreader.mxchunk = max(reader.unreader.mxchunk, RECV_BYTES)
    length = reader.length
    body: bytes = reader.read(length)
    if len(body) < length:
        raise EOFError(f"the connection ended after {len(body)} of {length} body bytes")
    return body
