"""A loopback HTTP server that answers as a provider does, from recorded fixtures (fixtures/validate/*.json).

Each fixture file carries `source`, the provider documentation page its answers were shaped after, and
`cases`: name -> {status, headers, body (JSON value or text), delay (seconds)}. The server records every
request it receives and the highest number of requests it was handling at once.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "validate"


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


Responder = Callable[[Received], Reply]


def load_fixture(provider: str) -> dict[str, Any]:
    """The fixture document for `provider`; it must name its source."""
    document: dict[str, Any] = json.loads((FIXTURES / f"{provider}.json").read_text())
    assert document.get("source", "").startswith("https://"), f"{provider}.json has no source URL"
    return document


def case(provider: str, name: str, **overrides: Any) -> Reply:
    """One recorded case of a provider's fixture as a Reply (`_common` holds the cross-provider cases)."""
    spec = dict(load_fixture(provider)["cases"][name])
    spec.update(overrides)
    body = spec.get("body", b"")
    if isinstance(body, (dict, list)):
        payload = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **spec.get("headers", {})}
    else:
        payload = body.encode() if isinstance(body, str) else body
        headers = dict(spec.get("headers", {}))
    return Reply(int(spec["status"]), headers, payload, float(spec.get("delay", 0.0)))


class ProviderServer:
    """The running server: `url`, `requests` received, `peak_concurrency`; `responder` decides each answer."""

    def __init__(
        self, responder: Responder, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None
    ) -> None:
        self.responder = responder
        self.requests: list[Received] = []
        self.peak_concurrency = 0
        self._active = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self.host, self.port = host, int(self._httpd.server_address[1])
        self.url = f"http://{host}:{self.port}"
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
            self.url = f"https://{host}:{self.port}"

    def _enter(self, received: Received) -> None:
        with self._lock:
            self.requests.append(received)
            self._active += 1
            self.peak_concurrency = max(self.peak_concurrency, self._active)

    def _leave(self) -> None:
        with self._lock:
            self._active -= 1

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received = Received(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
                server._enter(received)
                try:
                    reply = server.responder(received)
                    if reply.delay:
                        time.sleep(reply.delay)
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    server._leave()
                    self.close_connection = True

            do_GET = do_POST = do_DELETE = do_PUT = do_HEAD = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler

    def start(self) -> None:
        threading.Thread(target=self._httpd.serve_forever, args=(0.02,), name="provider-server", daemon=True).start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@contextmanager
def serving(
    responder: Responder, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None
) -> Iterator[ProviderServer]:
    server = ProviderServer(responder, host, port, tls)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def by_path(routes: Mapping[str, Reply | Responder], default: Reply | None = None) -> Responder:
    """Answer by request path (query string ignored); a route may itself be a responder."""

    def respond(received: Received) -> Reply:
        route = routes.get(received.path.split("?", 1)[0])
        if route is None:
            return default or Reply(404, {"Content-Type": "application/json"}, b'{"message":"Not Found"}')
        return route(received) if callable(route) else route

    return respond


def by_token(answers: Mapping[str, Reply], header: str = "Authorization") -> Responder:
    """Answer by which known token the `header` carries (as `Bearer x`, `token x` or the bare value)."""

    def respond(received: Received) -> Reply:
        value = received.header(header) or ""
        for token, reply in answers.items():
            if value.split(" ")[-1] == token or value == token:
                return reply
        return Reply(401, {"Content-Type": "application/json"}, b'{"message":"Bad credentials"}')

    return respond
