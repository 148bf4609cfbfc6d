"""The lean Bot API client against real sockets: keep-alive, TLS, servers that close, hang or answer badly."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bot.lean_http import HTTPConnectionError, LeanHTTP, Origin

OK_BODY = b'{"ok":true,"result":true}'
Serve = Callable[..., asyncio.Future[tuple["Server", int]]]  # start a server: (answer, ssl) -> (server, port)


def ok_response(body: bytes = OK_BODY, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s" % (
        len(body),
        extra,
        body,
    )


class Server:
    """A raw HTTP server whose answer to each request is chosen by the test."""

    def __init__(self, answer: Callable[[int, bytes], bytes | None]) -> None:
        self.answer = answer  # (request number, request bytes) -> response bytes; None: close without answering
        self.requests: list[bytes] = []
        self.connections = 0
        self.writers: list[asyncio.StreamWriter] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                parts = head.lower().split(b"content-length:")
                length = int(parts[1].split(b"\r\n")[0]) if len(parts) > 1 else 0
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                response = self.answer(len(self.requests), request)
                if response is None:
                    break
                writer.write(response)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[asyncio.Server] = []

    async def start(
        answer: Callable[[int, bytes], bytes | None], ssl_context: ssl.SSLContext | None = None
    ) -> tuple[Server, int]:
        state = Server(answer)
        server = await asyncio.start_server(state.handle, "127.0.0.1", 0, ssl=ssl_context)
        servers.append(server)
        return state, server.sockets[0].getsockname()[1]

    yield start  # type: ignore[misc]
    for server in servers:
        server.close()


def client(port: int, **kwargs: object) -> LeanHTTP:
    return LeanHTTP(Origin(host="127.0.0.1", port=port, tls=False), **kwargs)  # type: ignore[arg-type]


async def test_requests_reuse_one_kept_alive_connection(serve: Serve) -> None:
    server, port = await serve(lambda n, req: ok_response(b'{"n":%d}' % n))
    http = client(port)
    answers = [await http.post("/bot1:x/getMe", b'{"a":1}') for _ in range(5)]
    assert answers == [(200, b'{"n":%d}' % n) for n in range(1, 6)]
    assert server.connections == 1
    first = server.requests[0]
    assert first.startswith(b"POST /bot1:x/getMe HTTP/1.1\r\n")
    assert b"Content-Type: application/json\r\n" in first and first.endswith(b'\r\n\r\n{"a":1}')
    assert f"Host: 127.0.0.1:{port}".encode() in first
    http.close()
    assert http.open_connections == 0


async def test_a_get_carries_no_body_headers(serve: Serve) -> None:
    server, port = await serve(lambda n, req: ok_response())
    assert await client(port).request("GET", "/c/chats/1/messages?wait=0.5") == (200, OK_BODY)
    assert server.requests == [f"GET /c/chats/1/messages?wait=0.5 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()]


async def test_connection_close_header_is_honoured(serve: Serve) -> None:
    server, port = await serve(lambda n, req: ok_response(extra=b"Connection: close\r\n"))
    http = client(port)
    for _ in range(3):
        assert await http.post("/m", b"{}") == (200, OK_BODY)
    assert server.connections == 3


async def test_chunked_and_error_statuses_come_back_whole(serve: Serve) -> None:
    chunked = b'HTTP/1.1 429 Too Many Requests\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"ok"\r\n3\r\n:0}\r\n0\r\n\r\n'
    _server, port = await serve(lambda n, req: chunked)
    assert await client(port).post("/m", b"{}") == (429, b'{"ok":0}')


async def test_a_kept_alive_connection_closed_by_the_server_is_retried_once_on_a_new_one(
    serve: Serve,
) -> None:
    server, port = await serve(lambda n, req: ok_response())
    http = client(port)
    assert await http.post("/m", b"{}") == (200, OK_BODY)
    for writer in server.writers:  # the server drops its idle connection, as servers do after a while
        writer.close()
    await asyncio.sleep(0.05)
    assert await http.post("/m", b"{}") == (200, OK_BODY)
    assert server.connections == 2


async def test_a_reused_connection_closed_before_any_answer_is_resent_once(
    serve: Serve,
) -> None:
    server, port = await serve(lambda n, req: None if n == 2 else ok_response())
    http = client(port)
    assert await http.post("/m", b"{}") == (200, OK_BODY)
    assert await http.post("/m", b"{}") == (200, OK_BODY)
    assert (len(server.requests), server.connections) == (3, 2)


async def test_a_fresh_connection_that_closes_without_answer_fails_without_resending(
    serve: Serve,
) -> None:
    server, port = await serve(lambda n, req: None)
    with pytest.raises(HTTPConnectionError):
        await client(port).post("/m", b"{}")
    assert len(server.requests) == 1  # a call that may have been performed is not silently sent twice


async def test_malformed_response_fails_and_the_connection_is_not_reused(
    serve: Serve,
) -> None:
    server, port = await serve(lambda n, req: b"NOT HTTP AT ALL\r\n\r\n" if n == 1 else ok_response())
    http = client(port)
    with pytest.raises(HTTPConnectionError, match="malformed"):
        await http.post("/m", b"{}")
    assert await http.post("/m", b"{}") == (200, OK_BODY)
    assert server.connections == 2


async def test_a_silent_server_times_out_and_its_connection_is_dropped(
    serve: Serve,
) -> None:
    server, port = await serve(lambda n, req: b"" if n == 1 else ok_response())
    http = client(port)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(http.post("/m", b"{}"), 0.2)
    assert await http.post("/m", b"{}") == (200, OK_BODY)
    assert server.connections == 2


async def test_nothing_listening_is_a_connection_error() -> None:
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    with pytest.raises(HTTPConnectionError, match="cannot connect"):
        await client(port).post("/m", b"{}")


async def test_open_connections_stay_within_the_limit(serve: Serve) -> None:
    server, port = await serve(lambda n, req: ok_response())
    http = client(port, limit=3)
    answers = await asyncio.gather(*(http.post("/m", b"{}") for _ in range(30)))
    assert answers == [(200, OK_BODY)] * 30
    assert server.connections <= 3


def self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for 127.0.0.1, and a client context that trusts only it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_file, key_file)
    return server_context, ssl.create_default_context(cafile=str(cert_file))


async def test_https_verifies_the_certificate(serve: Serve, tmp_path: Path) -> None:
    server_context, trusting = self_signed(tmp_path)
    server, port = await serve(lambda n, req: ok_response(), server_context)
    origin = Origin.parse(f"https://127.0.0.1:{port}/bot1:x/getMe")
    assert origin == Origin(host="127.0.0.1", port=port, tls=True)
    http = LeanHTTP(origin, ssl_context=trusting)
    assert await http.post("/m", b"{}") == (200, OK_BODY)
    assert await http.post("/m", b"{}") == (200, OK_BODY)
    assert server.connections == 1
    http.close()
    # The system's trust store does not know this certificate: the handshake must fail, not fall back.
    with pytest.raises(HTTPConnectionError):
        await LeanHTTP(origin).post("/m", b"{}")


def test_origin_parsing() -> None:
    assert Origin.parse("https://api.telegram.org/bot1:x/getMe") == Origin("api.telegram.org", 443, True)
    assert Origin.parse("http://127.0.0.1:8081/bot1:x/getMe") == Origin("127.0.0.1", 8081, False)
    with pytest.raises(ValueError):
        Origin.parse("ftp://example.org/")
