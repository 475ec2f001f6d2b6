"""A hostile HTTP server for tests: loopback only, bounded, raw sockets.

werkzeug answers politely; this server does what a hostile or broken vendor does: drips its
headers or body one byte at a time, sends a gzip bomb, a huge or deeply nested answer, redirects
to another origin, hangs, or drops the connection. Every connection handler gives up at a hard
cap, and leaving the ``with`` block stops everything and joins every thread::

    with HostileServer() as srv, HostileServer() as evil:
        srv.route("GET", "/api/task/abc", Answer.redirect(evil.url + "/steal"))
        ...
        assert evil.requests == []

Routes match the path without its query (or with it, when the route's path has a ``?``); the
most recent matching route wins, exact routes before prefix routes, else ``srv.fallback``.
"""

from __future__ import annotations

import functools
import http
import itertools
import json
import os
import socket
import ssl
import struct
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

#: Every connection handler gives up after this many seconds (a test never waits longer).
HARD_CAP = 60.0
#: How long a blocking socket call may wait before the handler checks the stop flag and cap.
_POLL = 0.1
#: A request head larger than this is answered 431 (a 100 KB id in a URL still fits).
MAX_HEAD = 1 << 20
#: A request body larger than this is answered 413.
MAX_BODY = 64 << 20
#: Slice size when sending large bodies: never more than this is built at once.
_SLICE = 1 << 16

Headers = Mapping[str, str] | Sequence[tuple[str, str]]


class _Gone(Exception):
    """The client hung up, the server is stopping, or the connection's hard cap passed."""


@dataclass(frozen=True)
class Recorded:
    """One request as the server received it."""

    method: str
    #: The request target as sent: path and query.
    path: str
    #: Header names in lower case; repeated headers joined with ", ".
    headers: dict[str, str]
    body: bytes
    #: ``time.monotonic()`` when the request head and body had been read.
    at: float

    @property
    def path_only(self) -> str:
        """The path without its query."""
        return urlsplit(self.path).path

    @property
    def query(self) -> dict[str, list[str]]:
        """The query, parsed (blank values kept)."""
        return parse_qs(urlsplit(self.path).query, keep_blank_values=True)

    def json(self) -> Any:
        """The body, parsed as JSON."""
        return json.loads(self.body)


class _Wire:
    """One accepted connection: bounded reads and writes that notice stop, cap and hang-up."""

    def __init__(self, sock: socket.socket, stop: threading.Event, until: float) -> None:
        self.sock = sock
        self.stop = stop
        self.until = until
        self.buffer = b""
        #: Whether the connection may carry another request after this answer.
        self.keep_alive = True

    def check(self) -> None:
        if self.stop.is_set() or time.monotonic() >= self.until:
            raise _Gone

    def pause(self, seconds: float) -> None:
        """Sleep for real, but wake at once when the server stops or the cap passes."""
        left = self.until - time.monotonic()
        if self.stop.wait(max(0.0, min(seconds, left))):
            raise _Gone
        self.check()

    def send(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            self.check()
            try:
                sent = self.sock.send(view)
            except TimeoutError:  # the client is not reading: poll the stop flag and cap
                continue
            except OSError as exc:
                raise _Gone from exc
            view = view[sent:]

    def _fill(self) -> bool:
        """Read more into the buffer; False when the client has closed its side."""
        while True:
            self.check()
            try:
                data = self.sock.recv(_SLICE)
            except TimeoutError:
                continue
            except OSError as exc:
                raise _Gone from exc
            if not data:
                return False
            self.buffer += data
            return True

    def read_until_closed(self) -> None:
        """Swallow whatever comes until the client hangs up (or stop / cap)."""
        while self._fill():
            self.buffer = b""
        raise _Gone

    def read_request(self) -> Recorded | int | None:
        """The next request; an int status when it is too large; None at a clean close."""
        while b"\r\n\r\n" not in self.buffer:
            if len(self.buffer) > MAX_HEAD:
                return 431
            if not self._fill():
                return None
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        if len(head) > MAX_HEAD:
            return 431
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            return 400
        method, target, version = parts
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                return 400
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = self._read_chunked()
        else:
            length = int(headers.get("content-length", "0") or "0")
            if length > MAX_BODY:
                return 413
            body = self._read_exactly(length)
        if body is None:
            return 413
        connection = headers.get("connection", "").lower()
        if version == "HTTP/1.0" or "close" in connection:
            self.keep_alive = False
        return Recorded(method, target, headers, body, time.monotonic())

    def _read_exactly(self, count: int) -> bytes:
        while len(self.buffer) < count:
            if not self._fill():
                raise _Gone
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def _read_line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            if len(self.buffer) > MAX_HEAD or not self._fill():
                raise _Gone
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    def _read_chunked(self) -> bytes | None:
        body = bytearray()
        while True:
            size = int(self._read_line().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self._read_line():  # trailers end with an empty line
                    pass
                return bytes(body)
            body += self._read_exactly(size)
            self._read_line()
            if len(body) > MAX_BODY:
                return None


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _header_items(headers: Headers | None) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return list(headers.items())
    return list(headers)


def _head(
    wire: _Wire,
    status: int,
    headers: Headers | None,
    *,
    length: int | None,
    chunked: bool = False,
    end: bool = True,
) -> bytes:
    """Status line and headers; framing added unless the answer set its own (then it closes).

    ``length=None`` without ``chunked`` means the body ends when the connection closes.
    """
    items = _header_items(headers)
    names = {name.lower() for name, _ in items}
    if names & {"content-length", "transfer-encoding"}:
        wire.keep_alive = False  # the answer may be lying about its length: never reuse
    elif chunked:
        items.append(("Transfer-Encoding", "chunked"))
    elif length is None:
        wire.keep_alive = False
    else:
        items.append(("Content-Length", str(length)))
    if "connection" not in names:
        items.append(("Connection", "keep-alive" if wire.keep_alive else "close"))
    else:
        wire.keep_alive = False
    lines = [f"HTTP/1.1 {status} {_reason(status)}"] + [f"{k}: {v}" for k, v in items]
    return ("\r\n".join(lines) + "\r\n" + ("\r\n" if end else "")).encode("latin-1")


def _chunk(data: bytes | memoryview) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), bytes(data))


