"""A real HTTP server for tests: records every request it is sent (a webhook, a ping) and
answers 200, or 503 while `down` is set."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class HttpSink:
    """Start with `start()`, stop with `stop()`; `requests` holds what arrived, in order."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.down = False
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._record(b"")

            def do_POST(self) -> None:
                self._record(self.rfile.read(int(self.headers.get("Content-Length", 0))))

            def _record(self, body: bytes) -> None:
                if not sink.down:
                    sink.requests.append(Request(self.command, self.path, body))
                self.send_response(503 if sink.down else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass  # quiet: the test asserts on `requests`

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def on(self, path: str) -> list[Request]:
        return [request for request in self.requests if request.path == path]

    def start(self) -> HttpSink:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
