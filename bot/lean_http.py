"""A small HTTP/1.1 client for requests to one server over kept-alive connections (the Bot API's JSON calls).

aiohttp's client costs about 190 µs of CPU per call here, a lean protocol about 45 µs (measured side by side
against the same server); the bot makes about two calls per update, so this is several percent of its CPU.
It does only what Bot API JSON calls need: POST with a body (GET too, for the benchmark), status and body
back, TLS, keep-alive, a bound on open connections (callers add the timeout). Uploads and proxies stay on
aiohttp.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from dataclasses import dataclass
from typing import cast

import httptools
from yarl import URL

IDLE_SECONDS = 10.0  # drop a kept-alive connection idle longer than this: servers close theirs after a while


class HTTPConnectionError(ConnectionError):
    """The connection failed or closed before a whole response arrived."""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where requests go: scheme, host and port (the path comes with each request)."""

    host: str
    port: int
    tls: bool

    @classmethod
    def parse(cls, url: str | URL) -> Origin:
        """The origin of an http:// or https:// URL."""
        parsed = URL(url)  # an URL object is taken as it is
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"not an http(s) URL: {parsed.scheme}://…")
        assert parsed.port is not None  # yarl fills in the scheme's default port
        return cls(host=parsed.host, port=parsed.port, tls=parsed.scheme == "https")


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection carrying one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.body: list[bytes] = []
        self.received = False  # any byte of the current response
        self.closed = False
        self.reusable = False
        self.idle_since = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport (uvloop's transports do not subclass asyncio's, hence no isinstance check)."""
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        """Feed the parser; a malformed response fails the request and the connection."""
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(HTTPConnectionError(f"malformed response: {exc}"))
            self.close()

    def on_body(self, body: bytes) -> None:
        """httptools callback: a piece of the body."""
        self.body.append(body)

    def on_message_complete(self) -> None:
        """httptools callback: the response is whole."""
        self.reusable = self.parser.should_keep_alive()
        waiter, self.waiter = self.waiter, None
        body, self.body = b"".join(self.body), []
        if waiter is not None and not waiter.done():
            waiter.set_result((self.parser.get_status_code(), body))

    def connection_lost(self, exc: Exception | None) -> None:
        """The peer or we closed it: a request still waiting fails."""
        self.closed = True
        self._fail(HTTPConnectionError(f"connection closed: {type(exc).__name__ if exc else 'by the server'}"))

    def _fail(self, exc: Exception) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def send(self, request: bytes) -> asyncio.Future[tuple[int, bytes]]:
        """Write a whole request; the future gets (status, body)."""
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.received = False
        self.reusable = False
        self.transport.write(request)
        return self.waiter

    def close(self) -> None:
        """Close without waiting."""
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class LeanHTTP:
    """Requests to one origin; at most `limit` connections open, idle ones reused newest first."""

    def __init__(self, origin: Origin, *, limit: int = 100, ssl_context: ssl.SSLContext | None = None) -> None:
        self.origin = origin
        self._ssl = (ssl_context or ssl.create_default_context()) if origin.tls else None
        self._slots = asyncio.Semaphore(limit) if limit > 0 else None
        self._idle: deque[_Connection] = deque()
        self._open: set[_Connection] = set()
        host = origin.host if ":" not in origin.host else f"[{origin.host}]"
        default_port = 443 if origin.tls else 80
        self._host_header = (host if origin.port == default_port else f"{host}:{origin.port}").encode("idna")

    async def post(self, path: str, body: bytes, content_type: str = "application/json") -> tuple[int, bytes]:
        """POST `body` to `path`; (status, response body). Raises HTTPConnectionError.

        Callers bound it with `asyncio.timeout`: a request cancelled midway closes its connection.
        """
        return await self.request("POST", path, body, content_type)

    async def request(
        self, method: str, path: str, body: bytes = b"", content_type: str = "application/json"
    ) -> tuple[int, bytes]:
        """Any method with an optional body (the benchmark's load generator also GETs)."""
        head = b"%s %s HTTP/1.1\r\nHost: %s\r\n" % (method.encode(), path.encode(), self._host_header)
        if body or method != "GET":
            head += b"Content-Type: %s\r\nContent-Length: %d\r\n" % (content_type.encode(), len(body))
        request = head + b"\r\n" + body
        if self._slots is None:
            return await self._exchange(request)
        async with self._slots:
            return await self._exchange(request)

    async def _exchange(self, request: bytes) -> tuple[int, bytes]:
        conn, reused = self._take_idle(), True
        if conn is None:
            conn, reused = await self._connect(), False
        try:
            status, body = await self._round_trip(conn, request)
        except HTTPConnectionError:
            if not (reused and not conn.received):
                raise
            # The classic keep-alive race: the server closed an idle connection as we sent on it, before it
            # answered a byte. Sending again on a fresh connection is what browsers do.
            conn = await self._connect()
            status, body = await self._round_trip(conn, request)
        self._release(conn)
        return status, body

    async def _round_trip(self, conn: _Connection, request: bytes) -> tuple[int, bytes]:
        try:
            return await conn.send(request)
        except BaseException:
            # Timed out, cancelled or failed midway: the connection's state is unknown, so it is not reused.
            self._discard(conn)
            raise

    def _take_idle(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed and now - conn.idle_since < IDLE_SECONDS:
                return conn
            self._discard(conn)
        return None

    async def _connect(self) -> _Connection:
        try:
            _transport, conn = await asyncio.get_running_loop().create_connection(
                _Connection,
                self.origin.host,
                self.origin.port,
                ssl=self._ssl,
                server_hostname=self.origin.host if self._ssl is not None else None,
            )
        except OSError as exc:
            raise HTTPConnectionError(f"cannot connect: {type(exc).__name__}") from exc
        self._open.add(conn)
        return conn

    def _release(self, conn: _Connection) -> None:
        if conn.closed or not conn.reusable:
            self._discard(conn)
            return
        conn.idle_since = time.monotonic()
        self._idle.append(conn)

    def _discard(self, conn: _Connection) -> None:
        self._open.discard(conn)
        conn.close()

    @property
    def open_connections(self) -> int:
        """Connections currently open (idle or busy)."""
        return sum(1 for conn in self._open if not conn.closed)

    def close(self) -> None:
        """Close every connection; requests in flight fail."""
        for conn in list(self._open):
            self._discard(conn)
        self._idle.clear()