#: Writes one answer to the wire. Raising _Gone ends the connection quietly.
Emit = Callable[[_Wire, Recorded], None]


class Answer:
    """What the server does with a request. Build one with the class methods below."""

    def __init__(self, emit: Emit, label: str) -> None:
        self._emit = emit
        self.label = label

    def __repr__(self) -> str:
        return f"Answer.{self.label}"

    def write(self, wire: _Wire, request: Recorded) -> None:
        """Answer ``request`` on ``wire``."""
        self._emit(wire, request)

    # -- polite answers -------------------------------------------------------------------

    @classmethod
    def status(
        cls,
        status: int,
        body: bytes | str = b"",
        *,
        headers: Headers | None = None,
        content_type: str | None = None,
    ) -> Answer:
        """A plain answer. Give your own Content-Length in ``headers`` to lie about it."""
        data = body.encode() if isinstance(body, str) else body
        items = _header_items(headers)
        if content_type is not None:
            items.append(("Content-Type", content_type))

        def emit(wire: _Wire, request: Recorded) -> None:
            head = _head(wire, status, items, length=len(data))
            wire.send(head + (b"" if request.method == "HEAD" else data))

        return cls(emit, f"status({status})")

    @classmethod
    def json(cls, payload: Any, *, status: int = 200, headers: Headers | None = None) -> Answer:
        """A JSON answer."""
        data = json.dumps(payload).encode()
        answer = cls.status(status, data, headers=headers, content_type="application/json")
        answer.label = f"json({status})"
        return answer

    @classmethod
    def redirect(
        cls, location: str, *, status: int = 307, headers: Headers | None = None
    ) -> Answer:
        """A redirect to ``location`` (any origin: this is how credentials leak)."""
        answer = cls.status(status, headers=[*_header_items(headers), ("Location", location)])
        answer.label = f"redirect({status}, {location!r})"
        return answer

    @classmethod
    def raw(cls, data: bytes) -> Answer:
        """Send exactly these bytes (malformed HTTP welcome), then close."""

        def emit(wire: _Wire, request: Recorded) -> None:
            wire.keep_alive = False
            wire.send(data)

        return cls(emit, f"raw({len(data)} bytes)")

    # -- misbehaving answers ---------------------------------------------------------------

    @classmethod
    def drop(cls) -> Answer:
        """Close the connection without a word (the server may have acted: outcome unknown)."""

        def emit(wire: _Wire, request: Recorded) -> None:
            raise _Gone

        return cls(emit, "drop()")

    @classmethod
    def hang(cls) -> Answer:
        """Read the request, never answer; ends when the client hangs up, at stop or cap."""

        def emit(wire: _Wire, request: Recorded) -> None:
            wire.read_until_closed()

        return cls(emit, "hang()")

    @classmethod
    def drip(
        cls,
        *,
        status: int = 200,
        headers: Headers | None = None,
        body: bytes | str = b"",
        every: float = 0.05,
        phase: Literal["headers", "body"] = "body",
        forever: bool = False,
        chunked: bool = False,
    ) -> Answer:
        """Send one part a byte at a time, ``every`` seconds apart (real sleeps).

        ``phase="headers"``: the status line and headers are dripped, then the body is sent at
        once; with ``forever`` the head never ends (an ``X-Drip`` header grows a byte at a time).
        ``phase="body"``: the head is sent at once and the body dripped; with ``forever`` the
        body (valid JSON stays valid) is followed by spaces without end, framed by the
        connection's close or, with ``chunked``, by one-byte chunks.
        Dripping stops when the client hangs up, the server stops or the hard cap passes.
        """
        data = body.encode() if isinstance(body, str) else body

        def drip_bytes(wire: _Wire, payload: Iterable[int], framed: bool) -> None:
            for byte in payload:
                wire.pause(every)
                one = bytes((byte,))
                wire.send(_chunk(one) if framed else one)

        def emit(wire: _Wire, request: Recorded) -> None:
            length = None if forever or chunked else len(data)
            if phase == "headers":
                head = _head(wire, status, headers, length=length, chunked=chunked, end=False)
                if forever:  # a header line that never ends: only stop, cap or hang-up end it
                    drip_bytes(wire, head + b"X-Drip: ", framed=False)
                    drip_bytes(wire, itertools.repeat(ord("a")), framed=False)
                drip_bytes(wire, head + b"\r\n", framed=False)
                if chunked:
                    wire.send((_chunk(data) if data else b"") + b"0\r\n\r\n")
                else:
                    wire.send(data)
                return
            wire.send(_head(wire, status, headers, length=length, chunked=chunked))
            tail = itertools.repeat(ord(" ")) if forever else ()
            drip_bytes(wire, itertools.chain(data, tail), framed=chunked)
            if chunked:
                wire.send(b"0\r\n\r\n")

        return cls(emit, f"drip({phase}, every={every}, forever={forever})")

    @classmethod
    def gzip_bomb(
        cls,
        inflated: int = 1 << 30,
        *,
        prefix: bytes = b"",
        fill: bytes = b"\0",
        status: int = 200,
        chunked: bool = False,
    ) -> Answer:
        """``Content-Encoding: gzip``: about 1 MB on the wire inflating to ``inflated`` bytes.

        The decoded body is ``prefix`` then ``fill`` (one byte) up to ``inflated`` bytes in all:
        ``prefix=b'{"id": "abc"}', fill=b" "`` inflates to valid JSON. Built once per process.
        """
        body = gzip_bomb_bytes(inflated, prefix, fill)
        headers = [("Content-Type", "application/json"), ("Content-Encoding", "gzip")]

        def emit(wire: _Wire, request: Recorded) -> None:
            length = None if chunked else len(body)
            wire.send(_head(wire, status, headers, length=length, chunked=chunked))
            view = memoryview(body)
            for start in range(0, len(body), _SLICE):
                piece = view[start : start + _SLICE]
                wire.send(_chunk(piece) if chunked else piece)
            if chunked:
                wire.send(b"0\r\n\r\n")

        return cls(emit, f"gzip_bomb({inflated})")

    @classmethod
    def huge(
        cls, size: int, *, status: int = 200, chunked: bool = False, task_id: str = "abc"
    ) -> Answer:
        """A plain ``application/json`` answer of exactly ``size`` bytes, made in slices.

        It is one valid task-like object (``{"id": ..., "pad": "aaa..."}``), so a client
        that holds it all parses it; with ``chunked`` there is no Content-Length to pre-check.
        """

        def emit(wire: _Wire, request: Recorded) -> None:
            headers = [("Content-Type", "application/json")]
            length = None if chunked else size
            wire.send(_head(wire, status, headers, length=length, chunked=chunked))
            for piece in huge_json_slices(size, task_id):
                wire.send(_chunk(piece) if chunked else piece)
            if chunked:
                wire.send(b"0\r\n\r\n")

        return cls(emit, f"huge({size})")

    @classmethod
    def deep_json(
        cls, depth: int = 100_000, *, kind: Literal["list", "object"] = "list", status: int = 200
    ) -> Answer:
        """JSON nested ``depth`` levels: ``[[[...]]]`` or ``{"a": {"a": ... 1}}``."""
        if kind == "list":
            data = b"[" * depth + b"]" * depth
        else:
            data = b'{"a": ' * depth + b"1" + b"}" * depth
        answer = cls.status(status, data, content_type="application/json")
        answer.label = f"deep_json({depth}, {kind})"
        return answer

    # -- combinators -----------------------------------------------------------------------

    @classmethod
    def sequence(cls, *answers: Answer) -> Answer:
        """The given answers in turn, one per request; the last one repeats."""
        if not answers:
            raise ValueError("sequence() needs at least one answer")
        lock = threading.Lock()
        turn = itertools.count()

        def emit(wire: _Wire, request: Recorded) -> None:
            with lock:  # requests on parallel connections must each take their own turn
                index = min(next(turn), len(answers) - 1)
            answers[index].write(wire, request)

        return cls(emit, "sequence(" + ", ".join(map(repr, answers)) + ")")

    @classmethod
    def callable(cls, fn: Callable[[Recorded], Answer]) -> Answer:
        """Ask ``fn`` for the answer to each request."""

        def emit(wire: _Wire, request: Recorded) -> None:
            fn(request).write(wire, request)

        return cls(emit, f"callable({getattr(fn, '__name__', fn)!r})")


