"""A WebSub hub stand-in: a real HTTP server on loopback that records every POST it receives and
answers with the statuses it is given (204 once they run out), or 400 to a malformed request."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass(frozen=True, slots=True)
class Ping:
    path: str
    content_type: str
    form: dict[str, list[str]]


@dataclass
class HubRecord:
    pings: list[Ping] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answers to give, in order
    lock: threading.Lock = field(default_factory=threading.Lock)

    def published(self) -> list[str]:
        """The feed URL of every publish ping, in the order received."""
        return [
            ping.form["hub.url"][0] for ping in self.pings if ping.form["hub.mode"] == ["publish"]
        ]


def well_formed(ping: Ping) -> bool:
    """A publish request as the WebSub spec's hubs take it: a form with one hub.mode=publish and
    one http(s) hub.url."""
    urls = ping.form.get("hub.url", [])
    return (
        ping.content_type == "application/x-www-form-urlencoded"
        and ping.form.get("hub.mode") == ["publish"]
        and len(urls) == 1
        and urls[0].startswith(("https://", "http://"))
    )


class HubServer:
    """Start with `start()`; `url` is the hub's address; `record` what it received."""

    def __init__(self) -> None:
        self.record = HubRecord()
        record = self.record

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode("ascii")
                ping = Ping(self.path, self.headers.get("Content-Type", ""), parse_qs(body))
                with record.lock:
                    record.pings.append(ping)
                    status = record.statuses.pop(0) if record.statuses else 204
                if not well_formed(ping):
                    status = 400  # as a real hub answers a request it cannot read
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the record is what tests read."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hub"

    def start(self) -> HubServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
