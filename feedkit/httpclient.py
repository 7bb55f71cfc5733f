"""Outgoing HTTP, in one place: WebSub pings, hooks, alert webhooks and dead man's switches.

A request is sent and its answer's body thrown away; what went wrong comes back as HttpFailure,
with the status when the server answered. Only http(s) URLs are taken (config checks them first).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping
from urllib.parse import urlsplit

from feedkit import __version__

USER_AGENT = f"feedkit/{__version__}"


class HttpFailure(Exception):  # noqa: N818 - an outcome callers decide on, not a bug
    """The request did not get a 2xx answer: `status` is the server's answer, None when none
    came (unreachable, refused, timed out)."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status

    @property
    def refused(self) -> bool:
        """The server said no to this request as it is: asking again will not help."""
        return self.status is not None and 400 <= self.status < 500 and self.status != 429


def send(
    url: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    *,
    timeout: float = 10,
) -> int:
    """POST `body` (GET without one) to `url`: the answer's status; HttpFailure unless it is
    2xx."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise HttpFailure("not an http(s) URL")
    all_headers = {"User-Agent": USER_AGENT, **(headers or {})}
    method = "GET" if body is None else "POST"
    request = urllib.request.Request(url, body, all_headers, method=method)  # noqa: S310 - checked
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - checked
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        raise HttpFailure(f"HTTP {error.code} {error.reason}", error.code) from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise HttpFailure(f"cannot be reached ({reason})") from None