@functools.lru_cache(maxsize=4)
def gzip_bomb_bytes(inflated: int, prefix: bytes = b"", fill: bytes = b"\0") -> bytes:
    """A gzip member decoding to ``prefix`` + ``fill`` * (inflated - len(prefix)).

    Cheap to build: one MiB of fill is deflated once, ending in a full flush (byte-aligned,
    no back-references across it), and that segment is repeated; only the CRC walks the whole
    length, one reused MiB at a time.
    """
    if len(fill) != 1 or not 0 <= len(prefix) <= inflated:
        raise ValueError("fill must be one byte and prefix no longer than inflated")
    segment = 1 << 20

    def deflated(data: bytes) -> bytes:
        raw = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
        return raw.compress(data) + raw.flush(zlib.Z_FULL_FLUSH)

    count, rest = divmod(inflated - len(prefix), segment)
    block = fill * segment
    crc = zlib.crc32(prefix)
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(block[:rest], crc)
    parts = [
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff",  # gzip header: deflate, no name, mtime 0
        deflated(prefix) if prefix else b"",
        deflated(block) * count,
        deflated(block[:rest]) if rest else b"",
        b"\x03\x00",  # an empty final fixed-Huffman block
        struct.pack("<II", crc, inflated & 0xFFFFFFFF),
    ]
    return b"".join(parts)


