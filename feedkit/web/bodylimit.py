"""A cap on how much a request may send: every form feedkit takes is a few hundred bytes, and
without a cap anyone could make the server hold or spool gigabytes before a single check runs.

A body announced as larger is refused before it is read; one that turns out larger while it is
read is refused as soon as it passes the cap.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 64 * 1024  # the largest form (topics, a name, an address) is well under 4 KB
TOO_LARGE = 413


class BodyLimit:
    """ASGI middleware: a 413 for any request body over `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._announced_size(scope) > self.max_bytes:
            await self._refuse(send)
            return
        await self.app(scope, self._counting(receive), send)

    def _announced_size(self, scope: Scope) -> int:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                return int(value) if value.isdigit() else self.max_bytes + 1
        return 0

    def _counting(self, receive: Receive) -> Receive:
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                # Raised inside the app's read: Starlette answers it with a plain 413.
                raise HTTPException(TOO_LARGE, "Request body too large")
            return message

        return counted

    async def _refuse(self, send: Send) -> None:
        body = b"Request body too large"
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": TOO_LARGE, "headers": headers})
        await send({"type": "http.response.body", "body": body})
