"""Who a request came from, as the web side's log names it and as its limits count it (e-mail
addresses: feedkit.privacy)."""

from __future__ import annotations

import ipaddress

from starlette.requests import Request

# One IPv6 host is given a /64 to itself: counting its addresses one by one would let it rotate
# through them and never meet a limit.
IPV6_CLIENT_PREFIX = 64


def client_address(request: Request) -> str:
    """The client's address as uvicorn has it (X-Forwarded-For only from a trusted proxy)."""
    return request.client.host if request.client else "unknown"


def client_key(request: Request) -> str:
    """Who a limit counts: the address, or for IPv6 the /64 network it belongs to."""
    address = client_address(request)
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is that IPv4 client
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(parsed)