def huge_json_slices(size: int, task_id: str = "abc") -> Iterator[memoryview]:
    """The body of ``Answer.huge`` in slices of at most 64 KiB; exactly ``size`` bytes."""
    head = json.dumps({"id": task_id, "status": {"phase": "running"}})[:-1].encode()
    head += b', "pad": "'
    tail = b'"}'
    if size < len(head) + len(tail):
        raise ValueError(f"huge() needs at least {len(head) + len(tail)} bytes")
    yield memoryview(head)
    pad = memoryview(b"a" * _SLICE)
    left = size - len(head) - len(tail)
    while left > 0:
        take = min(left, _SLICE)
        yield pad[:take]
        left -= take
    yield memoryview(tail)


@functools.lru_cache(maxsize=1)
def _certificate() -> tuple[bytes, bytes]:
    """A self-signed CA certificate for 127.0.0.1 and localhost (PEM cert, PEM key)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())  # EC: fast to make, unlike RSA
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "taskhub hostile test server")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        # CA=True lets clients pass the certificate itself as their CA bundle.
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


@dataclass
class _Route:
    method: str
    path: str
    answer: Answer
    prefix: bool

    def matches(self, request: Recorded) -> bool:
        if self.method not in ("*", request.method):
            return False
        target = request.path if "?" in self.path else request.path_only
        return target.startswith(self.path) if self.prefix else target == self.path


@dataclass
class HostileServer:
    """A misbehaving HTTP/1.1 server on 127.0.0.1 (an ephemeral port), one thread per connection.

    ``cap``: seconds after which any connection handler gives up. ``tls``: serve HTTPS with a
    throwaway certificate for 127.0.0.1; clients verify it with ``ca_file``. ``keep_alive``:
    allow more than one request per connection when the answer's framing permits it.
    ``strict``: a handler error that is not the client's doing (a bug in a ``callable``
    answer) is raised when the ``with`` block exits, so a broken fixture cannot pass a test.
    """

    cap: float = HARD_CAP
    tls: bool = False
    keep_alive: bool = True
    strict: bool = True
    #: What unmatched requests get.
    fallback: Answer = field(default_factory=lambda: Answer.status(404, b"not routed"))
    #: Handler errors that were not the client's doing.
    errors: list[BaseException] = field(default_factory=list, init=False)
    ca_file: str | None = field(default=None, init=False)
    port: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._routes: list[_Route] = []
        self._requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self._context: ssl.SSLContext | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    # -- set up ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http(s)://127.0.0.1:PORT`` (no trailing slash): the server's origin."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def route(self, method: str, path: str, answer: Answer, *, prefix: bool = False) -> None:
        """Answer ``method`` (or ``"*"``) on ``path``; a later route wins over an earlier one."""
        with self._lock:
            self._routes.append(_Route(method.upper(), path, answer, prefix))

    def route_prefix(self, method: str, prefix: str, answer: Answer) -> None:
        """Answer every path starting with ``prefix`` (exact routes are tried first)."""
        self.route(method, prefix, answer, prefix=True)

    @property
    def requests(self) -> list[Recorded]:
        """Every request received so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[Recorded]:
        """The requests, once at least ``count`` have arrived (or the timeout passed)."""
        end = time.monotonic() + timeout
        while len(self._requests) < count and time.monotonic() < end:
            time.sleep(0.01)
        return self.requests

    # -- life cycle --------------------------------------------------------------------------

    def __enter__(self) -> HostileServer:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(_POLL)
        self._listener = listener
        self.port = listener.getsockname()[1]
        if self.tls:
            cert, key = _certificate()
            self._tmp = tempfile.TemporaryDirectory(prefix="hostile-")
            self.ca_file = os.path.join(self._tmp.name, "cert.pem")
            key_file = os.path.join(self._tmp.name, "key.pem")
            with open(self.ca_file, "wb") as out:
                out.write(cert)
            with open(key_file, "wb") as out:
                out.write(key)
            self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._context.load_cert_chain(self.ca_file, key_file)
        self._start(self._accept, "accept")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
        if self.strict and self.errors and kind is None:
            raise RuntimeError(f"hostile server handler failed: {self.errors[0]!r}") from (
                self.errors[0]
            )

    def close(self) -> None:
        """Stop accepting, end every connection and join every thread (idempotent)."""
        self._stop.set()
        end = time.monotonic() + 10 * _POLL + 5.0
        while True:  # a handler may still start just before the accept loop ends
            with self._lock:
                alive = [t for t in self._threads if t.is_alive()]
            if not alive:
                break
            if time.monotonic() >= end:
                raise RuntimeError(f"hostile server threads did not stop: {alive}")
            alive[0].join(max(0.0, end - time.monotonic()))
        if self._listener is not None:
            self._listener.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _start(self, target: Callable[..., None], name: str, *args: Any) -> None:
        thread = threading.Thread(
            target=target, args=args, name=f"hostile-{self.port}-{name}", daemon=True
        )
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        assert self._listener is not None
        serial = itertools.count(1)
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._start(self._serve, f"conn-{next(serial)}", sock)

    def _serve(self, sock: socket.socket) -> None:
        until = time.monotonic() + self.cap
        try:
            sock.settimeout(_POLL)  # every blocking call returns to check stop and cap
            if self._context is not None:
                sock = self._handshake(sock, until)
            wire = _Wire(sock, self._stop, until)
            wire.keep_alive = self.keep_alive
            while True:
                request = wire.read_request()
                if request is None:
                    return
                if isinstance(request, int):
                    wire.keep_alive = False
                    Answer.status(request).write(wire, _EMPTY)
                    return
                with self._lock:
                    self._requests.append(request)
                self._answer_for(request).write(wire, request)
                if not wire.keep_alive:
                    return
        except _Gone:
            return
        except OSError:
            return
        except Exception as exc:  # a bug in the fixture or a callable answer: keep it
            with self._lock:
                self.errors.append(exc)
        finally:
            sock.close()

    def _handshake(self, sock: socket.socket, until: float) -> ssl.SSLSocket:
        assert self._context is not None
        wrapped = self._context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        while True:
            if self._stop.is_set() or time.monotonic() >= until:
                wrapped.close()
                raise _Gone
            try:
                wrapped.do_handshake()
                return wrapped
            except TimeoutError:
                continue
            except OSError as exc:  # not TLS, or the client refused our certificate
                wrapped.close()
                raise _Gone from exc

    def _answer_for(self, request: Recorded) -> Answer:
        with self._lock:
            routes = list(reversed(self._routes))
        for prefix in (False, True):
            for candidate in routes:
                if candidate.prefix == prefix and candidate.matches(request):
                    return candidate.answer
        return self.fallback


#: Stands in for a request that could not be read (answered 400 / 413 / 431).
_EMPTY = Recorded("GET", "/", {}, b"", 0.0)
