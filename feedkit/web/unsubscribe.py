"""One-click unsubscribe: a GET (or a mail scanner's HEAD) shows a button and changes nothing;
the button, or a mail client's RFC 8058 POST, unsubscribes."""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from feedkit.config import Config
from feedkit.newsletter import readers
from feedkit.privacy import address_tag
from feedkit.web.pages import Pages

logger = logging.getLogger("feedkit.web")


class Unsubscribing:
    """The unsubscribe page and its POST."""

    def __init__(self, config: Config, pages: Pages) -> None:
        self.config = config
        self.pages = pages

    async def ask(self, request: Request) -> Response:
        """The address the link is for, and one button: nothing changes yet."""
        token = request.query_params.get("t", "")
        address = readers.address_of_token(token) if token else None
        if address is None:
            return self._invalid_link()
        return self.pages.render("unsubscribe.html.j2", address=address, token=token)

    async def unsubscribe(self, request: Request) -> Response:
        token = request.query_params.get("t", "")
        if not token:
            return self._invalid_link()
        done = await run_in_threadpool(readers.unsubscribe_with_token, self.config, token)
        if done is None:
            return self._invalid_link()
        address, changed = done
        outcome = "unsubscribed" if changed else "was not subscribed"
        logger.info("unsubscribe: %s %s", address_tag(address), outcome)
        message = f"{address} will receive no more e-mail from {self.config.site.title}."
        return self.pages.message(200, "You are unsubscribed", message)

    def _invalid_link(self) -> HTMLResponse:
        advice = "Please use the link from the most recent e-mail."
        message = f"This unsubscribe link is not valid. {advice}"
        return self.pages.message(400, "Link not valid", message)
