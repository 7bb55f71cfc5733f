"""Who a request came from, as the web side's log names it (e-mail addresses: feedkit.privacy)."""

from __future__ import annotations

from starlette.requests import Request


def client_address(request: Request) -> str:
    """The client's address as uvicorn has it (X-Forwarded-For only from a trusted proxy)."""
    return request.client.host if request.client else "unknown"
